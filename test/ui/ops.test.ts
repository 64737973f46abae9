/**
 * The inputs and pipelines pages in a real Chromium against a real server child started with a
 * syslog listener and a small Logstash config (`-f`): the inputs table lists the listener and
 * its event counter rises after `logger` sends; the pipelines page lists the running pipeline;
 * a broken config typed into the editor is marked at the line the server reports; the
 * dead-letter queue says plainly that it is not available.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { guardedPage, launchBrowser, screenshot, xssCalls, type Guard } from '../helpers/browser.js';
import { apiGet, freePort, removeDir, run, spawnServer, stopChild, tempDir, type ChildServer } from '../helpers/server.js';

const CONFIG = `input {
  generator { count => 3 message => "from the generator" }
}
filter {
  mutate { add_tag => ["ops-test"] }
}
output {
  logmill { }
}
`;

/** Line 5 is where the error is: a setting with no value. */
const BROKEN = 'input {\n  generator { count => 1 }\n}\nfilter {\n  grok { match => }\n}\n';

describe('inputs and pipelines pages', () => {
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
    const conf = path.join(work, 'ops.conf');
    fs.writeFileSync(conf, CONFIG);
    server = await spawnServer(path.join(work, 'data'), ['--syslog', `127.0.0.1:${syslogPort}`, '-f', conf]);
    browser = await launchBrowser();
    ({ context, page, guard } = await guardedPage(browser));
  });

  after(async () => {
    await context?.close();
    await browser?.close();
    if (server) await stopChild(server);
    if (work) removeDir(work);
  });

  it('inputs page lists the syslog listener and its event counter rises after logger sends', async () => {
    await page.goto(`${server.url}/app/inputs`);
    const row = page.locator('[data-testid=input-row][data-name=syslog_tcp]');
    await row.waitFor();
    assert.equal(await row.locator('td').nth(1).textContent(), `127.0.0.1:${syslogPort}`);
    assert.equal(await row.getByTestId('input-status').textContent(), 'listening');
    const before = Number(await row.getByTestId('input-events').getAttribute('data-count'));
    for (let i = 0; i < 3; i++) {
      const r = await run('logger', ['--tcp', '--rfc3164', '--server', '127.0.0.1', '--port', String(syslogPort), '-t', 'opstest', `ops ${i}`]);
      assert.equal(r.code, 0, r.stderr);
    }
    // The page polls every 2 s: wait for the counter it shows to take the three lines in.
    await page.waitForFunction(
      (want) => Number(document.querySelector('[data-testid=input-row][data-name=syslog_tcp] [data-testid=input-events]')?.getAttribute('data-count')) >= want,
      before + 3,
    );
    const api = await apiGet<{ inputs: { name: string; events: number }[] }>(server.url, '/api/v1/inputs');
    const shown = Number(await row.getByTestId('input-events').getAttribute('data-count'));
    assert.ok(shown <= api.body.inputs.find((i) => i.name === 'syslog_tcp')!.events);
    assert.match((await row.getByTestId('input-events').textContent()) ?? '', /^\d[\d,]*$/);
    guard.check();
  });

  it('pipelines page lists the running pipeline with its source and plugins', async () => {
    await page.goto(`${server.url}/app/pipelines`);
    const card = page.locator('[data-testid=pipeline][data-id=main]');
    await card.waitFor();
    assert.ok(((await card.getByTestId('pipeline-source').textContent()) ?? '').endsWith('ops.conf'));
    const plugins = await card.getByTestId('pipeline-plugin').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    assert.deepEqual(plugins, ['generator', 'mutate', 'logmill']);
    // The generator's three events went through.
    await page.waitForFunction(() => document.querySelector('[data-testid=pipeline-in]')?.textContent === '3');
    // The config as written, read-only (shown at first; the toggle hides it).
    await page.waitForFunction(() => document.querySelector('[data-testid=pipeline-config]')?.textContent?.includes('from the generator') === true);
    guard.check();
  });

  it('a broken config typed into the editor shows an error at its line', async () => {
    await page.getByTestId('pipeline-ok').waitFor();
    const editor = page.locator('[data-testid=pipeline-editor] .cm-content');
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    // Typed, not pasted, so the check runs as the user types (debounced).
    await page.keyboard.type(BROKEN.replace(/\n  /g, '\n'), { delay: 2 });
    const error = page.getByTestId('pipeline-error').first();
    await error.waitFor();
    const line = Number(await error.getAttribute('data-line'));
    assert.equal(line, 5);
    assert.match((await error.textContent()) ?? '', /line 5, column \d+/);
    assert.match((await error.textContent()) ?? '', /match/);
    // Marked in the editor at that line.
    const marked = page.locator('[data-testid=pipeline-editor] .cm-line.cfg-error-line');
    assert.equal(await marked.count(), 1);
    assert.match((await marked.textContent()) ?? '', /grok/);
    // The server's answer is the same.
    const res = await fetch(`${server.url}/api/v1/pipelines/validate`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: BROKEN.replace(/\n  /g, '\n') });
    const answer = (await res.json()) as { errors: { line: number }[] };
    assert.equal(answer.errors[0].line, 5);
    // Fixing it clears the error.
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type('input {\ngenerator { count => 1 }\n}\n', { delay: 2 });
    await page.getByTestId('pipeline-ok').waitFor();
    assert.equal(await page.getByTestId('pipeline-error').count(), 0);
    guard.check();
  });

  it('says plainly that the dead-letter queue is not available', async () => {
    const dlq = page.getByTestId('dlq-unavailable');
    await dlq.waitFor();
    assert.match((await dlq.textContent()) ?? '', /The dead-letter queue is not available in this version/);
    assert.match((await page.getByTestId('pipeline-reload-note').textContent()) ?? '', /Live reload is not available yet/);
    // Show the broken config's marks in the screenshot.
    const editor = page.locator('[data-testid=pipeline-editor] .cm-content');
    await editor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.type(BROKEN.replace(/\n  /g, '\n'), { delay: 1 });
    await page.getByTestId('pipeline-error').first().waitFor();
    await screenshot(page, 'pipelines');
    guard.check();
    assert.deepEqual(await xssCalls(page), []);
  });
});
