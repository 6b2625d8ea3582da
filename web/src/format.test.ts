import { describe, expect, it } from 'vitest';
import { behind, clockTime, dateTime, duration } from './format';

const T = Date.UTC(2026, 10, 21, 9, 3, 7, 480);

describe('format', () => {
  it('writes UTC clock times', () => {
    expect(clockTime(T)).toBe('09:03:07 UTC');
    expect(clockTime(T, true)).toBe('09:03:07.4 UTC');
    expect(dateTime(T)).toBe('2026-11-21 09:03:07 UTC');
  });

  it('writes lengths at a useful precision', () => {
    expect(duration(45_000)).toBe('45.0 s');
    expect(duration(1_260)).toBe('1.3 s');
    expect(duration(125_000)).toBe('2 min 05 s');
    expect(duration(3_720_000)).toBe('1 h 02 min');
  });

  it('writes how far behind live the player is', () => {
    expect(behind(42_400)).toBe('-0:42');
    expect(behind(125_000)).toBe('-2:05');
    expect(behind(-3)).toBe('-0:00');
  });
});
