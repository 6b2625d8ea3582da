import { describe, expect, it } from 'vitest';
import { checkWindow, lastSeconds } from './marks';

const T = Date.UTC(2026, 10, 21, 9, 30, 0);

describe('checkWindow', () => {
  it('accepts an out point at least a second after the in point', () => {
    expect(checkWindow({ in: T, out: T + 45_000 })).toEqual({ ok: true, start: T, end: T + 45_000 });
    expect(checkWindow({ in: T, out: T + 1000 }).ok).toBe(true);
  });

  it('says which mark is missing', () => {
    expect(checkWindow({ in: null, out: null })).toMatchObject({ ok: false, field: 'start' });
    expect(checkWindow({ in: T, out: null })).toMatchObject({ ok: false, field: 'end' });
    expect(checkWindow({ in: null, out: T })).toMatchObject({ ok: false, field: 'start' });
  });

  it('refuses an out point before the in point, and too short or too long windows', () => {
    expect(checkWindow({ in: T, out: T })).toMatchObject({ ok: false, field: 'end' });
    expect(checkWindow({ in: T, out: T - 5000 })).toMatchObject({ ok: false, field: 'end' });
    expect(checkWindow({ in: T, out: T + 999 })).toMatchObject({ ok: false, field: 'duration' });
    expect(checkWindow({ in: T, out: T + 86_400_001 })).toMatchObject({ ok: false, field: 'duration' });
    expect(checkWindow({ in: T, out: T + 86_400_000 }).ok).toBe(true);
  });
});

describe('lastSeconds', () => {
  it('ends at the playhead', () => {
    expect(lastSeconds(T, 30)).toEqual({ in: T - 30_000, out: T });
    expect(lastSeconds(T, 60)).toEqual({ in: T - 60_000, out: T });
  });
});
