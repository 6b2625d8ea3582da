// URLs of the origin's time-shifted playlists (`?start=&end=` on the live playlist URL, served
// from the endpoint's startover window), in epoch seconds: the notation every MediaPackage
// origin accepts.

/**
 * The live stream from `start` onwards (an EVENT playlist growing with the stream), or the
 * closed window `[start, end]` when `end` is given. Whole seconds, widened outwards so the
 * window covers the marks; the origin snaps it to whole segments anyway.
 */
export function timeShiftUrl(liveUrl: string, start: number, end: number | null = null): string {
  const query = new URLSearchParams({ start: String(Math.floor(start / 1000)) });
  if (end !== null) query.set('end', String(Math.ceil(end / 1000)));
  const [path, fragment] = splitFragment(liveUrl);
  return `${path}${path.includes('?') ? '&' : '?'}${query}${fragment}`;
}

function splitFragment(url: string): [string, string] {
  const hash = url.indexOf('#');
  return hash < 0 ? [url, ''] : [url.slice(0, hash), url.slice(hash)];
}

/**
 * The live stream with `dvrWindowSeconds` to scrub back through. The start is rounded up to
 * the minute: viewers who open the page within the same minute then share one playlist URL
 * (one CDN cache entry), and the window never reaches further back than configured, where the
 * startover window could end.
 */
export function dvrUrl(liveUrl: string, dvrWindowSeconds: number, now: number): string {
  if (dvrWindowSeconds <= 0) return liveUrl;
  const start = Math.ceil((now - dvrWindowSeconds * 1000) / 60_000) * 60_000;
  return timeShiftUrl(liveUrl, start);
}
