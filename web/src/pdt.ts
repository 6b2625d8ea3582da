// Mapping between the player's media time and the stream's program date time (PDT).
//
// Clip windows are wall-clock times (MediaPackage harvests by PDT), while the <video> element
// only knows seconds on its own timeline. The playlist gives both for every segment: hls.js
// puts the segment's place on the media timeline in `start` and its EXT-X-PROGRAM-DATE-TIME
// in `programDateTime`. Within a segment, time runs at the same rate on both.

export interface TimedSegment {
  /** Seconds on the media timeline. */
  start: number;
  duration: number;
  /** Epoch milliseconds. */
  pdt: number;
}

/** The segment holding `time`, or the nearest one when `time` is outside them all. */
function segmentAtTime(segments: readonly TimedSegment[], time: number): TimedSegment | undefined {
  return nearest(segments, (s) => (time < s.start ? -1 : time >= s.start + s.duration ? 1 : 0));
}

function segmentAtDate(segments: readonly TimedSegment[], date: number): TimedSegment | undefined {
  return nearest(segments, (s) => (date < s.pdt ? -1 : date >= s.pdt + s.duration * 1000 ? 1 : 0));
}

/**
 * Binary search over segments sorted by time; `side` says whether the target lies before (-1),
 * inside (0) or after (1) a segment. A live playlist holds hundreds of segments and this runs
 * on every `timeupdate`.
 */
function nearest(
  segments: readonly TimedSegment[],
  side: (segment: TimedSegment) => number,
): TimedSegment | undefined {
  let low = 0;
  let high = segments.length - 1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const segment = segments[middle]!;
    const where = side(segment);
    if (where === 0) return segment;
    if (where < 0) high = middle - 1;
    else low = middle + 1;
  }
  // Not inside any segment: `low` is where it would be inserted; take the neighbour there (and
  // nothing when there are no segments).
  return segments[Math.min(low, segments.length - 1)];
}

/** The PDT (epoch ms) shown at media `time`, or null without segments. */
export function dateAtTime(segments: readonly TimedSegment[], time: number): number | null {
  const segment = segmentAtTime(segments, time);
  return segment ? segment.pdt + (time - segment.start) * 1000 : null;
}

/** The media time at which PDT `date` (epoch ms) is shown, or null without segments. */
export function timeAtDate(segments: readonly TimedSegment[], date: number): number | null {
  const segment = segmentAtDate(segments, date);
  return segment ? segment.start + (date - segment.pdt) / 1000 : null;
}
