/**
 * The `logmill` command as users run it: ./bin/logmill in real child
 * processes, against a real server child.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  BIN,
  countAll,
  freePort,
  ingestOk,
  LISTENERS_OFF_ENV,
  REPO_ROOT,
  removeDir,
  run,
  search,
  spawnServer,
  stopChild,
  tempDir,
  type ChildServer,
} from '../helpers/server.js';

const AUTH_LOG = path.resolve(REPO_ROOT, '..', 'shared', 'data', 'auth.log');

/** The environment of a user with no LOGMILL_* settings (and no default listeners on fixed ports). */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('LOGMILL_')) env[k] = v;
  return { ...env, ...LISTENERS_OFF_ENV };
}

const logmill = (args: string[], timeoutMs = 60_000) => run(BIN, args, { env: cleanEnv(), timeoutMs });

describe('logmill --help', () => {
  it('lists the commands', async () => {
    const r = await logmill(['--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const cmd of ['server', 'query', 'import']) assert.match(r.stdout, new RegExp(`^\\s+${cmd}\\b`, 'm'), `--help lists ${cmd}`);
  });

  it('server --help lists every server flag', async () => {
    const r = await logmill(['server', '--help']);
    assert.equal(r.code, 0, r.stderr);
    for (const flag of ['--data', '--http', '--token', '--tcp', '--udp', '--retention', '--config', '--max-columns', '--max-line-bytes', '--max-body-bytes', '--memory-limit', '--log-level']) {
      assert.match(r.stdout, new RegExp(`${flag}\\b`), `server --help lists ${flag}`);
    }
  });

  it('query --help and import --help describe their options', async () => {
    const q = await logmill(['query', '--help']);
    assert.equal(q.code, 0);
    for (const flag of ['--since', '--from', '--to', '--limit', '--json', '--server', '--token']) assert.match(q.stdout, new RegExp(`${flag}\\b`));
    const i = await logmill(['import', '--help']);
    assert.equal(i.code, 0);
    for (const flag of ['--server', '--token', '--quiet']) assert.match(i.stdout, new RegExp(`${flag}\\b`));
  });
});

describe('logmill errors', () => {
  it('a bad flag value exits non-zero with a message naming the flag and value', async () => {
    const dir = tempDir();
    try {
      const cases: [string[], RegExp[]][] = [
        [['server', '--data', dir, '--http', '127.0.0.1:0', '--max-columns', 'abc'], [/abc/, /--max-columns(?![\w-])/]],
        [['server', '--data', dir, '--http', 'nowhere'], [/nowhere/, /HOST:PORT/, /--http(?![\w-])/]],
        [['server', '--data', dir, '--http', '127.0.0.1:0', '--log-level', 'loud'], [/loud/, /--log-level(?![\w-])/]],
        [['server', '--data', dir, '--http', '127.0.0.1:0', '--retention', '5h'], [/5h/, /--retention(?![\w-])/]],
        [['server', '--data', dir, '--http', '127.0.0.1:0', '--bogus'], [/--bogus(?![\w-])/]],
        [['query', '*', '--limit', '0'], [/--limit(?![\w-])/]],
        [['nosuchcommand'], [/nosuchcommand/]],
      ];
      const problems: string[] = [];
      for (const [args, patterns] of cases) {
        const r = await logmill(args, 20_000);
        const what = `logmill ${args.join(' ').replace(dir, 'DIR')}`;
        if (r.code !== 1) problems.push(`${what}: exit ${r.code}, expected 1`);
        for (const p of patterns) if (!p.test(r.stderr)) problems.push(`${what}: the message does not match ${p}: ${r.stderr.trim()}`);
        if (/\n\s+at /.test(r.stderr)) problems.push(`${what}: a stack trace for a user error: ${r.stderr}`);
      }
      assert.deepEqual(problems, []);
    } finally {
      removeDir(dir);
    }
  });

  it('refuses 0.0.0.0 without a token, with a message naming --token', async () => {
    const dir = tempDir();
    try {
      const r = await logmill(['server', '--data', dir, '--http', '0.0.0.0:0'], 20_000);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /--token/);
      assert.match(r.stderr, /LOGMILL_TOKEN/);
    } finally {
      removeDir(dir);
    }
  });

  it('an unreachable server: exit 1 and a message to start the server or pass --server', async () => {
    const port = await freePort();
    for (const args of [
      ['query', '*', '--server', `http://127.0.0.1:${port}`],
      ['import', AUTH_LOG, '--server', `http://127.0.0.1:${port}`],
    ]) {
      const r = await logmill(args, 20_000);
      assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
      assert.match(r.stderr, /logmill server/, r.stderr);
      assert.match(r.stderr, /--server/, r.stderr);
      assert.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.ok(!/\n\s+at /.test(r.stderr), `no stack trace: ${r.stderr}`);
    }
  });
});

describe('logmill query and import against a running server', () => {
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

  it('query prints a table of hits, a table for pipes, and JSON with --json', async () => {
    const now = Date.now();
    await ingestOk(server.url, [
      { '@timestamp': new Date(now - 3 * 60_000).toISOString(), message: 'cliq first event', host: 'web-1', status: 500 },
      { '@timestamp': new Date(now - 2 * 60_000).toISOString(), message: 'cliq second event', host: 'web-2', status: 200 },
      { '@timestamp': new Date(now - 1 * 60_000).toISOString(), message: 'cliq third event', host: 'web-1', status: 500 },
    ]);
    const r = await logmill(['query', 'cliq', '--server', server.url, '--since', '1h']);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^@timestamp\s+host\s+message$/);
    assert.match(lines[1], /^-+\s+-+\s+-+$/);
    assert.equal(lines.length, 5);
    assert.match(lines[2], /web-1\s+cliq third event$/, 'newest first');
    assert.match(lines[3], /web-2\s+cliq second event$/);
    assert.match(lines[4], /web-1\s+cliq first event$/);
    assert.match(r.stderr, /3 of 3 hits/);

    const limited = await logmill(['query', 'cliq', '--server', server.url, '--since', '1h', '--limit', '2']);
    assert.equal(limited.code, 0);
    assert.equal(limited.stdout.trimEnd().split('\n').length, 4);
    assert.match(limited.stderr, /2 of 3 hits/);

    const piped = await logmill(['query', 'cliq | stats count() by host | sort host', '--server', server.url, '--since', '1h']);
    assert.equal(piped.code, 0, piped.stderr);
    const rows = piped.stdout.trimEnd().split('\n');
    assert.match(rows[0], /^host\s+count$/);
    assert.match(rows[2], /^web-1\s+2$/);
    assert.match(rows[3], /^web-2\s+1$/);
    assert.equal(rows.length, 4);

    const json = await logmill(['query', 'status:500', '--server', server.url, '--since', '1h', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const body = JSON.parse(json.stdout) as { total: number; hits: { message: string; status: number }[] };
    assert.equal(body.total, 2);
    assert.deepEqual(body.hits.map((h) => h.message), ['cliq third event', 'cliq first event']);
    assert.ok(body.hits.every((h) => h.status === 500));

    const old = await logmill(['query', 'cliq', '--server', server.url, '--from', 'now-1h', '--to', 'now-150s', '--json']);
    assert.deepEqual((JSON.parse(old.stdout) as { hits: { message: string }[] }).hits.map((h) => h.message), ['cliq first event']);

    const syntax = await logmill(['query', 'status:(', '--server', server.url]);
    assert.equal(syntax.code, 1);
    assert.match(syntax.stderr, /400/);
    assert.match(syntax.stderr, /position 8/);
  });

  it('imports a copy of auth.log (7,121 lines) as syslog and prints a summary', async () => {
    const copy = path.join(work, 'auth.log');
    fs.copyFileSync(AUTH_LOG, copy);
    const lines = fs.readFileSync(copy, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
    assert.equal(lines, 7121);
    const before = await countAll(server.url);
    const r = await logmill(['import', copy, '--server', server.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /imported 1 file\(s\): 7121 lines, 7121 accepted, 0 rejected, 0 unparsed/);
    assert.match(r.stdout, /auth\.log: syslog, 7121 lines/);
    assert.equal((await countAll(server.url)) - before, 7121);
    // The lines' own (March) times: searched over a wide range.
    const wide = { from: 'now-3650d', to: 'now+3650d' };
    const sample = await search(server.url, '"Server listening on 0.0.0.0 port 22"', wide);
    assert.ok(sample.total >= 1);
    assert.equal(sample.hits[0].source, copy);
    assert.equal(sample.hits[0]['syslog.appname'], 'sshd');
    // Every line is an event of its own: the first line's message part is found.
    const first = fs.readFileSync(copy, 'utf8').split('\n')[0].replace(/^.*?\]: /, '');
    assert.ok((await search(server.url, `message:${JSON.stringify(first)}`, wide)).total >= 1);
  });

  it('imports an NDJSON file keeping its fields, and reports lines stored unparsed with exit code 2', async () => {
    const file = path.join(work, 'events.ndjson');
    const good = Array.from({ length: 250 }, (_, k) => JSON.stringify({ message: `ndimport ${k}`, k, nested: { v: k % 3 } }));
    fs.writeFileSync(file, [...good.slice(0, 100), '{"broken": ', ...good.slice(100), 'plain text line in ndjson'].join('\n') + '\n');
    const r = await logmill(['import', file, '--server', server.url, '--quiet']);
    assert.equal(r.code, 2, `${r.stdout} ${r.stderr}`);
    // The broken line and the text line are not NDJSON: stored whole, tagged _jsonparsefailure, counted.
    assert.match(r.stdout, /imported 1 file\(s\): 252 lines, 252 accepted, 0 rejected, 2 unparsed/);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:101:`), `names the bad line: ${r.stderr}`);
    const found = await search(server.url, 'ndimport', { from: 'now-1h' });
    assert.equal(found.total, 250);
    const e = found.hits.find((h) => h.k === 42);
    assert.equal(e?.['nested.v'], 0);
    assert.equal((await search(server.url, '"plain text line in ndjson"', { from: 'now-1h' })).total, 1);

    const missing = await logmill(['import', path.join(work, 'nope.log'), '--server', server.url]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /nope\.log/);
  });
});
