/**
 * The live tail page in a real Chromium against a real server child with a syslog listener:
 * lines sent with util-linux `logger` while the page is open appear in order, lines not
 * matching the query do not, Pause stops rows and counts what arrives, a hostile line shows
 * as text, and under ~20,000 events over a few seconds the page still answers and accounts
 * for every event (drawn + not shown = sent).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { guardedPage, launchBrowser, screenshot, xssCalls, type Guard, XSS_FIELD, XSS_MESSAGE, XSS_VALUE } from '../helpers/browser.js';
import { freePort, ingestOk, removeDir, run, spawnServer, stopChild, tempDir, type ChildServer } from '../helpers/server.js';


/** RFC 3164 over TCP: the tag becomes the event's syslog.appname. */
async function logger(port: number, tag: string, message: string): Promise<void> {
  const r = await run('logger', ['--tcp', '--rfc3164', '--server', '127.0.0.1', '--port', String(port), '-t', tag, message]);
  assert.equal(r.code, 0, `logger failed: ${r.stderr}`);
}

async function messages(page: Page): Promise<string[]> {
  return page.getByTestId('tail-message').allTextContents();
}

async function count(page: Page, testId: string): Promise<number> {
  return Number(await page.getByTestId(testId).getAttribute('data-count'));
}

/** The tail is subscribed once the server's first stats message came. */
async function waitLive(page: Page): Promise<void> {
  await page.waitForFunction(() => document.querySelector('[data-testid=tail-status]')?.getAttribute('data-status') === 'live');
}

describe('live tail page', () => {
  let work: string;
  let server: ChildServer;
  let syslogPort: number;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let guard: Guard;

  before(async () => {
    work = tempDir();
    syslogPort = await freePort();
    server = await spawnServer(path.join(work, 'data'), ['--syslog', `127.0.0.1:${syslogPort}`]);
    browser = await launchBrowser();
    ({ context, page, guard } = await guardedPage(browser));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    if (server) await stopChild(server);
    if (work) removeDir(work);
  });

  it('streams matching syslog lines in order, and only those', async () => {
    await page.goto(`${server.url}/app/tail?q=${encodeURIComponent('syslog.appname:tailtest')}`);
    await page.getByTestId('tail-empty').waitFor();
    await waitLive(page);
    for (let i = 1; i <= 5; i++) {
      await logger(syslogPort, 'tailtest', `hello ${i}`);
      await logger(syslogPort, 'othertest', `not this ${i}`);
    }
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tail-row]').length >= 5);
    // One more matching line after the others, so every non-matching one had its chance to arrive.
    await logger(syslogPort, 'tailtest', 'hello 6');
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=tail-message]')].some((e) => e.textContent === 'hello 6'));
    assert.deepEqual(await messages(page), ['hello 1', 'hello 2', 'hello 3', 'hello 4', 'hello 5', 'hello 6']);
    assert.equal(await count(page, 'tail-shown'), 6);
    assert.equal(await count(page, 'tail-skipped'), 0);
    const origin = await page.getByTestId('tail-row').first().locator('.tail-origin').textContent();
    assert.equal(origin, 'tailtest');
    guard.check();
  });

  it('pause stops rows from being added and counts what arrives; resume shows them', async () => {
    await page.getByTestId('tail-pause').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=tail-status]')?.getAttribute('data-status') === 'paused');
    for (let i = 1; i <= 3; i++) await logger(syslogPort, 'tailtest', `paused ${i}`);
    await page.waitForFunction(() => document.querySelector('[data-testid=tail-paused-count]')?.getAttribute('data-count') === '3');
    assert.match((await page.getByTestId('tail-paused-count').textContent()) ?? '', /3 new events while paused/);
    assert.equal((await messages(page)).length, 6, 'no row added while paused');
    await page.getByTestId('tail-pause').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=tail-row]').length === 9);
    assert.deepEqual((await messages(page)).slice(6), ['paused 1', 'paused 2', 'paused 3']);
    guard.check();
  });

  it('shows a hostile line as text and opens it in the event view', async () => {
    await logger(syslogPort, 'tailtest', XSS_MESSAGE);
    const row = page.getByTestId('tail-row').filter({ hasText: XSS_MESSAGE });
    await row.waitFor();
    assert.equal(await row.getByTestId('tail-message').textContent(), XSS_MESSAGE);
    await row.click();
    await page.getByTestId('event-view').waitFor();
    assert.equal(await page.locator('[data-testid=event-field][data-field=message] [data-testid=event-field-value]').textContent(), XSS_MESSAGE);
    assert.equal(await page.locator('.tail-list img').count(), 0);
    await screenshot(page, 'tail');
    guard.check();
    assert.deepEqual(await xssCalls(page), []);
    await page.getByTestId('event-close').click();
  });

  it('shows a hostile field name and value sent over the ingest API as text', async () => {
    await page.goto(`${server.url}/app/tail?q=${encodeURIComponent('source:xsstest')}`);
    await waitLive(page);
    await ingestOk(server.url, [{ host: 'xss-host', source: 'xsstest', message: XSS_MESSAGE, [XSS_FIELD]: XSS_VALUE }]);
    const row = page.getByTestId('tail-row').first();
    await row.waitFor();
    assert.equal(await row.getByTestId('tail-message').textContent(), XSS_MESSAGE);
    await row.click();
    const field = page.locator('[data-testid=event-field]').filter({ has: page.getByText(XSS_FIELD, { exact: true }) });
    await field.waitFor();
    assert.equal(await field.getByTestId('event-field-value').textContent(), XSS_VALUE);
    assert.equal(await page.locator('[data-testid=tail-page] script, [data-testid=tail-page] img, [data-testid=tail-page] a[href^=javascript]').count(), 0);
    guard.check();
    assert.deepEqual(await xssCalls(page), []);
  });

  it('under ~20,000 events in 4 s the page answers and every event is drawn or counted', async () => {
    await page.goto(`${server.url}/app/tail?q=${encodeURIComponent('source:loadtest')}`);
    await waitLive(page);
    const total = 20_000;
    const batches = 40;
    for (let b = 0; b < batches; b++) {
      const events = Array.from({ length: total / batches }, (_, i) => ({ host: `web-${i % 7}`, source: 'loadtest', message: `load ${b * (total / batches) + i}` }));
      await ingestOk(server.url, events);
      // A round trip into the page while the stream pours in: it must still answer.
      if (b % 10 === 9) assert.equal(await page.evaluate(() => 1 + 1), 2);
      await new Promise((r) => setTimeout(r, 100));
    }
    await page.waitForFunction(
      (n) => {
        const shown = Number(document.querySelector('[data-testid=tail-shown]')?.getAttribute('data-count'));
        const skipped = Number(document.querySelector('[data-testid=tail-skipped]')?.getAttribute('data-count'));
        return shown + skipped >= n;
      },
      total,
      { timeout: 30_000 },
    );
    const shown = await count(page, 'tail-shown');
    const notShown = await count(page, 'tail-skipped');
    assert.equal(shown + notShown, total, `shown ${shown} + not shown ${notShown}`);
    const rows = Number(await page.getByTestId('tail-list').getAttribute('data-rows'));
    assert.ok(rows <= 2000, `at most 2,000 rows kept, got ${rows}`);
    // Windowed: far fewer rows in the DOM than kept.
    assert.ok((await page.getByTestId('tail-row').count()) < 200);
    // The newest is at the bottom, in view (auto-scroll).
    const last = (await messages(page)).at(-1);
    assert.equal(last, `load ${total - 1}`);
    assert.match((await page.getByTestId('tail-rate').textContent()) ?? '', /events\/s$/);
    guard.check();
  });

  it('stops following when the user scrolls up, keeps their rows in place, and jumps back to the newest', async () => {
    /** The message of the row at the list's vertical middle. */
    const middle = () =>
      page.evaluate(() => {
        const box = document.querySelector('[data-testid=tail-list]')!.getBoundingClientRect();
        const el = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return el?.closest('[data-testid=tail-row]')?.querySelector('[data-testid=tail-message]')?.textContent ?? null;
      });
    await page.evaluate(() => {
      const box = document.querySelector('[data-testid=tail-list]')!;
      box.scrollTop = box.scrollHeight / 2;
    });
    await page.getByTestId('tail-jump').waitFor();
    const before = await middle();
    assert.match(before ?? '', /^load \d+$/);
    const shown = await count(page, 'tail-shown');
    const skipped = await count(page, 'tail-skipped');
    await ingestOk(server.url, Array.from({ length: 100 }, (_, i) => ({ source: 'loadtest', host: 'web-1', message: `more ${i}` })));
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid=tail-shown]')?.getAttribute('data-count')) + Number(document.querySelector('[data-testid=tail-skipped]')?.getAttribute('data-count')) >= n, shown + skipped + 100);
    assert.equal(await middle(), before, 'the rows in view stay put as old rows fall off the top');
    await page.getByTestId('tail-jump').click();
    await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=tail-message]')].at(-1)?.textContent === 'more 99');
    assert.equal(await page.getByTestId('tail-jump').count(), 0);
    guard.check();
  });
});
