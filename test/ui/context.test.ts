/**
 * Surrounding events in a real Chromium against a real server child: auth.log (one host,
 * several programs) imported, plus events from another host and from another source sent at
 * the very same times. The context of one hit must hold only the anchor's host and source, in
 * the file's own order (compared with the file's lines around the anchor line), and "Load 20
 * older/newer" must extend it in order; unticking a scope field widens it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { guardedPage, launchBrowser, screenshot, xssCalls, type Guard } from '../helpers/browser.js';
import { BIN, ingestOk, removeDir, run, search, spawnServer, stopChild, tempDir, type ChildServer } from '../helpers/server.js';
import { sharedData } from '../helpers/shared-data.js';

const HOST = 'ip-10-77-20-248';
const OTHER_HOST = 'ip-10-0-0-99';
const OTHER_SOURCE = '/var/log/other.log';
/** auth.log lines imported (enough for 40 before and after the anchor). */
const LINES = 600;
/** The anchor: this line of the file (0-based). */
const ANCHOR = 300;
const RANGE = { from: '2015-01-01T00:00:00Z', to: 'now+400d' };

interface Row {
  id: string;
  anchor: boolean;
  host: string;
  source: string;
  message: string;
}

async function rows(page: Page): Promise<Row[]> {
  return page.locator('[data-testid=context-table] tbody tr.ctx-row').evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.getAttribute('data-id') ?? '',
      anchor: tr.getAttribute('data-testid') === 'context-anchor',
      host: tr.querySelector('.ctx-host')?.textContent ?? '',
      source: tr.querySelector('.ctx-source')?.textContent ?? '',
      message: tr.querySelector('.ctx-message')?.textContent ?? '',
    })),
  );
}

async function waitForRows(page: Page, n: number): Promise<void> {
  await page.waitForFunction((want) => document.querySelectorAll('[data-testid=context-table] tbody tr.ctx-row').length === want, n);
}

describe('surrounding events page', () => {
  let work: string;
  let server: ChildServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let guard: Guard;
  let file: string[];
  let source: string;
  let anchorId: string;

  before(async () => {
    work = tempDir();
    server = await spawnServer(path.join(work, 'data'));
    file = fs.readFileSync(sharedData('auth.log'), 'utf8').split('\n').slice(0, LINES);
    source = path.join(work, 'auth.log');
    fs.writeFileSync(source, file.join('\n') + '\n');
    const r = await run(BIN, ['import', '--server', server.url, '--quiet', '--timezone', 'UTC', source]);
    assert.equal(r.code, 0, `logmill import failed: ${r.stderr}`);

    // The hit of the anchor line: the file's events in storage order, the anchor's line checked.
    const hits = (await search(server.url, `host:"${HOST}"`, { ...RANGE, order: 'asc', limit: LINES })).hits;
    assert.equal(hits.length, LINES);
    const anchor = hits[ANCHOR];
    assert.ok(file[ANCHOR].endsWith(String(anchor.message)), `hit ${ANCHOR} is not line ${ANCHOR}: ${String(anchor.message)}`);
    assert.equal(anchor.source, source);
    anchorId = anchor._id;

    // Events of another host (same source name) and of another source (same host), at the very
    // same times as the 60 lines around the anchor: a context scoped by time alone would mix them in.
    const near = hits.slice(ANCHOR - 60, ANCHOR + 60);
    await ingestOk(server.url, [
      ...near.map((h, i) => ({ '@timestamp': h['@timestamp'], host: OTHER_HOST, source, message: `other host line ${i}` })),
      ...near.map((h, i) => ({ '@timestamp': h['@timestamp'], host: HOST, source: OTHER_SOURCE, message: `other source line ${i}` })),
    ]);

    browser = await launchBrowser();
    ({ context, page, guard } = await guardedPage(browser, { viewport: { width: 1400, height: 1000 } }));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    if (server) await stopChild(server);
    if (work) removeDir(work);
  });

  /** The rows must be the file's lines from `first` on, in order, all of the anchor's host and source. */
  function assertFileOrder(got: Row[], first: number): void {
    for (const [i, row] of got.entries()) {
      assert.equal(row.host, HOST, `row ${i} host`);
      assert.equal(row.source, source, `row ${i} source`);
      const line = file[first + i];
      assert.ok(row.message.length > 0 && line.endsWith(row.message), `row ${i} is not file line ${first + i}:\n  row:  ${row.message}\n  line: ${line}`);
    }
  }

  it('shows 20 before and after the hit, same host and source, in the file order', async () => {
    await page.goto(`${server.url}/app/context?id=${encodeURIComponent(anchorId)}&by=host,source`);
    await page.getByTestId('context-anchor').waitFor();
    await waitForRows(page, 41);
    const got = await rows(page);
    assert.equal(got.filter((r) => r.anchor).length, 1);
    assert.equal(got[20].anchor, true, 'the anchor is in the middle');
    assert.equal(got[20].id, anchorId);
    assertFileOrder(got, ANCHOR - 20);
    // The anchor is highlighted: its background differs from its neighbours'.
    const [a, b] = await Promise.all([
      page.getByTestId('context-anchor').evaluate((el) => getComputedStyle(el).backgroundColor),
      page.locator('tr[data-testid=context-row]').first().evaluate((el) => getComputedStyle(el).backgroundColor),
    ]);
    assert.notEqual(a, b);
    await screenshot(page, 'context');
    guard.check();
  });

  it('loads 20 older and 20 newer, in order', async () => {
    await page.getByTestId('context-older').click();
    await waitForRows(page, 61);
    assertFileOrder(await rows(page), ANCHOR - 40);
    await page.getByTestId('context-newer').click();
    await waitForRows(page, 81);
    const got = await rows(page);
    assertFileOrder(got, ANCHOR - 40);
    assert.equal(got[40].id, anchorId);
    guard.check();
  });

  it('widens the scope when a field is unticked', async () => {
    // Without source: the same host's other file shows, the other host does not.
    await page.getByTestId('scope-source').uncheck();
    await page.waitForURL((u) => u.searchParams.get('by') === 'host');
    // The new context has come when the other source shows (the old one never holds it).
    await page.waitForFunction((other) => [...document.querySelectorAll('.ctx-source')].some((td) => td.textContent === other), OTHER_SOURCE);
    await waitForRows(page, 41);
    let got = await rows(page);
    assert.equal(got[20].id, anchorId);
    assert.ok(got.every((r) => r.host === HOST));
    assert.ok(got.some((r) => r.source === OTHER_SOURCE), 'the other source is in a host-only context');
    // Without any scope: everything at those times, the other host too.
    await page.getByTestId('scope-host').uncheck();
    await page.waitForURL((u) => u.searchParams.get('by') === '');
    await page.waitForFunction((other) => [...document.querySelectorAll('.ctx-host')].some((td) => td.textContent === other), OTHER_HOST);
    got = await rows(page);
    assert.ok(got.some((r) => r.host === OTHER_HOST));
    // Back: the checkboxes follow the URL.
    await page.goBack();
    await page.waitForURL((u) => u.searchParams.get('by') === 'host');
    assert.equal(await page.getByTestId('scope-host').isChecked(), true);
    assert.equal(await page.getByTestId('scope-source').isChecked(), false);
    guard.check();
    assert.deepEqual(await xssCalls(page), []);
  });

  it('says plainly when the event does not exist', async () => {
    await page.goto(`${server.url}/app/context?id=${encodeURIComponent('no-such-id')}`);
    const err = page.getByTestId('context-error');
    await err.waitFor();
    assert.match((await err.textContent()) ?? '', /no-such-id|not found|no event/i);
  });
});
