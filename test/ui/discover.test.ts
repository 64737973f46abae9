/**
 * Discover in a real Chromium against a real server child holding the shared samples, parsed
 * (Apache access log of May 2015, auth.log of 2026). Every count the page shows is compared with
 * the API's answer for the same query and range; the histogram is dragged with the mouse on
 * uPlot's overlay; hostile event content must show as characters and run nothing.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { guardedPage, importSamples, launchBrowser, SAMPLES_RANGE, screenshot, xssCalls, type Guard, XSS_FIELD, XSS_MESSAGE, XSS_VALUE } from '../helpers/browser.js';
import { ingestOk, removeDir, search, spawnServer, stopChild, table, tempDir, type ChildServer } from '../helpers/server.js';

/** The Apache access log's span (its lines run from 2015-05-17T10:05 to 2015-05-20T21:05 UTC). */
const APACHE = { from: '2015-05-17T00:00:00.000Z', to: '2015-05-21T00:00:00.000Z' };

function discoverUrl(base: string, params: Record<string, string>): string {
  return `${base}/app/discover?${new URLSearchParams(params).toString()}`;
}

/** The number the page shows in its "N hits", or null while there is none. */
async function shownCount(page: Page): Promise<number | null> {
  const text = await page.getByTestId('hit-count').textContent({ timeout: 15_000 });
  const m = /([\d,]+)\s+hits?/.exec(text ?? '');
  return m ? Number(m[1].replace(/,/g, '')) : null;
}

/** Waits until the page shows `want` hits (so the assertion does not race the search), then asserts it. */
async function expectCount(page: Page, want: number): Promise<void> {
  const text = `${want.toLocaleString('en-US')} ${want === 1 ? 'hit' : 'hits'}`;
  await page
    .waitForFunction((t) => document.querySelector('[data-testid=hit-count]')?.textContent?.trim() === t, text, { timeout: 15_000 })
    .catch(() => undefined);
  assert.equal(await shownCount(page), want);
  assert.equal((await page.getByTestId('hit-count').textContent())?.trim(), text, 'the count has thousands separators');
}

async function apiTotal(base: string, q: string, range: { from: string; to: string }): Promise<number> {
  return (await search(base, q, { ...range, limit: 0 })).total;
}

async function rowIds(page: Page): Promise<string[]> {
  return page.locator('[data-testid=hit-row]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id') ?? ''));
}

function params(page: Page): URLSearchParams {
  return new URL(page.url()).searchParams;
}

describe('Discover', () => {
  let work: string;
  let server: ChildServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let guard: Guard;

  before(async () => {
    work = tempDir();
    server = await spawnServer(path.join(work, 'data'));
    await importSamples(server.url, work);
    await ingestOk(server.url, [{ '@timestamp': '2015-05-18T12:00:00.000Z', message: XSS_MESSAGE, [XSS_FIELD]: XSS_VALUE, marker: 'xss-case', host: 'evil' }]);
    browser = await launchBrowser();
    ({ context, page, guard } = await guardedPage(browser));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    if (server) await stopChild(server);
    removeDir(work);
  });

  it('shows the same hit count as the API for the query and range of the URL', async () => {
    const q = 'response:404';
    await page.goto(discoverUrl(server.url, { q, ...SAMPLES_RANGE }));
    const want = await apiTotal(server.url, q, SAMPLES_RANGE);
    assert.ok(want > 0, 'the samples have 404s');
    await expectCount(page, want);
    // All events: over a thousand, so the separator shows.
    await page.goto(discoverUrl(server.url, SAMPLES_RANGE));
    const all = await apiTotal(server.url, '', SAMPLES_RANGE);
    assert.ok(all > 17_000);
    await expectCount(page, all);
    assert.equal(await page.locator('[data-testid=hit-row]').count(), 100, 'the first page of rows');
    guard.check();
  });

  it('runs a query typed into the bar with Enter, into the URL', async () => {
    await page.goto(discoverUrl(server.url, SAMPLES_RANGE));
    await page.getByTestId('hit-count').waitFor();
    await page.locator('body').click({ position: { x: 5, y: 300 } });
    await page.keyboard.press('/'); // focuses the query bar
    await page.keyboard.type('syslog.appname:sshd AND NOT level:info');
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.searchParams.get('q') === 'syslog.appname:sshd AND NOT level:info');
    const want = await apiTotal(server.url, 'syslog.appname:sshd AND NOT level:info', SAMPLES_RANGE);
    assert.ok(want > 0);
    await expectCount(page, want);
    // The bar highlights the field names and the operators.
    assert.ok((await page.locator('[data-testid=query] .qt-field').count()) >= 2);
    assert.ok((await page.locator('[data-testid=query] .qt-operator').count()) >= 2);
    // Back goes to the previous search.
    await page.goBack();
    await page.waitForURL((u) => !u.searchParams.get('q'));
    await expectCount(page, await apiTotal(server.url, '', SAMPLES_RANGE));
    guard.check();
  });

  it('autocompletes field names and a field’s top values', async () => {
    await page.goto(discoverUrl(server.url, APACHE));
    await page.getByTestId('hit-count').waitFor();
    await page.getByTestId('query-input').click();
    await page.keyboard.type('respo');
    const option = page.locator('.cm-tooltip-autocomplete li', { hasText: 'response' }).first();
    await option.waitFor();
    await page.keyboard.press('Tab');
    // After the colon the top values of the field are offered: the most frequent response first.
    const top = (await table(server.url, '* | top 3 response', APACHE)).rows.map((r) => String(r[0]));
    await page.locator('.cm-tooltip-autocomplete li').first().waitFor();
    const offered = await page.locator('.cm-tooltip-autocomplete li .cm-completionLabel').allTextContents();
    assert.deepEqual(offered.slice(0, 3), top);
    await page.keyboard.press('ArrowDown');
    await page.locator('.cm-tooltip-autocomplete li[aria-selected] .cm-completionLabel', { hasText: top[1] }).waitFor();
    await page.keyboard.press('Enter'); // takes the picked suggestion (the second value)
    await page.keyboard.press('Enter'); // runs
    await page.waitForURL((u) => u.searchParams.get('q') === `response:${top[1]}`, { timeout: 10_000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}\nURL ${page.url()}, bar ${await page.getByTestId('query-input').textContent()}`);
    });
    await expectCount(page, await apiTotal(server.url, `response:${top[1]}`, APACHE));
    guard.check();
  });

  it('zooms to the range dragged on the histogram, and narrows to a clicked bar', async () => {
    await page.goto(discoverUrl(server.url, { ...APACHE, by: 'response' }));
    await expectCount(page, await apiTotal(server.url, '', APACHE));
    const overlay = page.locator('[data-testid=histogram] .u-over');
    await overlay.waitFor();
    // Stacked by response: a legend entry per top value.
    assert.ok((await page.locator('[data-testid=histogram-legend] button').count()) >= 3);
    const box = (await overlay.boundingBox())!;
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.45, y, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.6, y, { steps: 5 });
    await page.mouse.up();
    await page.waitForURL((u) => u.searchParams.get('from') !== APACHE.from);
    const zoomed = { from: params(page).get('from')!, to: params(page).get('to')! };
    assert.ok(Date.parse(zoomed.from) > Date.parse(APACHE.from) && Date.parse(zoomed.to) < Date.parse(APACHE.to), `zoomed into ${JSON.stringify(zoomed)}`);
    const want = await apiTotal(server.url, '', zoomed);
    assert.ok(want > 0 && want < 10_000, `a part of the log: ${want}`);
    await expectCount(page, want);

    // A click on a bar: the range becomes that bucket.
    await overlay.waitFor();
    const box2 = (await overlay.boundingBox())!;
    await page.mouse.click(box2.x + box2.width * 0.5, box2.y + box2.height - 3);
    await page.waitForURL((u) => u.searchParams.get('from') !== zoomed.from);
    const bucket = { from: params(page).get('from')!, to: params(page).get('to')! };
    assert.ok(Date.parse(bucket.to) - Date.parse(bucket.from) < Date.parse(zoomed.to) - Date.parse(zoomed.from));
    await expectCount(page, await apiTotal(server.url, '', bucket));
    guard.check();
  });

  it('marks a syntax error inline, with the server’s message', async () => {
    await page.goto(discoverUrl(server.url, { q: 'response:(404 OR 500', ...APACHE }));
    const err = page.getByTestId('query-error');
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /position 20/);
    await page.locator('[data-testid=query] .qt-error').waitFor();
    assert.equal(await page.getByTestId('hit-count').count(), 0);
    guard.check();
  });

  it('shows a piped query as a table', async () => {
    const q = '* | stats count() by host';
    await page.goto(discoverUrl(server.url, { q, ...SAMPLES_RANGE }));
    const result = page.getByTestId('result');
    await result.waitFor();
    const want = await table(server.url, q, SAMPLES_RANGE);
    const cells = await result.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => td.textContent ?? '')));
    assert.equal(cells.length, want.rows.length);
    const hostCol = want.columns.indexOf('host');
    const hosts = want.rows.map((r) => r[hostCol]).filter((h): h is string => typeof h === 'string');
    assert.ok(hosts.length >= 2, 'the samples have several hosts');
    for (const host of hosts) assert.ok(cells.some((c) => c.includes(host)), `host ${host} listed`);
    assert.equal(await page.getByTestId('histogram').count(), 0);
    guard.check();
  });

  it('shows hostile event content as text, running nothing', async () => {
    await page.goto(discoverUrl(server.url, { q: 'marker:xss-case', ...APACHE, cols: `message,${XSS_FIELD}` }));
    await expectCount(page, 1);
    const row = page.getByTestId('hit-row').first();
    assert.ok(((await row.textContent()) ?? '').includes(XSS_MESSAGE));
    assert.ok(((await row.textContent()) ?? '').includes(XSS_VALUE));
    assert.ok(((await page.locator('[data-testid=hit-table] thead').textContent()) ?? '').includes(XSS_FIELD));
    assert.equal(await page.locator('[data-testid=hit-table] img').count(), 0);
    // Expanded: the event view shows it too.
    await row.click();
    await page.waitForURL((u) => u.searchParams.has('ev'));
    await page.locator('.hit-detail').waitFor();
    assert.ok(((await page.locator('.hit-detail').textContent()) ?? '').includes(XSS_FIELD));
    await page.keyboard.press('Escape');
    await page.waitForURL((u) => !u.searchParams.has('ev'));
    assert.equal(await page.locator('.hit-detail').count(), 0);

    // "Filter for" on the hostile field: the clause is escaped so the server reads it as that field and value.
    await row.click();
    const field = page.locator('[data-testid=event-field]').filter({ has: page.locator('[data-testid=event-field-name]', { hasText: XSS_FIELD }) });
    await field.getByTestId('filter-for').click();
    await page.waitForURL((u) => (u.searchParams.get('q') ?? '').length > 'marker:xss-case'.length);
    const q = params(page).get('q')!;
    assert.equal(q, 'marker:xss-case AND \\<script\\>alert\\(1\\)\\<\\/script\\>:"javascript:alert(1)"');
    assert.equal(await apiTotal(server.url, q, APACHE), 1);
    await expectCount(page, 1);
    // And "filter out" leaves nothing.
    await page.getByTestId('hit-row').first().click();
    await field.getByTestId('filter-out').click();
    await page.waitForURL((u) => (u.searchParams.get('q') ?? '').includes('NOT'));
    await expectCount(page, await apiTotal(server.url, params(page).get('q')!, APACHE));
    assert.equal(await shownCount(page), 0);
    await page.goto(discoverUrl(server.url, { q: 'marker:xss-case', ...APACHE }));
    await page.getByTestId('hit-row').first().click();
    // Escape only once the row is open: pressed earlier, it would race the click's own URL change.
    await page.waitForURL((u) => u.searchParams.has('ev'));
    await page.locator('.hit-detail').waitFor();
    await page.keyboard.press('Escape');
    await page.waitForURL((u) => !u.searchParams.has('ev'));
    assert.equal(await page.locator('.hit-detail').count(), 0);
    guard.check();
    assert.deepEqual(await xssCalls(page), []);
  });

  it('saves the search, with its query and range, to the saved searches', async () => {
    const q = 'response:404';
    await page.goto(discoverUrl(server.url, { q, ...SAMPLES_RANGE }));
    await page.getByTestId('hit-count').waitFor();
    await page.getByTestId('save-search').click();
    await page.getByTestId('save-search-title').fill('Not found pages');
    await page.getByTestId('save-search-submit').click();
    await page.getByTestId('save-search-done').waitFor();
    const res = await fetch(`${server.url}/api/v1/saved-objects?type=search`);
    const { objects } = (await res.json()) as { objects: { title: string; attributes: { q: string; from: string; to: string } }[] };
    const saved = objects.find((o) => o.title === 'Not found pages');
    assert.ok(saved, JSON.stringify(objects));
    assert.deepEqual([saved.attributes.q, saved.attributes.from, saved.attributes.to], [q, SAMPLES_RANGE.from, SAMPLES_RANGE.to]);
    guard.check();
  });

  it('opens the event a link names even when it is not on the first page', async () => {
    const far = (await search(server.url, '', { ...SAMPLES_RANGE, limit: 300 })).hits[250];
    await page.goto(discoverUrl(server.url, { ...SAMPLES_RANGE, ev: far._id }));
    const linked = page.getByTestId('linked-event');
    await linked.waitFor();
    const text = (await linked.getByTestId('event-view').textContent()) ?? '';
    assert.ok(text.includes(String(far.message)), `the linked event shows its message: ${text.slice(0, 200)}`);
    // Escape closes it, as it closes an expanded row.
    await page.keyboard.press('Escape');
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('ev'));
    assert.equal(await linked.count(), 0);
    guard.check();
  });

  it('toggles newest first and oldest first', async () => {
    const q = 'syslog.appname:sshd';
    await page.goto(discoverUrl(server.url, { q, ...SAMPLES_RANGE }));
    const desc = (await search(server.url, q, { ...SAMPLES_RANGE, limit: 100, order: 'desc' })).hits.map((h) => h._id);
    const asc = (await search(server.url, q, { ...SAMPLES_RANGE, limit: 100, order: 'asc' })).hits.map((h) => h._id);
    assert.notDeepEqual(desc, asc);
    await page.waitForFunction((id) => document.querySelector('[data-testid=hit-row]')?.getAttribute('data-id') === id, desc[0]);
    assert.deepEqual(await rowIds(page), desc);
    await page.getByTestId('sort-toggle').click();
    await page.waitForURL((u) => u.searchParams.get('sort') === 'asc');
    await page.waitForFunction((id) => document.querySelector('[data-testid=hit-row]')?.getAttribute('data-id') === id, asc[0]);
    assert.deepEqual(await rowIds(page), asc);
    // Messages cut to one line, or shown whole.
    assert.equal(await page.locator('.hit-table-box.wrap').count(), 0);
    await page.getByTestId('wrap-toggle').click();
    await page.waitForURL((u) => u.searchParams.get('wrap') === '1');
    await page.locator('.hit-table-box.wrap').waitFor();
    assert.equal(await page.locator('.hit-table-box.wrap .cell').first().evaluate((el) => getComputedStyle(el).whiteSpace), 'pre-wrap');
    guard.check();
  });

  it('loads more rows through the cursor when scrolled to the end', async () => {
    await page.goto(discoverUrl(server.url, SAMPLES_RANGE));
    const want = (await search(server.url, '', { ...SAMPLES_RANGE, limit: 250 })).hits.map((h) => h._id);
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=hit-row]').length === 100);
    for (const n of [200, 300]) {
      await page.locator('.hit-more').scrollIntoViewIfNeeded();
      await page.waitForFunction((k) => document.querySelectorAll('[data-testid=hit-row]').length >= k, n);
    }
    const ids = await rowIds(page);
    assert.deepEqual(ids.slice(0, 250), want, 'the rows continue in order, none twice');
    assert.equal(new Set(ids).size, ids.length);
    guard.check();
  });

  it('shows progress for a slow search, and Cancel aborts it', async () => {
    // The search request is held (not answered) until the page gives up on it.
    let aborted = false;
    await page.route('**/api/v1/search?**', async (route) => {
      const url = new URL(route.request().url());
      if (url.searchParams.get('q') !== 'held:search') return route.continue();
      await new Promise<void>((resolve) => {
        const timer = setInterval(() => {
          if (aborted) {
            clearInterval(timer);
            resolve();
          }
        }, 50);
      });
      await route.abort().catch(() => undefined);
    });
    page.on('requestfailed', (r) => {
      if (r.url().includes('held%3Asearch')) aborted = true;
    });
    await page.goto(discoverUrl(server.url, { q: 'held:search', ...APACHE }));
    await page.getByTestId('searching').waitFor();
    await page.getByTestId('cancel-search').click();
    await page.getByTestId('search-cancelled').waitFor();
    await page.waitForFunction(() => !document.querySelector('[data-testid=searching]'));
    assert.equal(await page.getByTestId('hit-count').count(), 0);
    await page.unroute('**/api/v1/search?**');
    aborted = true;
    guard.check();
  });

  it('says what to do when nothing matches in the range', async () => {
    await page.goto(discoverUrl(server.url, { from: '2001-01-01T00:00:00Z', to: '2001-01-02T00:00:00Z' }));
    await expectCount(page, 0);
    await page.getByTestId('no-hits').getByText('Widen the time range').waitFor();
    await page.getByTestId('jump-latest').click();
    await page.waitForURL((u) => u.searchParams.get('from')?.startsWith('2026-04-19') === true);
    const day = { from: params(page).get('from')!, to: params(page).get('to')! };
    const want = await apiTotal(server.url, '', day);
    assert.ok(want > 0);
    await expectCount(page, want);
    // A query that matches nothing at any time says so instead.
    await page.goto(discoverUrl(server.url, { q: 'host:nothing-here', ...APACHE }));
    await page.getByTestId('no-hits').getByText('No events match this query').waitFor();
    guard.check();
  });

  it('takes the screenshot: stacked histogram and rows', async () => {
    await page.goto(discoverUrl(server.url, { ...APACHE, by: 'response', cols: 'clientip,verb,request,response,bytes' }));
    await expectCount(page, await apiTotal(server.url, '', APACHE));
    await page.locator('[data-testid=histogram] canvas').waitFor();
    await page.locator('[data-testid=hit-row]').nth(20).waitFor();
    await screenshot(page, 'discover');
    guard.check();
  });
});
