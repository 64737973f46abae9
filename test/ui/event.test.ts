/**
 * The event view and the field sidebar in Discover, in a real Chromium against a real server
 * child with the shared samples imported: an expanded event shows exactly the API's hit; "filter
 * for" on a value and a click on a sidebar value add the clause to the URL's query and the count
 * follows the API's; the sidebar's top values are the API's. A hostile event (markup in its
 * message, a script tag as a field name, a javascript: URL as a value, markup in a tag) shows its
 * characters and runs nothing in the event view, the sidebar and the surrounding-events page.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { guardedPage, importSamples, launchBrowser, SAMPLES_RANGE, screenshot, xssCalls, type Guard, XSS_FIELD, XSS_MESSAGE, XSS_VALUE } from '../helpers/browser.js';
import { apiGet, ingestOk, removeDir, search, spawnServer, stopChild, tempDir, type ChildServer } from '../helpers/server.js';

const XSS_TAG = '<b onmouseover=alert(2)>tag</b>';
const XSS_SOURCE = 'xss-test';

/** A value as the event view writes it: strings as they are, the rest as JSON. */
function shown(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function discoverUrl(base: string, q: string, extra: Record<string, string> = {}): string {
  const p = new URLSearchParams({ q, from: SAMPLES_RANGE.from, to: SAMPLES_RANGE.to, ...extra });
  return `${base}/app/discover?${p.toString()}`;
}

async function apiTotal(base: string, q: string): Promise<number> {
  return (await search(base, q, { ...SAMPLES_RANGE, limit: 1 })).total;
}

/** Waits until Discover's hit count reads `n` (it changes as searches finish), then returns what it reads. */
async function waitForCount(page: Page, n: number): Promise<number> {
  await page.waitForFunction((want) => {
    const el = document.querySelector('[data-testid=hit-count]');
    return el !== null && Number((el.textContent ?? '').replace(/[^\d]/g, '')) === want;
  }, n);
  return Number(((await page.getByTestId('hit-count').textContent()) ?? '').replace(/[^\d]/g, ''));
}

function urlQuery(page: Page): string {
  return new URL(page.url()).searchParams.get('q') ?? '';
}

describe('event view and field sidebar', () => {
  let work: string;
  let server: ChildServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let guard: Guard;

  before(async () => {
    work = tempDir();
    server = await spawnServer(path.join(work, 'data'));
    await importSamples(server.url, work, 2000);
    await ingestOk(server.url, [
      {
        '@timestamp': '2026-03-27T14:00:00.000Z',
        host: 'xss-host',
        source: XSS_SOURCE,
        message: XSS_MESSAGE,
        [XSS_FIELD]: XSS_VALUE,
        tags: [XSS_TAG, 'plain'],
      },
      // One field stored with two types: the sidebar marks the conflict.
      { '@timestamp': '2026-03-27T14:00:01.000Z', host: 'mixed-host', mixed: 5 },
      { '@timestamp': '2026-03-27T14:00:02.000Z', host: 'mixed-host', mixed: 'five' },
    ]);
    browser = await launchBrowser();
    ({ context, page, guard } = await guardedPage(browser));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    if (server) await stopChild(server);
    if (work) removeDir(work);
  });

  it('expands an event to exactly the API hit, as a table and as JSON', async () => {
    const q = 'verb:GET';
    const hit = (await search(server.url, q, { ...SAMPLES_RANGE, limit: 1 })).hits[0];
    assert.ok(hit, 'the samples have GET requests');
    await page.goto(discoverUrl(server.url, q));
    await page.getByTestId('hit-row').first().click();
    const view = page.getByTestId('event-view');
    await view.waitFor();
    assert.equal(await view.getAttribute('data-id'), hit._id);
    assert.equal(new URL(page.url()).searchParams.get('ev'), hit._id);

    const fields = await view.locator('[data-testid=event-field]').evaluateAll((trs) =>
      trs.map((tr) => [tr.getAttribute('data-field') ?? '', tr.querySelector('[data-testid=event-field-value]')?.textContent ?? ''] as const),
    );
    const want = Object.keys(hit).filter((k) => k !== '_id');
    assert.deepEqual(fields.map(([k]) => k).sort(), [...want].sort());
    for (const [name, text] of fields) {
      if (name === '@timestamp') assert.match(text, /^2015-05-\d\d \d\d:\d\d:\d\d\.\d{3} UTC$/, 'the time in the chosen zone, the zone named');
      else assert.equal(text, shown(hit[name]), `field ${name}`);
    }
    // The surrounding-events link is made from the id alone (and the scope fields the event has).
    const link = await view.getByTestId('context-link').getAttribute('href');
    assert.equal(link, `/app/context?id=${encodeURIComponent(hit._id)}&by=source`);

    await screenshot(page, 'event');

    // "copy" puts the value on the clipboard, as text.
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    await view.locator('[data-testid=event-field][data-field=message] [data-testid=copy]').click();
    await page.waitForFunction(async (want) => (await navigator.clipboard.readText()) === want, String(hit.message));

    await view.getByTestId('event-tab-json').click();
    const json = await view.getByTestId('event-json').textContent();
    assert.deepEqual(JSON.parse(json ?? ''), hit);
    await view.getByTestId('event-tab-table').click();
    guard.check();
  });

  it('"filter for" and "filter out" on a value narrow the query, and the count is the API\'s', async () => {
    const view = page.getByTestId('event-view');
    const response = await view.locator('[data-testid=event-field][data-field=response] [data-testid=event-field-value]').textContent();
    assert.ok(response, 'the event has a response');
    await view.locator('[data-testid=event-field][data-field=response] [data-testid=filter-for]').click();
    const wantQ = `verb:GET AND response:"${response}"`;
    await page.waitForURL(() => urlQuery(page) === wantQ);
    assert.equal(await waitForCount(page, await apiTotal(server.url, wantQ)), await apiTotal(server.url, wantQ));

    // The expanded event was closed by the new search; open the first again and filter a value out.
    await page.getByTestId('hit-row').first().click();
    await page.getByTestId('event-view').waitFor();
    const verbRow = page.locator('[data-testid=event-view] [data-testid=event-field][data-field=httpversion]');
    const version = await verbRow.locator('[data-testid=event-field-value]').textContent();
    await verbRow.locator('[data-testid=filter-out]').click();
    const outQ = `${wantQ} AND NOT httpversion:"${version}"`;
    await page.waitForURL(() => urlQuery(page) === outQ);
    const total = await apiTotal(server.url, outQ);
    assert.equal(await waitForCount(page, total), total);
    guard.check();
  });

  it('the sidebar shows a field\'s top values and share as the API does, and adds filters and columns', async () => {
    const q = 'host:"ip-10-77-20-248"';
    await page.goto(discoverUrl(server.url, q));
    await page.getByTestId('hit-row').first().waitFor();
    const field = page.getByTestId('field-syslog.appname');
    await field.locator('.fs-name').click();
    await field.getByTestId('field-value').first().waitFor();

    const api = (await apiGet(server.url, '/api/v1/fields', { q, ...SAMPLES_RANGE, field: 'syslog.appname', size: 5 })).body as {
      count: number;
      total: number;
      values: { value: unknown; count: number }[];
    };
    assert.ok(api.values.length >= 2, 'auth.log has several programs');
    const values = await field.getByTestId('field-value').evaluateAll((lis) =>
      lis.map((li) => [li.getAttribute('data-value') ?? '', li.querySelector('.fs-value-count')?.textContent ?? ''] as const),
    );
    assert.deepEqual(
      values,
      api.values.map((v) => [String(v.value), v.count.toLocaleString('en-US')]),
    );
    const share = (await field.getByTestId('field-share').textContent()) ?? '';
    assert.ok(share.includes(`In ${api.count.toLocaleString('en-US')} of ${api.total.toLocaleString('en-US')} events`), share);
    assert.ok(share.endsWith(`${Math.round((api.count / api.total) * 100)}%`), share);

    // A click on the second value filters for it.
    const second = String(api.values[1].value);
    await field.getByTestId('field-value').nth(1).locator('.fs-value-main').click();
    const forQ = `${q} AND syslog.appname:"${second}"`;
    await page.waitForURL(() => urlQuery(page) === forQ);
    assert.equal(await waitForCount(page, api.values[1].count), api.values[1].count);

    // Back, then the minus of the first value filters it out.
    await page.goBack();
    await page.waitForURL(() => urlQuery(page) === q);
    const again = page.getByTestId('field-syslog.appname');
    // The field stays open across the new search (its button says so); open it if not.
    if ((await again.locator('.fs-name').getAttribute('aria-expanded')) !== 'true') await again.locator('.fs-name').click();
    await again.getByTestId('field-value').first().getByTestId('field-value-out').click();
    const outQ = `${q} AND NOT syslog.appname:"${String(api.values[0].value)}"`;
    await page.waitForURL(() => urlQuery(page) === outQ);
    const total = await apiTotal(server.url, outQ);
    assert.equal(await waitForCount(page, total), total);

    // The column button adds the field as a column, and again removes it.
    await page.getByTestId('field-syslog.appname').getByTestId('field-toggle-column').click();
    await page.waitForURL((u) => (u.searchParams.get('cols') ?? '').split(',').includes('syslog.appname'));
    await page.getByTestId('field-syslog.appname').getByTestId('field-toggle-column').click();
    await page.waitForURL((u) => !(u.searchParams.get('cols') ?? '').split(',').includes('syslog.appname'));

    // A field stored with conflicting types carries the warning mark, naming both; others do not.
    const mark = page.getByTestId('field-mixed').getByTestId('field-conflict');
    await mark.waitFor();
    assert.match((await mark.getAttribute('title')) ?? '', /integer.*string|string.*integer/);
    assert.equal(await page.getByTestId('field-syslog.appname').getByTestId('field-conflict').count(), 0);

    // The search box narrows the list.
    await page.getByTestId('field-search').fill('appn');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=field-sidebar] .fs-field').length === 1);
    assert.equal(await page.locator('[data-testid=field-sidebar] .fs-field').first().getAttribute('data-field'), 'syslog.appname');
    guard.check();
  });

  it('a piped query shows its table (numbers right-aligned, with separators) and a chart', async () => {
    const q = '* | stats count() by syslog.appname | sort -count';
    const api = (await apiGet(server.url, '/api/v1/search', { q, ...SAMPLES_RANGE })).body as { columns: string[]; rows: unknown[][] };
    assert.ok(api.rows.length >= 3);
    await page.goto(discoverUrl(server.url, q));
    await page.getByTestId('result-table').waitFor();
    const head = await page.locator('[data-testid=result-table] thead th').allTextContents();
    assert.deepEqual(head, api.columns);
    const rows = await page.getByTestId('result-row').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')));
    assert.deepEqual(
      rows,
      api.rows.map((r) => r.map((v) => (v === null ? '—' : typeof v === 'number' ? v.toLocaleString('en-US') : String(v)))),
    );
    assert.ok(rows.some((r) => /\d,\d{3}/.test(r[1])), 'a count over 999 has its thousands separator');
    const align = await page.locator('[data-testid=result-row] td.num').first().evaluate((td) => getComputedStyle(td).textAlign);
    assert.equal(align, 'right');
    // Bars for one key and one metric: one bar per row.
    assert.equal(await page.locator('[data-testid=result-chart] [data-testid=bar]').count(), api.rows.length);

    // A time key: lines (uPlot draws on a canvas), the table beside it.
    const tq = 'host:* | stats count() by @timestamp | head 50';
    await page.goto(discoverUrl(server.url, tq));
    await page.locator('[data-testid=line-chart] canvas').waitFor();
    const n = ((await apiGet(server.url, '/api/v1/search', { q: tq, ...SAMPLES_RANGE })).body as { rows: unknown[][] }).rows.length;
    assert.equal(await page.getByTestId('result-row').count(), n);
    guard.check();
  });

  it('a hostile event shows its characters and runs nothing: event view, sidebar, surrounding events', async () => {
    const q = `source:"${XSS_SOURCE}"`;
    await page.goto(discoverUrl(server.url, q));
    await page.getByTestId('hit-row').first().click();
    const view = page.getByTestId('event-view');
    await view.waitFor();
    const value = (name: string) => view.locator(`[data-testid=event-field][data-field="${name.replace(/["\\]/g, '\\$&')}"] [data-testid=event-field-value]`).textContent();
    assert.equal(await value('message'), XSS_MESSAGE);
    assert.equal(await value(XSS_FIELD), XSS_VALUE);
    const names = await view.getByTestId('event-field-name').allTextContents();
    assert.ok(names.includes(XSS_FIELD), `field names: ${names.join(', ')}`);
    assert.deepEqual(await view.getByTestId('tag-chip').allTextContents(), [XSS_TAG, 'plain']);
    // Nothing became an element: no img, script or bold in the view, no link but ours.
    assert.equal(await view.locator('img, script, b').count(), 0);
    assert.deepEqual(await view.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))), [
      `/app/context?id=${encodeURIComponent((await view.getAttribute('data-id')) ?? '')}&by=host,source`,
    ]);
    await view.getByTestId('event-tab-json').click();
    assert.ok(((await view.getByTestId('event-json').textContent()) ?? '').includes(JSON.stringify(XSS_FIELD)));
    await view.getByTestId('event-tab-table').click();

    // The sidebar: the hostile field name, and its value once expanded.
    const side = page.getByTestId(`field-${XSS_FIELD}`);
    await side.waitFor();
    assert.equal(await side.locator('.fs-label').textContent(), XSS_FIELD);
    await side.locator('.fs-name').click();
    await side.getByTestId('field-value').first().waitFor();
    assert.equal(await side.locator('.fs-value-text').first().textContent(), XSS_VALUE);
    assert.equal(await page.getByTestId('field-sidebar').locator('img, script, a').count(), 0);

    // Surrounding events of the hostile event.
    await view.getByTestId('context-link').click();
    await page.waitForURL((u) => u.pathname === '/app/context');
    const anchor = page.getByTestId('context-anchor');
    await anchor.waitFor();
    assert.equal(await anchor.locator('.ctx-message').textContent(), XSS_MESSAGE);
    assert.equal(await page.getByTestId('context-page').locator('img, script').count(), 0);

    guard.check();
    assert.deepEqual(await xssCalls(page), []);
  });
});
