// The live stage: the live player with its DVR window, the timeline (scrubber) showing where
// the marks are, and the live/behind indicator.

import type { StudioConfig } from './config';
import { byId } from './dom';
import { behind, clockTime } from './format';
import type { Marks } from './marks';
import { StreamPlayer } from './player';
import { dvrUrl } from './timeshift';

/** Within this many seconds of hls.js's target latency, the player counts as live. */
const LIVE_TOLERANCE_SECONDS = 3;
/** Wait before reopening a stream that failed (e.g. the network dropped). */
const RECONNECT_MS = 3_000;

export class LiveStage {
  readonly player: StreamPlayer;
  private marks: Marks = { in: null, out: null };
  /** The scrubber is being dragged: leave its value to the pointer. */
  private dragging = false;
  private readonly scrubber = byId<HTMLInputElement>('scrubber');
  private readonly selection = byId('selection');
  private readonly status = byId('live-status');

  constructor(private readonly config: StudioConfig) {
    const video = byId<HTMLVideoElement>('live-video');
    this.player = new StreamPlayer(video, {
      onTimeline: () => this.render(),
      onFatal: (message) => this.reconnect(message),
    });
    video.addEventListener('timeupdate', () => this.render());
    this.scrubber.addEventListener('input', () => {
      video.currentTime = Number(this.scrubber.value);
    });
    this.scrubber.addEventListener('pointerdown', () => (this.dragging = true));
    this.scrubber.addEventListener('pointerup', () => (this.dragging = false));
    byId('go-live').addEventListener('click', () => this.player.goLive());
  }

  /** Opens the live stream with its DVR window reaching back from now. */
  start(): void {
    this.status.hidden = true;
    this.player.load(dvrUrl(this.config.liveUrl, this.config.dvrWindowSeconds, Date.now()));
  }

  /** Draws `marks` on the timeline. */
  showMarks(marks: Marks): void {
    this.marks = marks;
    this.render();
  }

  /**
   * A DVR playlist's start eventually leaves the startover window and the origin refuses it;
   * the network may drop too. Either way, open the stream afresh.
   */
  private reconnect(message: string): void {
    this.status.textContent = `The live stream stopped (${message}). Reconnecting…`;
    this.status.hidden = false;
    window.setTimeout(() => this.start(), RECONNECT_MS);
  }

  private render(): void {
    const span = this.player.span();
    const playhead = this.player.playheadDate();
    if (!span || playhead === null) return;
    const { video } = this.player;
    this.scrubber.min = String(span.start);
    this.scrubber.max = String(span.end);
    if (!this.dragging) this.scrubber.value = String(video.currentTime);
    this.scrubber.setAttribute('aria-valuetext', clockTime(playhead));
    this.scrubber.disabled = false;

    const first = this.player.dateAt(span.start);
    byId('timeline-start').textContent = first === null ? '' : clockTime(first);
    byId('playhead-time').textContent = clockTime(playhead, true);
    this.renderLiveState();
    this.renderSelection(span);
  }

  private renderLiveState(): void {
    const latency = this.player.liveLatency();
    const live = byId('live-state');
    const atEdge = latency !== null && latency.actual <= latency.target + LIVE_TOLERANCE_SECONDS;
    live.textContent = latency === null ? '' : atEdge ? 'Live' : behind((latency.actual - latency.target) * 1000);
    live.classList.toggle('at-edge', atEdge);
    byId<HTMLButtonElement>('go-live').disabled = latency === null || atEdge;
  }

  /** The marked window as a band over the scrubber, each end clamped to what the DVR shows. */
  private renderSelection(span: { start: number; end: number }): void {
    const length = span.end - span.start;
    const position = (date: number | null) => {
      const time = date === null ? null : this.player.timeAt(date);
      return time === null ? null : Math.min(1, Math.max(0, (time - span.start) / length));
    };
    const from = position(this.marks.in);
    const to = position(this.marks.out);
    this.selection.hidden = from === null && to === null;
    const left = from ?? to ?? 0;
    const right = to ?? from ?? 0;
    this.selection.style.left = `${Math.min(left, right) * 100}%`;
    this.selection.style.width = `${Math.abs(right - left) * 100}%`;
    this.selection.classList.toggle('point', from === null || to === null);
  }
}
