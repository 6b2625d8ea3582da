import { describe, expect, it } from 'vitest';
import { dvrUrl, timeShiftUrl } from './timeshift';

const LIVE = 'http://127.0.0.1:4566/out/v1/demo-hls/index.m3u8';
const T = Date.UTC(2026, 10, 21, 9, 30, 0); // 1795253400 s

describe('timeShiftUrl', () => {
  it('asks for whole seconds covering the window', () => {
    expect(timeShiftUrl(LIVE, T + 400, T + 45_100)).toBe(`${LIVE}?start=1795253400&end=1795253446`);
    expect(timeShiftUrl(LIVE, T, T + 45_000)).toBe(`${LIVE}?start=1795253400&end=1795253445`);
  });

  it('leaves the end open for a live playlist from start', () => {
    expect(timeShiftUrl(LIVE, T)).toBe(`${LIVE}?start=1795253400`);
  });

  it('keeps a query and fragment the live URL already has', () => {
    expect(timeShiftUrl('/out/index.m3u8?token=x#t', T)).toBe('/out/index.m3u8?token=x&start=1795253400#t');
  });
});

describe('dvrUrl', () => {
  it('reaches back the DVR window, from the next whole minute', () => {
    expect(dvrUrl(LIVE, 600, T + 10_000)).toBe(`${LIVE}?start=${(T - 540_000) / 1000}`);
    expect(dvrUrl(LIVE, 600, T)).toBe(`${LIVE}?start=${(T - 600_000) / 1000}`);
  });

  it('plays the plain live playlist without a DVR window', () => {
    expect(dvrUrl(LIVE, 0, T)).toBe(LIVE);
  });
});
