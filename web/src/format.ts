// How times and lengths read on the page. Clip windows are UTC, as the API and the default
// clip titles state them, so the page does not mix in the viewer's time zone.

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** `09:31:02 UTC`, or `09:31:02.4 UTC` with `tenths`. */
export function clockTime(epochMs: number, tenths = false): string {
  const date = new Date(epochMs);
  const seconds = `${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}`;
  return `${seconds}${tenths ? `.${Math.floor(date.getUTCMilliseconds() / 100)}` : ''} UTC`;
}

/** `2026-11-21 09:31:02 UTC`. */
export function dateTime(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 10)} ${clockTime(epochMs)}`;
}

/** `45.0 s`, `2 min 05 s`, `1 h 02 min`. */
export function duration(ms: number): string {
  const totalSeconds = Math.round(ms / 100) / 10;
  if (totalSeconds < 60) return `${totalSeconds.toFixed(1)} s`;
  const seconds = Math.round(totalSeconds);
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${pad(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${pad(Math.floor(seconds / 60) % 60)} min`;
}

/** `-0:42` behind the live edge. */
export function behind(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  return `-${Math.floor(seconds / 60)}:${pad(seconds % 60)}`;
}
