// The clip window a producer marks on the timeline: in and out points as program date times.

/** In and out points, epoch milliseconds of program date time; null until marked. */
export interface Marks {
  in: number | null;
  out: number | null;
}

/** The longest clip the API accepts (MediaPackage harvests at most 24 hours). */
const MAX_CLIP_MS = 86_400_000;
/** Shorter than this is a slip of the finger, not a clip. */
const MIN_CLIP_MS = 1_000;

/** Which form field a problem with the window concerns, named as the API names them. */
export type WindowField = 'start' | 'end' | 'duration';

export type WindowCheck =
  | { ok: true; start: number; end: number }
  | { ok: false; field: WindowField; message: string };

/** Whether the marks make a clip window, and if not, what is missing or wrong. */
export function checkWindow(marks: Marks): WindowCheck {
  if (marks.in === null) return { ok: false, field: 'start', message: 'Mark an in point.' };
  if (marks.out === null) return { ok: false, field: 'end', message: 'Mark an out point.' };
  if (marks.out <= marks.in) return { ok: false, field: 'end', message: 'The out point must be after the in point.' };
  const length = marks.out - marks.in;
  if (length < MIN_CLIP_MS) return { ok: false, field: 'duration', message: 'A clip must last at least 1 second.' };
  if (length > MAX_CLIP_MS) return { ok: false, field: 'duration', message: 'A clip can last at most 24 hours.' };
  return { ok: true, start: marks.in, end: marks.out };
}

/** The `seconds` up to the playhead: what "last 30 s" means while watching. */
export function lastSeconds(playhead: number, seconds: number): Marks {
  return { in: playhead - seconds * 1000, out: playhead };
}
