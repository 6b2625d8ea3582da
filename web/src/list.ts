// The competition's clips, newest first, with their status kept current by polling, older
// pages on demand, and READY clips playable in place.

import { type Clip, type ClipApi } from './api';
import { mergeClips, isFinal, pollDelay, statusChanges } from './clips';
import { announce, byId, h } from './dom';
import { clockTime, dateTime, duration } from './format';
import { StreamPlayer } from './player';

const PAGE_SIZE = 10;

export class ClipList {
  private competition = '';
  private clips: Clip[] = [];
  /** Where the next older page starts; null when the oldest clip is listed. */
  private cursor: string | null = null;
  /** Bumped on every competition switch, so answers about the previous one are dropped. */
  private generation = 0;
  private timer: number | undefined;
  private readonly players = new Map<string, StreamPlayer>();
  private readonly list = byId<HTMLOListElement>('clip-list');
  private readonly status = byId('clips-status');
  private readonly older = byId<HTMLButtonElement>('older');

  constructor(private readonly api: ClipApi) {
    this.older.addEventListener('click', () => void this.loadOlder());
    // A hidden tab stops polling; coming back refreshes at once.
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden) void this.refresh();
    });
  }

  show(competition: string): void {
    this.competition = competition;
    this.generation += 1;
    this.clips = [];
    this.cursor = null;
    for (const player of this.players.values()) player.stop();
    this.players.clear();
    this.list.replaceChildren();
    this.older.hidden = true;
    this.setStatus('Loading clips…');
    void this.refresh(true);
  }

  /** A clip just made here: listed at once, and polled until it is final. */
  add(clip: Clip): void {
    if (clip.competition !== this.competition) return;
    this.clips = mergeClips(this.clips, [clip]);
    this.render();
    this.schedule();
  }

  /**
   * Re-reads the first page (new clips, status changes) and every unfinished clip that is
   * further down than that.
   */
  private async refresh(first = false): Promise<void> {
    window.clearTimeout(this.timer);
    const generation = this.generation;
    try {
      const page = await this.api.listClips(this.competition, { limit: PAGE_SIZE });
      const onPage = new Set(page.clips.map((clip) => clip.id));
      const pending = this.clips.filter((clip) => !isFinal(clip) && !onPage.has(clip.id));
      const singles = await Promise.all(pending.map((clip) => this.api.getClip(clip.competition, clip.id)));
      if (generation !== this.generation) return;
      if (first) this.cursor = page.nextCursor;
      this.update([...page.clips, ...singles]);
      this.setStatus(this.clips.length === 0 ? 'No clips yet. Mark a window on the live stream to make one.' : '');
    } catch (error) {
      if (generation !== this.generation) return;
      this.setStatus(`Could not refresh the clips: ${error instanceof Error ? error.message : String(error)}`);
    }
    this.schedule();
  }

  private async loadOlder(): Promise<void> {
    const generation = this.generation;
    this.older.disabled = true;
    try {
      const page = await this.api.listClips(this.competition, { limit: PAGE_SIZE, cursor: this.cursor });
      if (generation !== this.generation) return;
      this.cursor = page.nextCursor;
      this.update(page.clips);
    } catch (error) {
      this.setStatus(`Could not load older clips: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      this.older.disabled = false;
    }
  }

  private update(incoming: Clip[]): void {
    const merged = mergeClips(this.clips, incoming);
    for (const clip of statusChanges(this.clips, merged)) {
      announce(`Clip “${clip.title}” is ${clip.status}${clip.error ? `: ${clip.error}` : ''}`);
    }
    this.clips = merged;
    this.render();
  }

  private schedule(): void {
    window.clearTimeout(this.timer);
    if (document.hidden) return;
    this.timer = window.setTimeout(() => void this.refresh(), pollDelay(this.clips));
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
    this.status.hidden = text === '';
  }

  /** Puts the items in order, rebuilding only those whose clip changed; one with its player
   * open stays as it is, so the clip keeps playing. */
  private render(): void {
    const existing = new Map([...this.list.children].map((item) => [(item as HTMLElement).dataset.id, item]));
    const items = this.clips.map((clip) => {
      const item = existing.get(clip.id) as HTMLLIElement | undefined;
      const current = item?.dataset.version === version(clip) || this.players.has(clip.id);
      return item && current ? item : this.renderClip(clip);
    });
    this.list.replaceChildren(...items);
    this.older.hidden = this.cursor === null;
  }

  private renderClip(clip: Clip): HTMLLIElement {
    const start = Date.parse(clip.start);
    const end = Date.parse(clip.end);
    const headingId = `clip-${clip.id}-title`;
    return h(
      'li',
      { className: `clip status-${clip.status.toLowerCase()}`, dataset: { id: clip.id, version: version(clip) } },
      h(
        'div',
        { className: 'clip-head' },
        h('h3', { id: headingId }, clip.title),
        h('span', { className: 'status-badge' }, clip.status),
      ),
      h(
        'p',
        { className: 'clip-window' },
        h('time', { dateTime: clip.start }, dateTime(start)),
        ` – ${clockTime(end)} · ${duration(end - start)}`,
      ),
      clip.description && h('p', { className: 'clip-description' }, clip.description),
      clip.status === 'FAILED' && h('p', { className: 'clip-error' }, clip.error ?? 'The clip failed.'),
      clip.status === 'READY' && this.renderPlayback(clip, headingId),
    );
  }

  private renderPlayback(clip: Clip, headingId: string): HTMLElement | null {
    const playback = clip.playback.find((p) => p.status === 'PLAYABLE') ?? clip.playback[0];
    if (!playback) return null;
    const playerId = `clip-${clip.id}-player`;
    const urlId = `clip-${clip.id}-url`;
    const video = h('video', { controls: true, playsInline: true, preload: 'none' });
    video.setAttribute('aria-labelledby', headingId);
    const container = h('div', { className: 'clip-player', id: playerId, hidden: true }, video);
    const play = h('button', { type: 'button', className: 'secondary' }, 'Play');
    play.setAttribute('aria-expanded', 'false');
    play.setAttribute('aria-controls', playerId);
    play.addEventListener('click', () => this.togglePlayer(clip.id, playback.url, play, container, video));
    const url = h('input', { id: urlId, type: 'text', readOnly: true, value: playback.url, className: 'url' });
    const copied = h('span', { className: 'copy-result' });
    copied.setAttribute('role', 'status');
    const copy = h('button', { type: 'button', className: 'secondary' }, 'Copy URL');
    copy.addEventListener('click', () => void copyUrl(url, copied));
    return h(
      'div',
      { className: 'clip-playback' },
      h('div', { className: 'clip-actions' }, play, copy, copied),
      h('label', { className: 'url-label', htmlFor: urlId }, 'Playback URL'),
      url,
      container,
    );
  }

  private togglePlayer(
    id: string,
    url: string,
    button: HTMLButtonElement,
    container: HTMLElement,
    video: HTMLVideoElement,
  ): void {
    const open = container.hidden;
    container.hidden = !open;
    button.textContent = open ? 'Close player' : 'Play';
    button.setAttribute('aria-expanded', String(open));
    if (open) {
      const player = new StreamPlayer(video);
      this.players.set(id, player);
      player.load(url);
      void video.play().catch(() => undefined);
    } else {
      this.players.get(id)?.stop();
      this.players.delete(id);
    }
  }
}

/** What a rendered item shows changes only with the clip's status or record. */
function version(clip: Clip): string {
  return `${clip.status}@${clip.updatedAt}`;
}

/** Copies through the Clipboard API, or selects the URL for Ctrl+C where that is not allowed
 * (plain HTTP on another host than localhost). */
async function copyUrl(input: HTMLInputElement, result: HTMLElement): Promise<void> {
  try {
    await navigator.clipboard.writeText(input.value);
    result.textContent = 'Copied';
  } catch {
    input.focus();
    input.select();
    result.textContent = 'Selected: press Ctrl+C (⌘C) to copy';
  }
  window.setTimeout(() => (result.textContent = ''), 4_000);
}
