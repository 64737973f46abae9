/**
 * `logmill import` as users run it (./bin/logmill in a child process) against a real server child:
 * formats detected or forced, times from the lines, gzip, bad input, --pipeline, exit codes and the
 * --json summary. Every check reads back what the server stored.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { BIN, LISTENERS_OFF_ENV, removeDir, run, search, spawnServer, stopChild, table, tempDir, type ChildServer } from '../helpers/server.js';
import type { ImportSummary } from '../../src/cli/import.js';
import { sharedData } from '../helpers/shared-data.js';

/** The `--json` summary: the CLI's own type, so that the test reads what the CLI writes. */
type Summary = ImportSummary;

function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOGMILL_')) env[k] = v;
  return { ...env, ...LISTENERS_OFF_ENV };
}

/** The whole range of times the test files hold (2015 access logs, 2026-2027 syslog). */
const ALL_TIME = { from: '2000-01-01T00:00:00Z', to: 'now+3650d' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

describe('logmill import', () => {
  let server: ChildServer;
  let dir: string;
  let work: string;
  before(async () => {
    dir = tempDir();
    work = tempDir();
    server = await spawnServer(dir);
  });
  after(async () => {
    if (server) await stopChild(server);
    removeDir(dir);
    removeDir(work);
  });

  const importer = async (args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string; summary: Summary }> => {
    const r = await run(BIN, ['import', ...args, '--server', server.url, '--json', '--quiet'], { env: cleanEnv(), timeoutMs });
    let summary: Summary;
    try {
      summary = JSON.parse(r.stdout) as Summary;
    } catch {
      throw new Error(`import printed no JSON summary (exit ${r.code}): ${r.stdout} ${r.stderr}`);
    }
    return { ...r, summary };
  };
  const write = (name: string, text: string | Buffer): string => {
    const file = path.join(work, name);
    fs.writeFileSync(file, text);
    return file;
  };
  const count = async (q: string): Promise<number> => Number((await table(server.url, `${q} | stats count()`, ALL_TIME)).rows[0][0]);
  const bySource = (file: string): string => `source:${JSON.stringify(file)}`;

  it('auth.log: syslog with host and program on every line, each time from its line, year from the mtime', async () => {
    const file = path.join(work, 'auth.log');
    fs.copyFileSync(sharedData('auth.log'), file);
    // Year-less dates resolve against the file's mtime: fixed here so that the expected year is too.
    const mtime = new Date('2026-06-01T00:00:00Z');
    fs.utimesSync(file, mtime, mtime);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const r = await importer([file, '--timezone', 'UTC']);
    assert.equal(r.code, 0, r.stderr);
    const f = r.summary.files[0];
    assert.equal(f.format, 'syslog');
    assert.deepEqual([f.lines, f.accepted, f.unparsed, f.rejected, f.failed], [lines.length, lines.length, 0, 0, 0]);
    assert.equal(r.summary.formats.syslog, lines.length);

    const src = bySource(file);
    assert.equal(await count(src), lines.length);
    assert.equal(await count(`${src} AND host:* AND syslog.appname:*`), lines.length, 'every line has host and program');
    assert.equal(await count(`${src} AND host:"ip-10-77-20-248"`), lines.length);

    const timeOf = (line: string): string => {
      const m = /^(\w{3}) +(\d+) (\d\d):(\d\d):(\d\d) /.exec(line);
      assert.ok(m, line);
      return new Date(Date.UTC(2026, MONTHS.indexOf(m[1]), Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]))).toISOString();
    };
    assert.equal(f.from, timeOf(lines[0]));
    assert.equal(f.to, timeOf(lines[lines.length - 1]));
    const range = await table(server.url, `${src} | stats min(@timestamp), max(@timestamp)`, ALL_TIME);
    assert.deepEqual(range.rows[0], [timeOf(lines[0]), timeOf(lines[lines.length - 1])]);
    // The histogram's first and last non-empty buckets hold the file's first and last times.
    const h = await fetch(`${server.url}/api/v1/histogram?${new URLSearchParams({ q: src, from: '2026-03-01T00:00:00Z', to: '2026-05-01T00:00:00Z', interval: '1d' })}`);
    const buckets = ((await h.json()) as { buckets: { time: string; count: number }[] }).buckets.filter((b) => b.count > 0);
    assert.equal(buckets.reduce((n, b) => n + b.count, 0), lines.length);
    assert.equal(buckets[0].time.slice(0, 10), timeOf(lines[0]).slice(0, 10));
    assert.equal(buckets[buckets.length - 1].time.slice(0, 10), timeOf(lines[lines.length - 1]).slice(0, 10));

    // Lines spread over the file, each found by its message, stored at its own time with its program and pid.
    const picked = [0, 1234, 3000, 5555, lines.length - 1];
    for (const i of picked) {
      const m = /^\w{3} +\d+ [\d:]+ (\S+) ([^[:]+)(?:\[(\d+)\])?: (.*)$/.exec(lines[i]);
      assert.ok(m, lines[i]);
      const [, host, prog, pid, msg] = m;
      const hits = (await search(server.url, `${src} AND ${JSON.stringify(msg)}`, { ...ALL_TIME, limit: 1000 })).hits.filter(
        (h) => h.message === msg && h['@timestamp'] === timeOf(lines[i]) && (pid === undefined || h['syslog.procid'] === pid),
      );
      assert.ok(hits.length >= 1, `line ${i + 1} stored at ${timeOf(lines[i])}: ${lines[i]}`);
      assert.equal(hits[0].host, host);
      assert.equal(hits[0]['syslog.appname'], prog);
      assert.equal(hits[0].source, file);
    }
  });

  it('apache_access_combined.log: response:404 finds exactly the 404 lines, clientip set, times from the lines', async () => {
    const file = path.join(work, 'access.log');
    fs.copyFileSync(sharedData('apache_access_combined.log'), file);
    const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
    const is404 = /^\S+ \S+ \S+ \[[^\]]+\] "[^"]*" 404 /;
    const n404 = lines.filter((l) => is404.test(l)).length;
    assert.ok(n404 > 0);
    const r = await importer([file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.files[0].format, 'access');
    assert.equal(r.summary.files[0].accepted, lines.length);
    const src = bySource(file);
    assert.equal(await count(`${src} AND response:404`), n404);
    assert.equal(await count(`${src} AND clientip:*`), lines.length);
    const httpTime = (line: string): string => {
      const m = /\[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\]/.exec(line);
      assert.ok(m, line);
      const off = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9])) * 60_000;
      return new Date(Date.UTC(Number(m[3]), MONTHS.indexOf(m[2]), Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6])) - off).toISOString();
    };
    for (const i of [0, 2500, 7777, lines.length - 1]) {
      const ip = lines[i].split(' ')[0];
      const hits = (await search(server.url, `${src} AND clientip:${JSON.stringify(ip)}`, { ...ALL_TIME, limit: 10_000 })).hits;
      const hit = hits.find((h) => h.message === lines[i]);
      assert.ok(hit, `line ${i + 1} stored whole as message`);
      assert.equal(hit['@timestamp'], httpTime(lines[i]));
      assert.equal(hit.timestamp, /\[([^\]]+)\]/.exec(lines[i])?.[1]);
      assert.equal(typeof hit.verb, 'string');
    }
  });

  it('year-less dates: a file last written in January with December lines lands in the previous year', async () => {
    const file = write('newyear.log', 'Dec 31 23:59:58 host1 app[1]: yearless december\nJan  1 00:00:10 host1 app[1]: yearless january\n');
    const mtime = new Date('2027-01-01T00:00:30Z');
    fs.utimesSync(file, mtime, mtime);
    const r = await importer([file, '--timezone', 'UTC']);
    assert.equal(r.code, 0, r.stderr);
    const hits = (await search(server.url, `${bySource(file)}`, ALL_TIME)).hits;
    const at = Object.fromEntries(hits.map((h) => [h.message, h['@timestamp']]));
    assert.deepEqual(at, { 'yearless december': '2026-12-31T23:59:58.000Z', 'yearless january': '2027-01-01T00:00:10.000Z' });
    // Without an offset the date is wall-clock time in --timezone.
    const tokyo = write('tokyo.log', 'Jun  2 09:00:00 host2 app: tokyo wall clock\n');
    fs.utimesSync(tokyo, mtime, mtime);
    assert.equal((await importer([tokyo, '--timezone', 'Asia/Tokyo'])).code, 0);
    assert.equal((await search(server.url, bySource(tokyo), ALL_TIME)).hits[0]['@timestamp'], '2026-06-02T00:00:00.000Z');
    const bad = await run(BIN, ['import', tokyo, '--timezone', 'Mars/Olympus', '--server', server.url], { env: cleanEnv() });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--timezone.*Mars\/Olympus/);
  });

  it('NDJSON keeps its fields and times; a broken line is stored whole, tagged, counted unparsed (exit 2)', async () => {
    const good = Array.from({ length: 50 }, (_, k) => JSON.stringify({ '@timestamp': `2026-02-03T04:05:${String(k).padStart(2, '0')}.123456Z`, message: `ndj ${k}`, k, nested: { v: k % 3 } }));
    const own = JSON.stringify({ message: 'ndj own source', source: 'elsewhere' });
    const file = write('events.ndjson', [...good.slice(0, 10), '{"broken": ', ...good.slice(10), own].join('\n') + '\n');
    const r = await importer([file]);
    assert.equal(r.code, 2, r.stderr);
    const f = r.summary.files[0];
    assert.equal(f.format, 'ndjson');
    assert.deepEqual([f.lines, f.accepted, f.unparsed, f.rejected], [52, 52, 1, 0]);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:11:`), 'names the broken line');
    const hits = (await search(server.url, `${bySource(file)} AND ndj`, ALL_TIME)).hits;
    assert.equal(hits.length, 50);
    const e = hits.find((h) => h.k === 42);
    assert.equal(e?.['nested.v'], 0);
    assert.equal(e?.['@timestamp'], '2026-02-03T04:05:42.123456Z');
    const broken = (await search(server.url, `${bySource(file)} AND tags:_jsonparsefailure`, ALL_TIME)).hits;
    assert.deepEqual(broken.map((h) => h.message), ['{"broken": ']);
    assert.equal((await search(server.url, 'source:elsewhere AND "ndj own source"', { from: 'now-1h' })).total, 1);
  });

  it('--format forces a format; detection goes by the majority of the first lines', async () => {
    const access = path.join(work, 'forced.log');
    fs.writeFileSync(access, fs.readFileSync(sharedData('apache_access_combined.log'), 'utf8').split('\n').slice(0, 20).join('\n') + '\n');
    const plain = await importer([access, '--format', 'plain']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.equal(plain.summary.files[0].format, 'plain');
    assert.equal(await count(bySource(access)), 20);
    assert.equal(await count(`${bySource(access)} AND clientip:*`), 0, 'plain lines get no grok fields');

    const asSyslog = await importer([access, '--format', 'syslog']);
    assert.equal(asSyslog.code, 2);
    assert.equal(asSyslog.summary.files[0].unparsed, 20);
    assert.equal(await count(`${bySource(access)} AND tags:_syslogparsefailure`), 20);

    // 40 syslog lines, then 24 lines of text: syslog wins, the text lines are stored whole and counted.
    const syslogLines = Array.from({ length: 40 }, (_, k) => `Nov  5 10:00:${String(k).padStart(2, '0')} mixhost mixprog[9]: mixed syslog ${k}`);
    const textLines = Array.from({ length: 24 }, (_, k) => `free text line number ${k}`);
    const mixed = write('mixed.log', [...syslogLines, ...textLines].join('\n') + '\n');
    const m = await importer([mixed, '--timezone', 'UTC']);
    assert.equal(m.summary.files[0].format, 'syslog');
    assert.equal(m.summary.files[0].unparsed, 24);
    assert.equal(m.code, 2);
    assert.equal(await count(`${bySource(mixed)} AND syslog.appname:mixprog`), 40);
    assert.equal(await count(`${bySource(mixed)} AND tags:_syslogparsefailure AND "free text line"`), 24);
  });

  it('gzip files are read by their magic bytes; a truncated one keeps the lines before the break and fails (exit 1)', async () => {
    const gz = path.join(work, 'auth-compressed.log'); // no .gz: the bytes say gzip
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(sharedData('auth.log'))));
    const r = await importer([gz, '--timezone', 'UTC']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.summary.files[0].gzip, true);
    assert.equal(r.summary.files[0].format, 'syslog');
    assert.equal(r.summary.files[0].accepted, 7121);
    assert.equal(await count(`${bySource(gz)} AND syslog.appname:*`), 7121);

    // Lines that do not compress to nothing, so that the cut falls well inside the text.
    let x = 12345;
    const seqLines = Array.from({ length: 20_000 }, (_, k) => {
      x = (x * 1103515245 + 12345) % 2147483648;
      return JSON.stringify({ seq: k + 1, message: `gzseq ${x.toString(36)} ${(x * 7).toString(36)}` });
    });
    const whole = zlib.gzipSync(seqLines.join('\n') + '\n');
    const cut = path.join(work, 'cut.ndjson.gz');
    fs.writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const t = await importer([cut]);
    assert.equal(t.code, 1, t.stderr);
    const f = t.summary.files[0];
    assert.match(f.error ?? '', /gzip/);
    assert.match(t.stderr, /cut\.ndjson\.gz.*gzip/);
    assert.ok(f.accepted > 1000 && f.accepted < 20_000, `some lines before the break: ${f.accepted}`);
    assert.equal(f.unparsed, 0, 'no cut line');
    const stats = await table(server.url, `${bySource(cut)} | stats count(), min(seq), max(seq), count_distinct(seq)`, { from: 'now-1h', to: 'now+1h' });
    assert.deepEqual(stats.rows[0].map(Number), [f.accepted, 1, f.accepted, f.accepted], 'exactly the lines before the break, each once');
  });

  it('bad input: garbage, a huge line, invalid UTF-8, a directory and a missing path; the rest goes on', async () => {
    const good = (k: number): string => `Oct 10 10:10:${String(k).padStart(2, '0')} badhost badprog[1]: good line ${k}`;
    const parts: Buffer[] = [];
    for (let k = 0; k < 30; k++) parts.push(Buffer.from(good(k) + '\n'));
    parts.push(Buffer.from([0x00, 0x01, 0xff, 0xfe, 0x7f, 0x1b, 0x5b, 0x32, 0x4a, 0x0a])); // binary garbage
    parts.push(Buffer.from('Oct 10 10:11:00 badhost badprog[1]: ' + 'x'.repeat(2 * 1024 * 1024) + '\n')); // over 1 MiB
    parts.push(Buffer.concat([Buffer.from('Oct 10 10:11:01 badhost badprog[1]: latin1 caf'), Buffer.from([0xe9]), Buffer.from(' end\n')]));
    parts.push(Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0x0a])); // garbage that is not UTF-8 either
    for (let k = 30; k < 40; k++) parts.push(Buffer.from(good(k) + '\n'));
    const file = write('bad.log', Buffer.concat(parts));
    fs.utimesSync(file, new Date('2026-12-01T00:00:00Z'), new Date('2026-12-01T00:00:00Z'));
    const folder = path.join(work, 'logs');
    fs.mkdirSync(folder, { recursive: true });
    const missing = path.join(work, 'nope.log');
    const r = await importer([folder, file, missing, '--timezone', 'UTC']);
    assert.equal(r.code, 1, 'a file that could not be read');
    const [d, f, m] = r.summary.files;
    assert.match(d.error ?? '', /is a directory; pass its files, e\.g\. .*logs\/\*\.log/);
    assert.match(m.error ?? '', /no such file: .*nope\.log/);
    assert.match(r.stderr, /is a directory/);
    assert.match(r.stderr, /nope\.log/);
    assert.equal(r.summary.failedFiles, 2);
    assert.equal(f.error, null);
    assert.equal(f.format, 'syslog');
    assert.equal(f.failed, 1, 'the huge line');
    assert.equal(f.unparsed, 2, 'the two garbage lines');
    assert.equal(f.invalidUtf8, 3, 'the 0xff line, the latin-1 line and the last garbage');
    assert.equal(f.lines, 44);
    assert.equal(f.accepted, 43);
    assert.match(r.stderr, /bad\.log:32: a line of \d+ bytes, over --max-line-bytes/);
    const src = bySource(file);
    assert.equal(await count(`${src} AND "good line"`), 40);
    assert.equal(await count(`${src} AND tags:_syslogparsefailure`), 2);
    const latin = (await search(server.url, `${src} AND latin1`, ALL_TIME)).hits;
    assert.equal(latin[0].message, 'latin1 caf\uFFFD end');
    assert.ok((latin[0].tags as string[]).includes('_invalidutf8'));
    assert.equal(latin[0]['@timestamp'], '2026-10-10T10:11:01.000Z');

    // Only lines skipped or unparsed: exit 2.
    const only = write('only-garbage.log', Buffer.concat([Buffer.from(good(1) + '\n'), Buffer.from([0x00, 0x02, 0x0a])]));
    const o = await importer([only, '--format', 'syslog']);
    assert.equal(o.code, 2);
  });

  it('a file that grows while imported: read to its end once, no line lost, cut or read twice', async () => {
    const pad = 'p'.repeat(80);
    const line = (k: number): string => JSON.stringify({ seq: k, pad, message: `grow ${k}` });
    const file = write('growing.ndjson', Array.from({ length: 150_000 }, (_, k) => line(k + 1)).join('\n') + '\n');
    let next = 150_001;
    let appending = true;
    const appender = (async () => {
      while (appending) {
        // One write per batch of whole lines, as a logger appends.
        const batch: string[] = [];
        for (let i = 0; i < 20; i++) batch.push(line(next++));
        fs.appendFileSync(file, batch.join('\n') + '\n');
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })();
    const r = await importer([file]);
    appending = false;
    await appender;
    assert.equal(r.code, 0, r.stderr);
    const f = r.summary.files[0];
    assert.ok(f.lines >= 150_000, `${f.lines}`);
    assert.ok(f.lines <= next - 1);
    assert.deepEqual([f.accepted, f.unparsed, f.failed], [f.lines, 0, 0]);
    const stats = await table(server.url, `${bySource(file)} | stats count(), min(seq), max(seq), count_distinct(seq)`, { from: 'now-1h', to: 'now+1h' });
    assert.deepEqual(stats.rows[0].map(Number), [f.lines, 1, f.lines, f.lines]);
    assert.equal(await count(`${bySource(file)} AND pad:${pad}`), f.lines, 'every line whole');
  });

  it("--pipeline runs the configuration's filters (grok, mutate, drop), ignoring its inputs and outputs", async () => {
    const conf = write(
      'import.conf',
      `input { stdin {} }
filter {
  grok { match => { "message" => "^%{WORD:kind} user=%{WORD:user} n=%{INT:n:int}$" } }
  if [kind] == "noise" { drop {} }
  mutate { add_field => { "imported_by" => "pipeline" } uppercase => ["user"] }
}
output { stdout {} }
`,
    );
    const lines = [...Array.from({ length: 30 }, (_, k) => `login user=u${k} n=${k}`), ...Array.from({ length: 10 }, (_, k) => `noise user=z n=${k}`), 'what is this'];
    const file = write('app.txt', lines.join('\n') + '\n');
    const r = await importer([file, '--pipeline', conf]);
    assert.equal(r.code, 2, `the line grok could not parse: ${r.stderr}`);
    assert.match(r.stderr, /input and output section\(s\) are ignored/);
    const f = r.summary.files[0];
    assert.deepEqual([f.lines, f.dropped, f.accepted, f.unparsed], [41, 10, 31, 1]);
    const src = bySource(file);
    assert.equal(await count(`${src} AND kind:login AND imported_by:pipeline`), 30);
    assert.equal(await count(`${src} AND kind:noise`), 0);
    const hit = (await search(server.url, `${src} AND user:U7`, { from: 'now-1h' })).hits[0];
    assert.equal(hit.n, 7);
    assert.equal(hit['log.file.path'], file);
    assert.equal(await count(`${src} AND tags:_grokparsefailure`), 1);

    // With --format given, its fields are there before the filters.
    const sys = write('sys.log', 'Oct  1 01:02:03 pipehost pipeprog[5]: login user=sys n=1\n');
    fs.utimesSync(sys, new Date('2026-11-01T00:00:00Z'), new Date('2026-11-01T00:00:00Z'));
    const conf2 = write('syslog.conf', 'filter { mutate { add_field => { "program_seen" => "%{[syslog][appname]}" } } }\n');
    const s = await importer([sys, '--pipeline', conf2, '--format', 'syslog', '--timezone', 'UTC']);
    assert.equal(s.code, 0, s.stderr);
    const h2 = (await search(server.url, bySource(sys), ALL_TIME)).hits[0];
    assert.equal(h2.program_seen, 'pipeprog');
    assert.equal(h2.host, 'pipehost');
    assert.equal(h2['@timestamp'], '2026-10-01T01:02:03.000Z');

    const broken = write('broken.conf', 'filter { grok { match => { "message" => "%{NOSUCHPATTERN:x}" } } }\n');
    const b = await run(BIN, ['import', file, '--pipeline', broken, '--server', server.url], { env: cleanEnv() });
    assert.equal(b.code, 1);
    assert.match(b.stderr, /NOSUCHPATTERN/);
  });

  it('prints a text summary per file and in total without --json', async () => {
    const file = write('two.log', 'Sep  9 09:09:09 h p: one\nSep  9 09:09:10 h p: two\n');
    fs.utimesSync(file, new Date('2026-10-01T00:00:00Z'), new Date('2026-10-01T00:00:00Z'));
    const r = await run(BIN, ['import', file, '--server', server.url, '--timezone', 'UTC'], { env: cleanEnv() });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /two\.log: syslog, 2 lines, 2 accepted, 0 unparsed, 0 rejected, 0 failed, 2026-09-09T09:09:09\.000Z \.\. 2026-09-09T09:09:10\.000Z/);
    assert.match(r.stdout, /imported 1 file\(s\): 2 lines, 2 accepted, 0 rejected, 0 unparsed, 0 failed \(syslog 2\), .* lines\/s\)/);
  });
});
