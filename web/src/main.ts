// Clip studio: wires the page's parts together once config.json is loaded.

import './styles.css';
import { ClipApi } from './api';
import { type Competition, loadConfig } from './config';
import { byId, h } from './dom';
import { ClipForm } from './form';
import { ClipList } from './list';
import { LiveStage } from './live';
import { canPlayHls } from './player';
import { shortcutFor } from './shortcuts';

async function start(): Promise<void> {
  const config = await loadConfig();
  const api = new ClipApi(config.apiBaseUrl);
  const select = byId<HTMLSelectElement>('competition');
  select.replaceChildren(...config.competitions.map((c) => h('option', { value: c.id }, c.name)));
  select.value = initialCompetition(config.competitions);

  if (!canPlayHls(byId<HTMLVideoElement>('live-video'))) {
    throw new Error('This browser cannot play HLS video.');
  }
  const live = new LiveStage(config);
  const list = new ClipList(api);
  const form = new ClipForm({
    api,
    live,
    liveUrl: config.liveUrl,
    competition: () => select.value,
    onClip: (clip) => list.add(clip),
  });

  select.addEventListener('change', () => {
    // Kept in the address, so a reload or a shared link opens the same competition.
    const url = new URL(window.location.href);
    url.searchParams.set('competition', select.value);
    window.history.replaceState(null, '', url);
    list.show(select.value);
  });
  document.addEventListener('keydown', (event) => {
    const target = event.target instanceof HTMLElement ? event.target : null;
    const { key, ctrlKey, altKey, metaKey } = event;
    const shortcut = shortcutFor({ key, ctrlKey, altKey, metaKey, target });
    if (!shortcut || event.repeat) return;
    event.preventDefault();
    if (shortcut === 'mark-in') form.markIn();
    else if (shortcut === 'mark-out') form.markOut();
    else if (shortcut === 'preview') form.startPreview();
    else live.player.goLive();
  });

  live.start();
  list.show(select.value);
}

/** The competition named in the address (`?competition=`), if configured, else the first. */
function initialCompetition(competitions: Competition[]): string {
  const wanted = new URLSearchParams(window.location.search).get('competition');
  return competitions.find((c) => c.id === wanted)?.id ?? competitions[0]!.id;
}

start().catch((error: unknown) => {
  const alert = byId('startup-error');
  alert.textContent = `The clip studio cannot start: ${error instanceof Error ? error.message : String(error)}`;
  alert.hidden = false;
});
