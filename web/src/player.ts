// A <video> playing HLS through hls.js, with the stream's program date time at hand.

import Hls, { Events, type LevelDetails } from 'hls.js';
import { type TimedSegment, dateAtTime, timeAtDate } from './pdt';

export interface PlayerEvents {
  /** A playlist (re)loaded: the timeline's span or mapping may have moved. */
  onTimeline?: () => void;
  /** Playback stopped for good (hls.js gave up); the message says why. */
  onFatal?: (message: string) => void;
}

/** Whether this browser can play HLS at all: through Media Source Extensions or natively. */
export function canPlayHls(video: HTMLVideoElement): boolean {
  return Hls.isSupported() || video.canPlayType('application/vnd.apple.mpegurl') !== '';
}

export class StreamPlayer {
  private hls: Hls | null = null;
  /** The latest playlist of the playing rendition. hls.js corrects its segments' `start` in
   * place once their media is parsed, so it is read when needed, not copied. */
  private details: LevelDetails | null = null;

  constructor(
    readonly video: HTMLVideoElement,
    private readonly events: PlayerEvents = {},
  ) {}

  /** Plays `url`, replacing whatever played before. */
  load(url: string): void {
    this.stop();
    if (!Hls.isSupported()) {
      // Safari without MSE plays HLS itself; no program date times then, so no marking.
      this.video.src = url;
      return;
    }
    // Played-out video is dropped after 90 s; the DVR window is re-fetched when scrubbed to.
    const hls = new Hls({ backBufferLength: 90 });
    const onDetails = (_: unknown, data: { details: LevelDetails }) => {
      this.details = data.details;
      this.events.onTimeline?.();
    };
    hls.on(Events.LEVEL_LOADED, onDetails);
    hls.on(Events.LEVEL_UPDATED, onDetails);
    hls.on(Events.ERROR, (_, data) => {
      if (data.fatal) this.events.onFatal?.(`${data.type}: ${data.details}`);
    });
    hls.loadSource(url);
    hls.attachMedia(this.video);
    this.hls = hls;
  }

  /** Stops playback and releases the stream. */
  stop(): void {
    this.hls?.destroy();
    this.hls = null;
    this.details = null;
    this.video.removeAttribute('src');
    this.video.load();
  }

  /** The playlist's segments on the media timeline, with their program date times. */
  segments(): TimedSegment[] {
    return (this.details?.fragments ?? []).flatMap((f) =>
      f.programDateTime === null ? [] : [{ start: f.start, duration: f.duration, pdt: f.programDateTime }],
    );
  }

  /** The media time span the playlist covers, or null before it loaded. */
  span(): { start: number; end: number } | null {
    const segments = this.segments();
    const first = segments[0];
    const last = segments[segments.length - 1];
    return first && last ? { start: first.start, end: last.start + last.duration } : null;
  }

  /** Program date time (epoch ms) at the playhead. */
  playheadDate(): number | null {
    return this.dateAt(this.video.currentTime);
  }

  dateAt(time: number): number | null {
    return dateAtTime(this.segments(), time);
  }

  timeAt(date: number): number | null {
    return timeAtDate(this.segments(), date);
  }

  /** Moves the playhead to program date time `date`; false when the playlist does not (or not
   * yet) cover it. */
  seekToDate(date: number): boolean {
    const time = this.timeAt(date);
    const span = this.span();
    if (time === null || !span || time < span.start || time > span.end) return false;
    this.video.currentTime = time;
    return true;
  }

  /** Seconds behind the live edge hls.js aims to play at, and how far behind it plays now. */
  liveLatency(): { target: number; actual: number } | null {
    const target = this.hls?.targetLatency;
    if (!this.hls || !this.details?.live || target == null) return null;
    return { target, actual: this.hls.latency };
  }

  /** Back to the live edge (the point hls.js keeps a safe distance from it). */
  goLive(): void {
    const position = this.hls?.liveSyncPosition;
    if (position != null) this.video.currentTime = position;
    // A refused play() (autoplay policy) leaves the video paused with its controls: nothing to do.
    void this.video.play().catch(() => undefined);
  }
}
