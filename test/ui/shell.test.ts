/**
 * The shell with a server that requires a token: the UI asks for it, says plainly when the
 * server refuses one, keeps the right one for the session and sends it only in the
 * Authorization header (never in a URL).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { guardedPage, launchBrowser, type Guard } from '../helpers/browser.js';
import { removeDir, spawnServer, stopChild, tempDir, type ChildServer } from '../helpers/server.js';

const TOKEN = 's3cret';

describe('shell: token prompt', () => {
  let work: string;
  let server: ChildServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let guard: Guard;
  const urls: string[] = [];
  const authHeaders: (string | undefined)[] = [];

  before(async () => {
    work = tempDir();
    server = await spawnServer(path.join(work, 'data'), ['--token', TOKEN], 30_000, TOKEN);
    browser = await launchBrowser();
    ({ context, page, guard } = await guardedPage(browser, { timezoneId: 'America/New_York' }));
    page.on('request', (r) => {
      urls.push(r.url());
      if (r.url().includes('/api/')) authHeaders.push(r.headers()['authorization']);
    });
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    if (server) await stopChild(server);
    removeDir(work);
  });

  it('asks for the token, refuses a wrong one with a message, and loads Discover with the right one', async () => {
    await page.goto(`${server.url}/app/discover?from=now-1h&to=now%2B1h`);
    const input = page.getByTestId('token-input');
    await input.waitFor();
    assert.equal(await input.getAttribute('type'), 'password');
    assert.equal(await page.getByTestId('hit-count').count(), 0, 'nothing searched without a token');

    await input.fill('wrong-token');
    await page.getByTestId('token-submit').click();
    const err = page.getByTestId('token-error');
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /The server refused this token/);

    await input.fill(TOKEN);
    await page.getByTestId('token-submit').click();
    await page.getByTestId('token-prompt').waitFor({ state: 'detached' });
    // Nothing stored yet: the page says how to send events, with the README's lines.
    const empty = page.getByTestId('empty-store');
    await empty.waitFor();
    const help = (await empty.textContent()) ?? '';
    assert.ok(help.includes('/api/v1/ingest --data-binary'), help);
    assert.ok(help.includes('logger -n'), help);

    const events = Array.from({ length: 30 }, (_, i) => JSON.stringify({ message: `shell test event ${i}`, host: `web-${i % 3}` })).join('\n') + '\n';
    const res = await fetch(`${server.url}/api/v1/ingest`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/x-ndjson' }, body: events });
    assert.equal(res.status, 200, await res.text());
    await page.getByTestId('search-button').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=hit-count]')?.textContent?.trim() === '30 hits');
    assert.equal(await page.locator('[data-testid=hit-row]').count(), 30);

    // Kept for the session: a reload does not ask again.
    await page.reload();
    await page.waitForFunction(() => document.querySelector('[data-testid=hit-count]')?.textContent?.trim() === '30 hits');
    assert.equal(await page.getByTestId('token-prompt').count(), 0);
    guard.check();
  });

  it('never puts the token in a URL and sends it as a Bearer header', async () => {
    assert.ok(urls.length > 5);
    for (const u of urls) assert.ok(!u.includes(TOKEN), `the token is in ${u}`);
    assert.ok(authHeaders.includes(`Bearer ${TOKEN}`));
    const history = await page.evaluate(() => location.href);
    assert.ok(!history.includes(TOKEN));
  });

  it('switches the time zone between local and UTC, with the zone shown', async () => {
    const firstTime = () => page.locator('[data-testid=hit-row] .col-time').first().textContent();
    await page.getByTestId('zone-local').click();
    assert.match((await page.getByTestId('zone-label').textContent()) ?? '', /America\/New_York \(UTC-0[45]:00\)/);
    const local = (await firstTime()) ?? '';
    await page.getByTestId('zone-utc').click();
    assert.equal((await page.getByTestId('zone-label').textContent())?.trim(), 'UTC');
    await page.waitForFunction((t) => document.querySelector('[data-testid=hit-row] .col-time')?.textContent !== t, local);
    const utc = (await firstTime()) ?? '';
    // The same instant, 4 or 5 hours apart on the clock.
    const hours = (Date.parse(utc.replace(' ', 'T') + 'Z') - Date.parse(local.replace(' ', 'T') + 'Z')) / 3600e3;
    assert.ok(hours === 4 || hours === 5, `UTC ${utc} vs local ${local}`);
    guard.check();
  });
});
