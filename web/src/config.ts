// The page's settings, read at load time from config.json beside index.html, so one build
// serves every deployment (local stack, CloudFront) unchanged.

export interface Competition {
  id: string;
  name: string;
}

export interface StudioConfig {
  /** Prefix of the clip API's paths: "" when the API shares the page's origin. */
  apiBaseUrl: string;
  /** The live stream: the origin endpoint's HLS master playlist. */
  liveUrl: string;
  /** How far back the player can scrub; 0 plays the endpoint's own playlist window. */
  dvrWindowSeconds: number;
  competitions: Competition[];
}

/** Used when config.json leaves it out: ten minutes of the startover window to scrub in. */
const DEFAULT_DVR_WINDOW_SECONDS = 600;

export class ConfigError extends Error {}

/** Checks a parsed config.json, naming the first setting that is wrong. */
export function parseConfig(raw: unknown): StudioConfig {
  if (!isObject(raw)) throw new ConfigError('config.json must hold a JSON object');
  const { apiBaseUrl, liveUrl, dvrWindowSeconds = DEFAULT_DVR_WINDOW_SECONDS, competitions } = raw;
  if (typeof apiBaseUrl !== 'string') throw new ConfigError('apiBaseUrl must be a string ("" for the same origin)');
  if (typeof liveUrl !== 'string' || liveUrl === '') throw new ConfigError('liveUrl must be the live stream URL');
  if (typeof dvrWindowSeconds !== 'number' || !Number.isInteger(dvrWindowSeconds) || dvrWindowSeconds < 0) {
    throw new ConfigError('dvrWindowSeconds must be a whole number of seconds, 0 or more');
  }
  if (!Array.isArray(competitions) || competitions.length === 0) {
    throw new ConfigError('competitions must list at least one competition');
  }
  return {
    apiBaseUrl: apiBaseUrl.replace(/\/+$/, ''),
    liveUrl,
    dvrWindowSeconds,
    competitions: competitions.map(parseCompetition),
  };
}

function parseCompetition(raw: unknown, index: number): Competition {
  if (typeof raw === 'string' && raw !== '') return { id: raw, name: raw };
  if (isObject(raw) && typeof raw.id === 'string' && raw.id !== '') {
    return { id: raw.id, name: typeof raw.name === 'string' && raw.name !== '' ? raw.name : raw.id };
  }
  throw new ConfigError(`competitions[${index}] must be an id or {"id": ..., "name": ...}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Fetches and checks config.json from beside the page. */
export async function loadConfig(url = 'config.json'): Promise<StudioConfig> {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new ConfigError(`${url} answered ${response.status}`);
  return parseConfig(await response.json());
}
