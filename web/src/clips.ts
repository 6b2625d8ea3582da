// The competition's clips as the page keeps them between polls.

import type { Clip, ClipStatus } from './api';

const FINAL: readonly ClipStatus[] = ['READY', 'FAILED'];

/** Polling while something is in progress: harvest and packaging take seconds. */
export const BUSY_POLL_MS = 2_000;
/** Polling otherwise, to pick up clips made by other producers. */
export const IDLE_POLL_MS = 15_000;

export function isFinal(clip: Clip): boolean {
  return FINAL.includes(clip.status);
}

/**
 * `current` updated with `incoming`, newest first as the API lists them (a clip id sorts by
 * the clip's start). A final clip is never replaced by an older, unfinished copy of itself: a
 * page fetched before the clip finished can arrive after a fresher single-clip answer.
 */
export function mergeClips(current: readonly Clip[], incoming: readonly Clip[]): Clip[] {
  const byId = new Map(current.map((clip) => [clip.id, clip]));
  for (const clip of incoming) {
    const known = byId.get(clip.id);
    if (!known || !(isFinal(known) && !isFinal(clip))) byId.set(clip.id, clip);
  }
  return [...byId.values()].sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Clips whose status differs between `before` and `after`, as they are after. */
export function statusChanges(before: readonly Clip[], after: readonly Clip[]): Clip[] {
  const previous = new Map(before.map((clip) => [clip.id, clip.status]));
  return after.filter((clip) => previous.has(clip.id) && previous.get(clip.id) !== clip.status);
}

export function pollDelay(clips: readonly Clip[]): number {
  return clips.every(isFinal) ? IDLE_POLL_MS : BUSY_POLL_MS;
}
