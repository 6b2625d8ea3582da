// The Clip API v1 client (docs/api.md): the only backend the page talks to.

import { type Problem, toProblem } from './problem';

export type ClipStatus = 'HARVESTING' | 'PACKAGING' | 'READY' | 'FAILED';

export interface Playback {
  packagingConfigurationId: string;
  url: string;
  status: string;
}

export interface Clip {
  competition: string;
  id: string;
  title: string;
  description: string;
  /** RFC 3339. */
  start: string;
  end: string;
  status: ClipStatus;
  /** Why a FAILED clip failed. */
  error?: string;
  playback: Playback[];
  createdAt: string;
  updatedAt: string;
}

export interface ClipPage {
  clips: Clip[];
  nextCursor: string | null;
}

export interface NewClip {
  competition: string;
  title?: string;
  description?: string;
  start: string;
  end: string;
}

/** An answer that was not a success, as the API's problem document. */
export class ApiError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.detail || problem.title);
  }
}

/** A request that got no answer at all (offline, DNS, CORS, connection refused). */
export class NetworkError extends Error {}

export class ClipApi {
  constructor(private readonly baseUrl: string) {}

  /**
   * Asks for a clip. The idempotency key makes a retry after a lost answer return the same clip
   * instead of harvesting twice.
   */
  async createClip(clip: NewClip, idempotencyKey: string): Promise<Clip> {
    return this.request<Clip>('/api/clip', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Idempotency-Key': idempotencyKey },
      body: JSON.stringify(clip),
    });
  }

  async listClips(competition: string, options: { limit: number; cursor?: string | null }): Promise<ClipPage> {
    const query = new URLSearchParams({ limit: String(options.limit) });
    if (options.cursor) query.set('cursor', options.cursor);
    return this.request<ClipPage>(`/api/competitions/${encodeURIComponent(competition)}/clips?${query}`);
  }

  async getClip(competition: string, id: string): Promise<Clip> {
    const path = `/api/competitions/${encodeURIComponent(competition)}/clips/${encodeURIComponent(id)}`;
    return this.request<Clip>(path);
  }

  private async request<T>(path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { ...init, cache: 'no-store' });
    } catch (cause) {
      throw new NetworkError(`The clip API cannot be reached (${String(cause)})`);
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (!response.ok) throw new ApiError(toProblem(response.status, response.statusText, body));
    return body as T;
  }
}
