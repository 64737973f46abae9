/**
 * The web UI's browser tests: Debian's Chromium (/usr/bin/chromium, installed by npm test's
 * pretest step) driven by playwright-core, against a real server child with real data.
 *
 * Every page opened here is guarded: a JavaScript dialog (alert/confirm/prompt), an uncaught
 * page error or a Content-Security-Policy violation fails the test at `guard.check()`, which is
 * how the XSS tests prove that log content never runs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { BIN, REPO_ROOT, run } from './server.js';
import { sharedData } from './shared-data.js';

export const CHROMIUM = '/usr/bin/chromium';
/** The flags this machine's Chromium needs (../shared/GUIDE.md). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Screenshots and other artifacts the UI tests write: look at them. */
export const ARTIFACTS = path.join(REPO_ROOT, 'test-artifacts', 'ui');

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: run "bash test/fixtures/install-peers.sh" as root (it installs Debian's chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export interface Guard {
  /** Dialogs opened, page errors and CSP violations so far. */
  problems: string[];
  /** Throws if any problem was seen. */
  check(): void;
}

/** A page of a fresh context (its own sessionStorage), guarded as the module's comment says. */
export async function guardedPage(
  browser: Browser,
  opts: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark'; timezoneId?: string } = {},
): Promise<{ context: BrowserContext; page: Page; guard: Guard }> {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1400, height: 900 },
    colorScheme: opts.colorScheme ?? 'light',
    timezoneId: opts.timezoneId ?? 'UTC',
    locale: 'en-US',
  });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('dialog', (d) => {
    problems.push(`a ${d.type()} dialog opened: ${JSON.stringify(d.message())}`);
    void d.dismiss();
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(text)) problems.push(`CSP violation: ${text}`);
  });
  // A script that runs from log content would most likely call one of these; record it even if no dialog shows.
  await context.addInitScript(() => {
    const w = window as unknown as { __xss?: string[] };
    w.__xss = [];
    for (const name of ['alert', 'confirm', 'prompt'] as const) {
      const original = window[name];
      (window as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
        w.__xss!.push(`${name}(${args.map(String).join(',')})`);
        return (original as (...a: unknown[]) => unknown).apply(window, args);
      };
    }
  });
  const guard: Guard = {
    problems,
    check() {
      if (problems.length > 0) throw new Error(`the page misbehaved:\n${problems.join('\n')}`);
    },
  };
  return { context, page, guard };
}

/** Calls of alert/confirm/prompt recorded on the page (see guardedPage). */
export async function xssCalls(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __xss?: string[] }).__xss ?? []);
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** The time range the shared samples span (2015 access logs, syslog of this and next year). */
export const SAMPLES_RANGE = { from: '2015-01-01T00:00:00Z', to: 'now+400d' };

/**
 * Imports the shared samples, parsed, into a running server with `logmill import`: the Apache
 * access log (10,000 lines, May 2015) and auth.log (7,121 lines), so the UI shows real fields
 * (host, program, clientip, response, agent…). `lines` limits each file, for quicker tests.
 */
export async function importSamples(serverUrl: string, work: string, lines?: number): Promise<void> {
  for (const name of ['apache_access_combined.log', 'auth.log']) {
    let file = sharedData(name);
    if (lines !== undefined) {
      const text = fs.readFileSync(file, 'utf8').split('\n').slice(0, lines).join('\n') + '\n';
      file = path.join(work, name);
      fs.writeFileSync(file, text);
    }
    const r = await run(BIN, ['import', '--server', serverUrl, '--quiet', '--timezone', 'UTC', file]);
    if (r.code !== 0) throw new Error(`logmill import ${name} failed (${r.code}): ${r.stderr}`);
  }
}

/** The hostile event of the XSS tests: each view must show these as characters and run nothing. */
export const XSS_MESSAGE = '<img src=x onerror=alert(1)>';
export const XSS_FIELD = '<script>alert(1)</script>';
export const XSS_VALUE = 'javascript:alert(1)';
