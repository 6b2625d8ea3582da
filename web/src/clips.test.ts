import { describe, expect, it } from 'vitest';
import type { Clip, ClipStatus } from './api';
import { BUSY_POLL_MS, IDLE_POLL_MS, mergeClips, pollDelay, statusChanges } from './clips';

function clip(id: string, status: ClipStatus, updatedAt = '2026-11-21T09:31:00.000Z'): Clip {
  return {
    competition: 'demo',
    id,
    title: id,
    description: '',
    start: '2026-11-21T09:30:00.000Z',
    end: '2026-11-21T09:30:30.000Z',
    status,
    playback: [],
    createdAt: '2026-11-21T09:31:00.000Z',
    updatedAt,
  };
}

describe('mergeClips', () => {
  it('lists newest first (by id, which sorts by start) without duplicates', () => {
    const merged = mergeClips(
      [clip('20261121T093000Z-a', 'READY')],
      [clip('20261121T094500Z-b', 'HARVESTING'), clip('20261121T093000Z-a', 'READY'), clip('20261121T090000Z-c', 'FAILED')],
    );
    expect(merged.map((c) => c.id)).toEqual(['20261121T094500Z-b', '20261121T093000Z-a', '20261121T090000Z-c']);
  });

  it('takes newer states but never moves a final clip back', () => {
    const packaging = mergeClips([clip('a', 'HARVESTING')], [clip('a', 'PACKAGING')]);
    expect(packaging[0]!.status).toBe('PACKAGING');
    const ready = mergeClips(packaging, [clip('a', 'READY')]);
    expect(mergeClips(ready, [clip('a', 'PACKAGING')])[0]!.status).toBe('READY');
  });
});

describe('statusChanges', () => {
  it('names clips whose status moved, not new ones', () => {
    const before = [clip('a', 'HARVESTING'), clip('b', 'READY')];
    const after = [clip('a', 'PACKAGING'), clip('b', 'READY'), clip('c', 'HARVESTING')];
    expect(statusChanges(before, after).map((c) => c.id)).toEqual(['a']);
  });
});

describe('pollDelay', () => {
  it('polls fast while a clip is unfinished', () => {
    expect(pollDelay([clip('a', 'READY'), clip('b', 'PACKAGING')])).toBe(BUSY_POLL_MS);
    expect(pollDelay([clip('a', 'READY'), clip('b', 'FAILED')])).toBe(IDLE_POLL_MS);
    expect(pollDelay([])).toBe(IDLE_POLL_MS);
  });
});
