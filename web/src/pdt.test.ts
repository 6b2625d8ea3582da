import { describe, expect, it } from 'vitest';
import { type TimedSegment, dateAtTime, timeAtDate } from './pdt';

const T0 = Date.UTC(2026, 10, 21, 9, 30, 0);

/** 2 s segments from media time 100 (hls.js's timeline rarely starts at 0), PDT from T0. */
const segments: TimedSegment[] = Array.from({ length: 5 }, (_, i) => ({
  start: 100 + 2 * i,
  duration: 2,
  pdt: T0 + 2000 * i,
}));

describe('dateAtTime', () => {
  it('maps a time inside a segment through that segment', () => {
    expect(dateAtTime(segments, 100)).toBe(T0);
    expect(dateAtTime(segments, 103.5)).toBe(T0 + 3500);
    expect(dateAtTime(segments, 109.9)).toBe(T0 + 9900);
  });

  it('extrapolates from the nearest segment outside the playlist', () => {
    expect(dateAtTime(segments, 98)).toBe(T0 - 2000);
    expect(dateAtTime(segments, 111)).toBe(T0 + 11_000);
  });

  it('follows each segment’s own date across a gap in program date time', () => {
    // After a discontinuity the date may jump while media time runs on.
    const jumped = [...segments, { start: 110, duration: 2, pdt: T0 + 60_000 }];
    expect(dateAtTime(jumped, 111)).toBe(T0 + 61_000);
    expect(dateAtTime(jumped, 109)).toBe(T0 + 9000);
  });

  it('knows nothing without segments', () => {
    expect(dateAtTime([], 5)).toBeNull();
    expect(timeAtDate([], T0)).toBeNull();
  });
});

describe('timeAtDate', () => {
  it('is the inverse of dateAtTime', () => {
    for (const time of [100, 101.25, 104, 107.75, 109.5]) {
      expect(timeAtDate(segments, dateAtTime(segments, time)!)).toBeCloseTo(time, 6);
    }
  });

  it('extrapolates before the first and after the last segment', () => {
    expect(timeAtDate(segments, T0 - 1000)).toBe(99);
    expect(timeAtDate(segments, T0 + 12_000)).toBe(112);
  });
});
