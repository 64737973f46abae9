/**
 * Dashboards and saved searches in a real Chromium against a real server child holding the
 * shared samples, parsed. A dashboard is built through the page (three panels), each panel's
 * figure compared with the API's answer for the same query and range, saved, reloaded, found in
 * the list, moved and resized on the grid, renamed, exported to a JSON file and imported back,
 * deleted. Saved searches are listed and opened in Discover. Hostile event content shown in
 * panels must be characters and run nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { guardedPage, importSamples, launchBrowser, screenshot, xssCalls, type Guard, XSS_FIELD, XSS_MESSAGE, XSS_VALUE } from '../helpers/browser.js';
import { apiGet, ingestOk, removeDir, spawnServer, stopChild, table, tempDir, type ChildServer } from '../helpers/server.js';

/** The syslog program's field as `logmill import` parses auth.log (RFC 3164's TAG). */
const PROGRAM = 'syslog.appname';
const TITLE = 'SSH overview';

interface SavedObjectAnswer {
  id: string;
  type: string;
  title: string;
  attributes: { from?: string; to?: string; panels?: { title: string; type: string; layout: { x: number; y: number; w: number; h: number } }[] };
}

async function savedObjects(base: string, type: 'dashboard' | 'search'): Promise<SavedObjectAnswer[]> {
  const r = await apiGet<{ objects: SavedObjectAnswer[] }>(base, '/api/v1/saved-objects', { type });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.objects;
}

function panel(page: Page, title: string): Locator {
  return page.locator('[data-testid=panel]', { has: page.locator('[data-testid=panel-title] h3', { hasText: title }) });
}

/** Waits until no panel is loading (every panel has its answer or its error). */
async function panelsSettled(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (count) => {
      const bodies = [...document.querySelectorAll('[data-testid=panel-body]')];
      return bodies.length === count && bodies.every((b) => b.getAttribute('data-loading') === 'false');
    },
    n,
    { timeout: 20_000 },
  );
}

async function addPanel(page: Page, o: { type: string; title: string; q?: string; field?: string; chart?: string; columns?: string; metric?: string; percentile?: string }): Promise<void> {
  await page.getByTestId('add-panel').click();
  const form = page.getByTestId('panel-form');
  await form.waitFor();
  await form.getByTestId(`panel-type-${o.type}`).click();
  await form.getByTestId('panel-title-input').fill(o.title);
  if (o.q) {
    await form.getByTestId('panel-query-input').click();
    await page.keyboard.type(o.q);
    await form.getByTestId('panel-title-input').click(); // leaving the editor closes its suggestions
  }
  if (o.metric) await form.getByTestId('panel-metric').selectOption(o.metric);
  if (o.percentile) await form.getByTestId('panel-percentile').fill(o.percentile);
  if (o.field !== undefined) await form.getByTestId('panel-field').fill(o.field);
  if (o.chart) await form.getByTestId('panel-chart').selectOption(o.chart);
  if (o.columns !== undefined) await form.getByTestId('panel-columns').fill(o.columns);
  await form.getByTestId('panel-save').click();
  await form.waitFor({ state: 'detached' });
  await panel(page, o.title).waitFor();
}

async function boxOf(l: Locator): Promise<number[]> {
  return ((await l.getAttribute('data-box')) ?? '').split(',').map(Number);
}

describe('Dashboards', () => {
  let work: string;
  let server: ChildServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let guard: Guard;
  /** The auth.log's span as imported (its year-less dates take the file's year). */
  let range: { from: string; to: string };
  let dashboardId = '';

  before(async () => {
    work = tempDir();
    server = await spawnServer(path.join(work, 'data'));
    await importSamples(server.url, work);
    const span = await table(server.url, `_exists_:${PROGRAM} | stats min(@timestamp), max(@timestamp)`, { from: '2015-01-01T00:00:00Z', to: 'now+400d' });
    const [min, max] = span.rows[0].map((v) => new Date(v as string).getTime());
    assert.ok(Number.isFinite(min) && Number.isFinite(max), `auth.log's span: ${JSON.stringify(span.rows)}`);
    range = { from: new Date(min).toISOString(), to: new Date(max + 1000).toISOString() };
    await ingestOk(server.url, [{ '@timestamp': new Date(min + 60_000).toISOString(), message: XSS_MESSAGE, [XSS_FIELD]: XSS_VALUE, marker: 'xss-case', host: 'evil' }]);
    browser = await launchBrowser();
    ({ context, page, guard } = await guardedPage(browser, { viewport: { width: 1440, height: 900 } }));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    if (server) await stopChild(server);
    removeDir(work);
  });

  it('creates a dashboard from the empty list and sets its range with the time picker, into the URL', async () => {
    await page.goto(`${server.url}/app/dashboards`);
    await page.getByTestId('dashboards-empty').waitFor();
    await page.getByTestId('new-dashboard').click();
    await page.getByTestId('prompt-input').fill(TITLE);
    await page.getByTestId('prompt-ok').click();
    await page.waitForURL(/\/app\/dashboards\/[^/?]+/);
    dashboardId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    await page.getByTestId('dashboard-empty').waitFor();
    assert.equal((await page.getByTestId('dashboard-title').textContent())?.trim(), TITLE);
    const stored = await savedObjects(server.url, 'dashboard');
    assert.deepEqual(
      stored.map((o) => [o.id, o.title]),
      [[dashboardId, TITLE]],
    );

    await page.getByTestId('time-picker').click();
    await page.getByTestId('time-from').fill(range.from);
    await page.getByTestId('time-to').fill(range.to);
    await page.getByTestId('time-apply').click();
    await page.waitForURL((u) => u.searchParams.get('from') === range.from && u.searchParams.get('to') === range.to);
    await page.getByTestId('unsaved').waitFor();
    guard.check();
  });

  it('adds three panels, each showing what the API answers for its query', async () => {
    await addPanel(page, { type: 'histogram', title: 'Events by host', field: 'host' });
    await addPanel(page, { type: 'top', title: 'Top programs', field: PROGRAM });
    await addPanel(page, { type: 'metric', title: 'All events' });
    await panelsSettled(page, 3);
    assert.equal(await page.locator('[data-testid=panel-error]').count(), 0, 'no panel failed');

    // Count over time by host: the legend names the API's series.
    const hist = await apiGet<{ series?: { value: unknown }[]; buckets: { count: number }[] }>(server.url, '/api/v1/histogram', { ...range, by: 'host', size: 10 });
    assert.equal(hist.status, 200);
    const series = (hist.body.series ?? []).map((s) => String(s.value));
    assert.ok(series.includes('ip-10-77-20-248') && series.includes('evil'), `the API's series: ${series.join(', ')}`);
    const legend = (await panel(page, 'Events by host').getByTestId('histogram-legend').textContent()) ?? '';
    for (const s of series) assert.ok(legend.includes(s), `the legend "${legend}" names ${s}`);
    assert.ok((await panel(page, 'Events by host').locator('canvas').count()) >= 1, 'the chart is drawn');

    // Top values as bars: the first bar is the API's first value, one bar per value.
    const top = await apiGet<{ values: { value: unknown; count: number }[] }>(server.url, '/api/v1/fields', { ...range, field: PROGRAM, size: 10 });
    assert.equal(top.status, 200);
    const bars = panel(page, 'Top programs').locator('[data-testid=bar]');
    assert.equal(await bars.count(), top.body.values.length);
    assert.equal((await bars.first().locator('text.label').textContent())?.trim(), String(top.body.values[0].value));
    assert.equal((await bars.first().locator('text.value').textContent())?.trim(), top.body.values[0].count.toLocaleString('en-US'));

    // The metric: the count of every event in the range, with thousands separators.
    const total = Number((await table(server.url, '* | stats count()', range)).rows[0][0]);
    assert.ok(total > 7000, `auth.log's events: ${total}`);
    const metric = panel(page, 'All events').getByTestId('metric-value');
    assert.equal(Number(await metric.getAttribute('data-value')), total);
    assert.equal((await metric.textContent())?.trim(), total.toLocaleString('en-US'));
    guard.check();
  });

  it('saves; the reloaded page and the list show the dashboard with its panels', async () => {
    await page.getByTestId('save-dashboard').click();
    await page.getByTestId('saved').waitFor();
    assert.equal(await page.getByTestId('unsaved').count(), 0);
    const [stored] = await savedObjects(server.url, 'dashboard');
    assert.deepEqual(
      stored.attributes.panels?.map((p) => [p.type, p.title]),
      [
        ['histogram', 'Events by host'],
        ['top', 'Top programs'],
        ['metric', 'All events'],
      ],
    );
    assert.equal(stored.attributes.from, range.from);
    assert.equal(stored.attributes.to, range.to);

    await page.reload();
    await panelsSettled(page, 3);
    assert.equal(await page.getByTestId('unsaved').count(), 0, 'nothing unsaved after a reload');

    // From the list, without the range in the URL: the saved range comes back.
    await page.goto(`${server.url}/app/dashboards`);
    const row = page.getByTestId('dashboard-row').filter({ hasText: TITLE });
    await row.waitFor();
    assert.equal(await page.getByTestId('dashboard-row').count(), 1);
    assert.equal((await row.getByTestId('dashboard-panel-count').textContent())?.trim(), '3', 'the row counts three panels');
    await row.getByTestId('dashboard-link').click();
    await page.waitForURL((u) => u.pathname.endsWith(`/${encodeURIComponent(dashboardId)}`) && u.searchParams.get('from') === range.from);
    await panelsSettled(page, 3);
    for (const t of ['Events by host', 'Top programs', 'All events']) assert.equal(await panel(page, t).count(), 1, t);
    const total = Number((await table(server.url, '* | stats count()', range)).rows[0][0]);
    assert.equal(Number(await panel(page, 'All events').getByTestId('metric-value').getAttribute('data-value')), total);
    await screenshot(page, 'dashboard');
    guard.check();
  });

  it('moves a panel by its title bar and resizes it by its corner; save keeps the layout', async () => {
    const metric = panel(page, 'All events');
    const before = await boxOf(metric);
    const grid = await page.getByTestId('grid').boundingBox();
    assert.ok(grid);
    const cell = grid.width / 12;
    assert.deepEqual(before.slice(2), [3, 2], `a new metric is 3 × 2: ${before}`);
    assert.ok(before[1] > 0, `the metric starts below the charts: ${before}`);
    // Drag the metric to the top left corner: the histogram there moves down under it.
    const title = await metric.getByTestId('panel-title').boundingBox();
    assert.ok(title);
    const rowPitch = 64 + 12;
    await page.mouse.move(title.x + 40, title.y + title.height / 2);
    await page.mouse.down();
    await page.mouse.move(title.x + 40 - before[0] * cell, title.y + title.height / 2 - before[1] * rowPitch, { steps: 8 });
    await page.mouse.up();
    await page.getByTestId('unsaved').waitFor();
    const moved = await boxOf(metric);
    assert.deepEqual(moved, [0, 0, 3, 2], `moved to the top left: ${before} → ${moved}`);
    const hist = await boxOf(panel(page, 'Events by host'));
    assert.equal(hist[1], 2, `the histogram went below the metric: ${hist}`);
    // Widen it by three columns and make it a row taller.
    const corner = await metric.getByTestId('panel-resize').boundingBox();
    assert.ok(corner);
    await page.mouse.move(corner.x + 8, corner.y + 8);
    await page.mouse.down();
    await page.mouse.move(corner.x + 8 + 3 * cell, corner.y + 8 + rowPitch, { steps: 8 });
    await page.mouse.up();
    const resized = await boxOf(metric);
    assert.equal(resized[2], moved[2] + 3, `three columns wider: ${moved} → ${resized}`);
    assert.equal(resized[3], moved[3] + 1, `a row taller: ${moved} → ${resized}`);
    // No two panels overlap.
    const boxes = await page.locator('[data-testid=panel]').evaluateAll((els) => els.map((e) => (e.getAttribute('data-box') ?? '').split(',').map(Number)));
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [a, b] = [boxes[i], boxes[j]];
        const overlap = a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3];
        assert.ok(!overlap, `panels ${a} and ${b} overlap`);
      }
    await page.getByTestId('save-dashboard').click();
    await page.getByTestId('saved').waitFor();
    await page.reload();
    await panelsSettled(page, 3);
    assert.deepEqual(await boxOf(panel(page, 'All events')), resized);
    guard.check();
  });

  it('shows a bad query’s error inside its panel only', async () => {
    await addPanel(page, { type: 'metric', title: 'Broken', q: 'response:(500' });
    await panelsSettled(page, 4);
    const broken = panel(page, 'Broken');
    const message = (await broken.getByTestId('panel-error').textContent()) ?? '';
    const api = await apiGet<{ error: { type: string; message: string } }>(server.url, '/api/v1/search', { ...range, q: 'response:(500 | stats count()' });
    assert.equal(api.status, 400);
    assert.ok(message.includes(api.body.error.message), `the panel says "${message}"`);
    assert.equal(await page.locator('[data-testid=panel-error]').count(), 1, 'the other panels are fine');
    assert.ok((await panel(page, 'All events').getByTestId('metric-value').textContent())?.trim());
    // Fix it through the edit form.
    await broken.getByTestId('panel-edit').click();
    const form = page.getByTestId('panel-form');
    await form.getByTestId('panel-query-input').click();
    await page.keyboard.press('End');
    await page.keyboard.type(')');
    await form.getByTestId('panel-title-input').click();
    await form.getByTestId('panel-save').click();
    await panelsSettled(page, 4);
    assert.equal(await broken.getByTestId('panel-error').count(), 0);
    const want = Number((await table(server.url, 'response:(500) | stats count()', range)).rows[0][0]);
    assert.equal(Number(await broken.getByTestId('metric-value').getAttribute('data-value')), want);
    // Removing asks in the page, and leaves the saved dashboard as it was until saved.
    await broken.getByTestId('panel-remove').click();
    await page.getByTestId('confirm-ok').click();
    await panelsSettled(page, 3);
    assert.equal(await page.getByTestId('unsaved').count(), 0, 'back to the saved version');
    guard.check();
  });

  it('computes average and percentile metrics as the API does', async () => {
    await addPanel(page, { type: 'metric', title: 'Mean severity', metric: 'avg', field: 'syslog.severity' });
    await addPanel(page, { type: 'metric', title: 'Severity p95', metric: 'percentile', percentile: '95', field: 'syslog.severity', q: 'syslog.appname:sshd' });
    await panelsSettled(page, 5);
    const avg = Number((await table(server.url, '* | stats avg(syslog.severity)', range)).rows[0][0]);
    const p95 = Number((await table(server.url, 'syslog.appname:sshd | stats p95(syslog.severity)', range)).rows[0][0]);
    assert.ok(Number.isFinite(avg) && Number.isFinite(p95));
    assert.equal(Number(await panel(page, 'Mean severity').getByTestId('metric-value').getAttribute('data-value')), avg);
    assert.equal(Number(await panel(page, 'Severity p95').getByTestId('metric-value').getAttribute('data-value')), p95);
    assert.match((await panel(page, 'Severity p95').textContent()) ?? '', /p95 of syslog\.severity/);
    await page.getByTestId('revert').click();
    await panelsSettled(page, 3);
    assert.equal(await page.getByTestId('unsaved').count(), 0);
    guard.check();
  });

  it('renames, exports to JSON, imports it back as a second dashboard, deletes', async () => {
    await page.goto(`${server.url}/app/dashboards`);
    const row = page.getByTestId('dashboard-row').filter({ hasText: TITLE });
    await row.getByTestId('rename-dashboard').click();
    await page.getByTestId('prompt-input').fill('SSH at a glance');
    await page.getByTestId('prompt-ok').click();
    await page.getByTestId('dashboard-row').filter({ hasText: 'SSH at a glance' }).waitFor();
    assert.deepEqual(
      (await savedObjects(server.url, 'dashboard')).map((o) => o.title),
      ['SSH at a glance'],
    );

    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-dashboard').click()]);
    const file = path.join(work, download.suggestedFilename());
    await download.saveAs(file);
    assert.match(download.suggestedFilename(), /\.json$/);
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as { title: string; attributes: { panels: { title: string }[]; from: string } };
    assert.equal(exported.title, 'SSH at a glance');
    assert.deepEqual(
      exported.attributes.panels.map((p) => p.title),
      ['Events by host', 'Top programs', 'All events'],
    );
    assert.equal(exported.attributes.from, range.from);

    await page.getByTestId('import-file').setInputFiles(file);
    await page.getByTestId('dashboard-row').nth(1).waitFor();
    const stored = await savedObjects(server.url, 'dashboard');
    assert.equal(stored.length, 2);
    const copy = stored.find((o) => o.id !== dashboardId);
    assert.ok(copy);
    assert.equal(copy.title, 'SSH at a glance (imported)');
    assert.deepEqual(
      copy.attributes.panels?.map((p) => p.title),
      ['Events by host', 'Top programs', 'All events'],
    );

    // A file that is not a dashboard is refused, saying why; nothing is added.
    const bad = path.join(work, 'not-a-dashboard.json');
    fs.writeFileSync(bad, '{"hello": 1}');
    await page.getByTestId('import-file').setInputFiles(bad);
    await page.getByTestId('dashboards-notice').filter({ hasText: 'not-a-dashboard.json' }).waitFor();
    assert.equal((await savedObjects(server.url, 'dashboard')).length, 2);

    const copyRow = page.locator(`[data-testid=dashboard-row][data-id="${copy.id}"]`);
    await copyRow.getByTestId('delete-dashboard').click();
    await page.getByTestId('confirm-dialog').waitFor();
    await page.getByTestId('confirm-ok').click();
    await copyRow.waitFor({ state: 'detached' });
    assert.deepEqual(
      (await savedObjects(server.url, 'dashboard')).map((o) => o.id),
      [dashboardId],
    );
    assert.equal(await page.getByTestId('dashboard-row').count(), 1);
    guard.check();
  });

  it('lists saved searches and opens one in Discover with its query in the URL', async () => {
    const attributes = { q: `${PROGRAM}:sshd`, from: range.from, to: range.to, cols: ['host', 'message'], sort: 'asc' };
    const res = await fetch(`${server.url}/api/v1/saved-objects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'search', title: 'sshd lines', attributes }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    await page.goto(`${server.url}/app/searches`);
    const row = page.getByTestId('search-row').filter({ hasText: 'sshd lines' });
    await row.waitFor();
    assert.ok(((await row.textContent()) ?? '').includes(attributes.q), 'the row shows the query');
    await row.getByTestId('search-open').click();
    await page.waitForURL((u) => u.pathname === '/app/discover');
    const params = new URL(page.url()).searchParams;
    assert.equal(params.get('q'), attributes.q);
    assert.equal(params.get('from'), range.from);
    assert.equal(params.get('to'), range.to);
    assert.equal(params.get('cols'), 'host,message');
    assert.equal(params.get('sort'), 'asc');

    // Rename and delete from the list.
    await page.goto(`${server.url}/app/searches`);
    await page.getByTestId('search-row').first().getByTestId('rename-search').click();
    await page.getByTestId('prompt-input').fill('SSH daemon');
    await page.getByTestId('prompt-ok').click();
    await page.getByTestId('search-row').filter({ hasText: 'SSH daemon' }).waitFor();
    assert.deepEqual(
      (await savedObjects(server.url, 'search')).map((o) => o.title),
      ['SSH daemon'],
    );
    await page.getByTestId('search-row').first().getByTestId('delete-search').click();
    await page.getByTestId('confirm-ok').click();
    await page.getByTestId('searches-empty').waitFor();
    assert.equal((await savedObjects(server.url, 'search')).length, 0);
    guard.check();
  });

  it('shows a hostile event in a table of events and in top values as text only', async () => {
    await page.goto(`${server.url}/app/dashboards/${encodeURIComponent(dashboardId)}`);
    await panelsSettled(page, 3);
    await addPanel(page, { type: 'events', title: 'Hostile events', q: 'marker:xss-case', columns: `message, ${XSS_FIELD}` });
    await addPanel(page, { type: 'top', title: 'Hostile values', q: 'marker:xss-case', field: XSS_FIELD });
    await addPanel(page, { type: 'top', title: 'Hostile messages', q: 'marker:xss-case', field: 'message', chart: 'pie' });
    await panelsSettled(page, 6);
    const events = panel(page, 'Hostile events');
    assert.equal(await events.getByTestId('panel-error').count(), 0);
    const cells = await events.locator('[data-testid=panel-event] td').allTextContents();
    assert.ok(cells.includes(XSS_MESSAGE), `cells: ${JSON.stringify(cells)}`);
    assert.ok(cells.includes(XSS_VALUE), `cells: ${JSON.stringify(cells)}`);
    assert.ok((await events.locator('th').allTextContents()).includes(XSS_FIELD));
    assert.equal((await panel(page, 'Hostile values').locator('[data-testid=bar] text.label').first().textContent())?.trim(), XSS_VALUE);
    assert.ok(((await panel(page, 'Hostile messages').textContent()) ?? '').includes(XSS_MESSAGE));
    // Nothing from the event became an element.
    assert.equal(await page.locator('[data-testid=panel] img, [data-testid=panel] script, [data-testid=panel] a[href^="javascript"]').count(), 0);
    assert.deepEqual(await xssCalls(page), []);
    await screenshot(page, 'dashboard-tables');
    guard.check();
  });
});
