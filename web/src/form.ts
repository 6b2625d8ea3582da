// The new-clip form: marking in and out on the live player, previewing the marked window from
// the origin's startover window, and creating the clip.

import { ApiError, type Clip, type ClipApi, type NewClip, NetworkError } from './api';
import { announce, byId } from './dom';
import { clockTime, duration } from './format';
import type { LiveStage } from './live';
import { type Marks, checkWindow, lastSeconds } from './marks';
import { StreamPlayer } from './player';
import { placeErrors } from './problem';
import { timeShiftUrl } from './timeshift';

/** Form fields by the API's field names, each with the control its message is next to. */
const FIELD_CONTROLS = {
  competition: 'competition',
  start: 'mark-in',
  end: 'mark-out',
  duration: 'mark-out',
  title: 'title',
  description: 'description',
} as const;
type Field = keyof typeof FIELD_CONTROLS;
const FIELDS = Object.keys(FIELD_CONTROLS) as Field[];

export interface ClipFormOptions {
  api: ClipApi;
  live: LiveStage;
  liveUrl: string;
  competition: () => string;
  /** A clip the API made, including one it stored FAILED while refusing the request. */
  onClip: (clip: Clip) => void;
}

export class ClipForm {
  private marks: Marks = { in: null, out: null };
  private readonly preview: StreamPlayer;
  /** The window being previewed, in program date time. */
  private previewing: { start: number; end: number } | null = null;
  /** The last body sent and its idempotency key: resending the same body after a lost answer
   * must not make a second clip. */
  private attempt: { body: string; key: string } | null = null;
  /** The next field error shown takes the focus: the first of each round of errors. */
  private focusFirstError = false;
  private readonly form = byId<HTMLFormElement>('clip-form');
  private readonly submit = byId<HTMLButtonElement>('create');

  constructor(private readonly options: ClipFormOptions) {
    const previewVideo = byId<HTMLVideoElement>('preview-video');
    this.preview = new StreamPlayer(previewVideo, { onFatal: (message) => this.alert([`Preview failed: ${message}`]) });
    // The playlist snaps outwards to whole segments: play from the in point to the out point.
    previewVideo.addEventListener('loadedmetadata', () => this.playPreviewFromIn());
    previewVideo.addEventListener('timeupdate', () => this.stopPreviewAtOut());

    byId('mark-in').addEventListener('click', () => this.markIn());
    byId('mark-out').addEventListener('click', () => this.markOut());
    byId('last-30').addEventListener('click', () => this.markLast(30));
    byId('last-60').addEventListener('click', () => this.markLast(60));
    byId('go-in').addEventListener('click', () => this.goTo(this.marks.in));
    byId('go-out').addEventListener('click', () => this.goTo(this.marks.out));
    byId('preview').addEventListener('click', () => this.startPreview());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.create();
    });
    this.render();
  }

  markIn(): void {
    const playhead = this.playhead();
    if (playhead !== null) this.setMarks({ ...this.marks, in: playhead });
  }

  markOut(): void {
    const playhead = this.playhead();
    if (playhead !== null) this.setMarks({ ...this.marks, out: playhead });
  }

  markLast(seconds: number): void {
    const playhead = this.playhead();
    if (playhead !== null) this.setMarks(lastSeconds(playhead, seconds));
  }

  /** Plays the marked window as the origin serves it from the startover window. */
  startPreview(): void {
    const marked = checkWindow(this.marks);
    this.clearErrors();
    if (!marked.ok) {
      this.showFieldError(marked.field, marked.message);
      return;
    }
    byId('preview-container').hidden = false;
    this.previewing = { start: marked.start, end: marked.end };
    this.preview.load(timeShiftUrl(this.options.liveUrl, marked.start, marked.end));
    announce(`Previewing ${clockTime(marked.start)} to ${clockTime(marked.end)}`);
  }

  private playPreviewFromIn(): void {
    if (this.previewing && this.preview.seekToDate(this.previewing.start)) {
      void this.preview.video.play().catch(() => undefined);
    }
  }

  private stopPreviewAtOut(): void {
    const at = this.preview.playheadDate();
    if (this.previewing && at !== null && at >= this.previewing.end) this.preview.video.pause();
  }

  private playhead(): number | null {
    const playhead = this.options.live.player.playheadDate();
    if (playhead === null) this.alert(['The live stream has not started yet: wait for the picture, then mark.']);
    return playhead;
  }

  private goTo(date: number | null): void {
    if (date !== null && !this.options.live.player.seekToDate(date)) {
      this.alert(['That point is no longer in the live window.']);
    }
  }

  private setMarks(marks: Marks): void {
    this.marks = marks;
    // A preview of other marks would mislead: it goes until asked for again.
    this.previewing = null;
    this.preview.stop();
    byId('preview-container').hidden = true;
    this.clearErrors();
    this.render();
    const marked = checkWindow(marks);
    if (marked.ok) announce(`Marked ${clockTime(marked.start)} to ${clockTime(marked.end)}`);
  }

  private render(): void {
    const { in: markIn, out: markOut } = this.marks;
    byId('in-value').textContent = markIn === null ? 'not marked' : clockTime(markIn, true);
    byId('out-value').textContent = markOut === null ? 'not marked' : clockTime(markOut, true);
    const marked = checkWindow(this.marks);
    byId('length-value').textContent = marked.ok ? duration(marked.end - marked.start) : '–';
    byId('go-in').hidden = markIn === null;
    byId('go-out').hidden = markOut === null;
    this.options.live.showMarks(this.marks);
  }

  private async create(): Promise<void> {
    this.clearErrors();
    const marked = checkWindow(this.marks);
    if (!marked.ok) {
      this.showFieldError(marked.field, marked.message);
      return;
    }
    const clip: NewClip = {
      competition: this.options.competition(),
      start: new Date(marked.start).toISOString(),
      end: new Date(marked.end).toISOString(),
    };
    const title = byId<HTMLInputElement>('title').value.trim();
    const description = byId<HTMLTextAreaElement>('description').value.trim();
    // Left out when empty, so the API gives its default title.
    if (title) clip.title = title;
    if (description) clip.description = description;

    const body = JSON.stringify(clip);
    if (this.attempt?.body !== body) this.attempt = { body, key: idempotencyKey() };
    this.submit.disabled = true;
    this.submit.textContent = 'Creating…';
    try {
      const created = await this.options.api.createClip(clip, this.attempt.key);
      this.attempt = null;
      this.options.onClip(created);
      this.form.reset();
      this.setMarks({ in: null, out: null });
      announce(`Clip “${created.title}” created: ${created.status}`);
    } catch (error) {
      this.showError(error);
    } finally {
      this.submit.disabled = false;
      this.submit.textContent = 'Create clip';
    }
  }

  private showError(error: unknown): void {
    if (error instanceof ApiError) {
      const { problem } = error;
      // A refused harvest still made a clip (FAILED): the request is settled, list it.
      if (problem.clip) {
        this.attempt = null;
        this.options.onClip(problem.clip as Clip);
      }
      const { byField, general } = placeErrors(problem, FIELDS);
      for (const [field, messages] of byField) this.showFieldError(field as Field, messages.join(' '));
      this.alert([problem.title, problem.detail, ...general].filter(Boolean));
    } else if (error instanceof NetworkError) {
      this.alert([`${error.message}. Try again: the same request will not make a second clip.`]);
    } else {
      this.alert([String(error)]);
    }
  }

  private showFieldError(field: Field, message: string): void {
    const element = byId(`${field}-error`);
    element.textContent = message;
    element.hidden = false;
    const control = byId(FIELD_CONTROLS[field]);
    control.setAttribute('aria-invalid', 'true');
    // Keyboard and screen reader users land on the first problem.
    if (this.focusFirstError) control.focus();
    this.focusFirstError = false;
  }

  private alert(lines: string[]): void {
    const alert = byId('form-alert');
    alert.replaceChildren(...lines.map((line) => Object.assign(document.createElement('p'), { textContent: line })));
    alert.hidden = false;
  }

  private clearErrors(): void {
    this.focusFirstError = true;
    byId('form-alert').hidden = true;
    for (const field of FIELDS) {
      const element = byId(`${field}-error`);
      element.textContent = '';
      element.hidden = true;
      byId(FIELD_CONTROLS[field]).removeAttribute('aria-invalid');
    }
  }
}

/** A random Idempotency-Key. `crypto.randomUUID` needs a secure context, which a page served
 * over plain HTTP on a LAN address is not; `getRandomValues` works everywhere. */
function idempotencyKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
