// The producer's workflow in a real browser (Debian's Chromium through playwright-core),
// against a running local stack: the live stream plays and scrubs back, a window is marked,
// previewed and (after an API refusal shown by its field) created, the clip becomes READY and
// plays in place, and the page holds together at phone width. Run by ../run-browser-test.sh;
// STUDIO_URL is the page, STACK_PID the stack's process (to stop waiting if it dies).
//
// Every step leaves a screenshot in web/test-results/.

import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const studioUrl = process.env.STUDIO_URL ?? 'http://127.0.0.1:3000/';
const stackPid = Number(process.env.STACK_PID ?? 0);
const results = new URL('../test-results/', import.meta.url).pathname;
/** The stack builds the Rust binaries first when they are stale. */
const STACK_READY_TIMEOUT_MS = 300_000;

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

async function waitForStack() {
  const deadline = Date.now() + STACK_READY_TIMEOUT_MS;
  for (;;) {
    try {
      const response = await fetch(new URL('config.json', studioUrl));
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    if (stackPid) {
      try {
        process.kill(stackPid, 0);
      } catch {
        throw new Error('the local stack exited; see web/test-results/local-stack.log');
      }
    }
    if (Date.now() > deadline) throw new Error(`the stack did not serve ${studioUrl} in time`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** A video's currentTime, sampled twice: it must move forward. */
async function expectPlaying(page, selector, what) {
  await page.waitForFunction((s) => document.querySelector(s)?.currentTime > 0, selector, { timeout: 30_000 });
  const before = await page.$eval(selector, (v) => v.currentTime);
  await page.waitForTimeout(1500);
  const after = await page.$eval(selector, (v) => v.currentTime);
  assert(after > before, `${what} advances (${before} → ${after})`);
}

async function main() {
  await mkdir(results, { recursive: true });
  console.log(`  waiting for ${studioUrl}`);
  await waitForStack();
  console.log(`  stack up after ${elapsed()}`);

  const profile = await mkdtemp(join(tmpdir(), 'clip-studio-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--autoplay-policy=no-user-gesture-required',
    ],
    viewport: { width: 1280, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') console.log(`  [page] ${message.text()}`);
  });

  let shot = 0;
  const step = async (name, run) => {
    process.stdout.write(`  ${name} … `);
    await run();
    shot += 1;
    const file = `${String(shot).padStart(2, '0')}-${name.replace(/\W+/g, '-')}.png`;
    await page.screenshot({ path: join(results, file), fullPage: true });
    console.log(`ok (${elapsed()}, ${file})`);
  };

  try {
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: new URL(studioUrl).origin });
    await step('live stream plays', async () => {
      await page.goto(studioUrl);
      await expectPlaying(page, '#live-video', 'the live stream');
      await page.waitForFunction(() => document.querySelector('#live-state')?.textContent === 'Live');
    });

    await step('scrubbed back and marked', async () => {
      const span = await page.$eval('#scrubber', (s) => Number(s.max) - Number(s.min));
      assert(span > 500, `the DVR window reaches back about ten minutes (${span} s)`);
      // Drag the scrubber two minutes back, as a pointer would.
      await page.$eval('#scrubber', (s) => {
        s.value = String(Number(s.max) - 120);
        s.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await page.waitForFunction(() => /^-[12]:/.test(document.querySelector('#live-state')?.textContent ?? ''));
      await expectPlaying(page, '#live-video', 'the stream two minutes back');
      await page.click('#last-30');
      assert((await page.textContent('#length-value')) === '30.0 s', 'Last 30 s marks thirty seconds');
      await page.click('#mark-in');
      await page.waitForTimeout(4000);
      await page.keyboard.press('o');
      const length = await page.textContent('#length-value');
      assert(/^[3-5]\.\d s$/.test(length), `a window of about four seconds is marked (${length})`);
      assert(await page.isVisible('#selection'), 'the window shows on the timeline');
    });

    await step('marked window previewed', async () => {
      await page.keyboard.press('p');
      await page.waitForSelector('#preview-container:not([hidden])');
      await expectPlaying(page, '#preview-video', 'the preview');
    });

    await step('API error shown by its field', async () => {
      // A client that does not enforce the limit itself: the API's refusal must reach the field.
      await page.$eval('#description', (d) => d.removeAttribute('maxlength'));
      await page.fill('#description', 'x'.repeat(2001));
      await page.click('#create');
      await page.waitForSelector('#description-error:not([hidden])');
      const message = await page.textContent('#description-error');
      assert(message === 'must be at most 2000 characters', `the API's words by the description (${message})`);
      assert((await page.getAttribute('#description', 'aria-invalid')) === 'true', 'the field is marked invalid');
      assert((await page.evaluate(() => document.activeElement?.id)) === 'description', 'focus moves to the field');
    });

    let clipId;
    await step('clip created and READY', async () => {
      // Every status the clip shows, recorded as the list re-renders it from polling.
      await page.$eval('#clip-list', (list) => {
        window.seenStatuses = [];
        new MutationObserver(() => {
          for (const badge of list.querySelectorAll('.status-badge')) {
            if (window.seenStatuses.at(-1) !== badge.textContent) window.seenStatuses.push(badge.textContent);
          }
        }).observe(list, { childList: true, subtree: true });
      });
      await page.fill('#title', 'Browser test clip');
      await page.fill('#description', 'Made by web/tests/browser.mjs');
      const [request] = await Promise.all([
        page.waitForRequest((r) => r.url().endsWith('/api/clip') && r.method() === 'POST'),
        page.click('#create'),
      ]);
      assert(request.headers()['content-type'] === 'application/json', 'the POST is sent as application/json');
      const body = request.postDataJSON();
      assert(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(body.start), `start is RFC 3339 (${body.start})`);
      const response = await request.response();
      assert(response.status() === 202, `the API accepts the clip (${response.status()})`);
      clipId = (await response.json()).id;
      const item = `li[data-id="${clipId}"]`;
      await page.waitForSelector(item);
      await page.waitForSelector(`${item}.status-ready`, { timeout: 60_000 });
      assert((await page.textContent(`${item} h3`)) === 'Browser test clip', 'the list shows the title');
      const seen = await page.evaluate(() => window.seenStatuses);
      assert(seen[0] === 'HARVESTING' && seen.at(-1) === 'READY', `status went HARVESTING → READY (${seen})`);
    });

    await step('clip plays in place', async () => {
      const item = `li[data-id="${clipId}"]`;
      await page.click(`${item} button:has-text("Play")`);
      await expectPlaying(page, `${item} video`, 'the clip');
      await page.click(`${item} button:has-text("Copy URL")`);
      await page.waitForSelector(`${item} .copy-result:has-text("Copied")`);
      const url = await page.$eval(`${item} input.url`, (i) => i.value);
      assert((await page.evaluate(() => navigator.clipboard.readText())) === url, 'the playback URL is copied');
      const playlist = await (await fetch(url)).text();
      assert(playlist.startsWith('#EXTM3U'), 'the playback URL serves HLS');
    });

    await step('phone width', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await page.evaluate(() => window.scrollTo(0, 0));
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(width <= 390, `nothing overflows sideways at 390 px (${width} px wide)`);
    });

    assert(pageErrors.length === 0, `no script errors on the page: ${pageErrors.join('; ')}`);
  } catch (error) {
    await page.screenshot({ path: join(results, 'failure.png'), fullPage: true }).catch(() => undefined);
    throw error;
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
  console.log(`  browser test done in ${elapsed()}`);
}

main().catch((error) => {
  console.error(`\n  browser test FAILED: ${error.message}`);
  process.exit(1);
});
