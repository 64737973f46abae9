/**
 * Newline-delimited TCP and UDP inputs against a real server: JSON lines
 * become events with their fields, other text becomes `message`.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { apiGet, removeDir, search, sleep, startTestServer, type Hits, type TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;

function addressOf(s: TestServer, name: string): { host: string; port: number } {
  const input = s.inputs.find((i) => i.name === name);
  assert.ok(input, `the server has a ${name} input`);
  const a = input.address();
  const i = a.lastIndexOf(':');
  return { host: a.slice(0, i), port: Number(a.slice(i + 1)) };
}

/** Opens a TCP connection, writes each chunk as its own write (pausing between them), and closes. */
async function tcpSend(addr: { host: string; port: number }, chunks: (string | Buffer)[], pauseMs = 0): Promise<void> {
  const socket = net.connect(addr.port, addr.host);
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  for (const c of chunks) {
    await new Promise<void>((resolve, reject) => socket.write(c, (err) => (err ? reject(err) : resolve())));
    if (pauseMs) await sleep(pauseMs);
  }
  await new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    socket.end();
  });
}

async function udpSend(addr: { host: string; port: number }, datagrams: (string | Buffer)[]): Promise<void> {
  const socket = dgram.createSocket('udp4');
  try {
    for (const d of datagrams) {
      await new Promise<void>((resolve, reject) => socket.send(d, addr.port, addr.host, (err) => (err ? reject(err) : resolve())));
    }
  } finally {
    socket.close();
  }
}

/**
 * Waits until a query matches `count` events (inputs do not acknowledge), then returns its hits.
 * Polls the histogram, whose counts need no field columns, and searches once the events are in,
 * so that the search itself never runs while the input is still registering new fields (that race
 * is covered by its own test in ingest.test.ts).
 */
async function waitForHits(base: string, q: string, count: number, deadlineMs = 20_000): Promise<Hits> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const r = await apiGet(base, '/api/v1/histogram', { q, from: 'now-24h', to: 'now+1h' });
    assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 300));
    const n = (r.body.buckets as { count: number }[]).reduce((a, b) => a + b.count, 0);
    if (n >= count || Date.now() > end) break;
    await sleep(25);
  }
  await sleep(100); // let any later (unexpected) events land too, so that totals can catch them
  return search(base, q);
}

describe('TCP and UDP line inputs', () => {
  let s: TestServer;
  let tcp: { host: string; port: number };
  let udp: { host: string; port: number };
  before(async () => {
    s = await startTestServer({ tcp: '127.0.0.1:0', udp: '127.0.0.1:0' });
    tcp = addressOf(s, 'tcp');
    udp = addressOf(s, 'udp');
    assert.ok(tcp.port > 0 && udp.port > 0);
  });
  after(async () => {
    await s.close();
    removeDir(s.dir);
  });

  it('TCP: JSON lines become events with their fields; other text becomes message', async () => {
    const when = new Date(Date.now() - 120_000).toISOString();
    await tcpSend(tcp, [
      [
        JSON.stringify({ message: 'tcpjson one', host: 'tcp-host', status: 502, http: { method: 'PUT' }, '@timestamp': when }),
        'tcptext plain line with status=200',
        '  {"message":"tcpjson two","n":2}',
        '[1,2,3] tcparray',
        '',
        'tcpcrlf line\r',
        'tcpfinal without newline',
      ].join('\n'),
    ]);
    const h = await waitForHits(s.url, 'tcpjson OR tcptext OR tcparray OR tcpcrlf OR tcpfinal', 6);
    assert.equal(h.total, 6);
    const by = (m: string) => h.hits.find((x) => x.message === m);
    const one = by('tcpjson one');
    assert.ok(one, JSON.stringify(h.hits.map((x) => x.message)));
    assert.equal(one.host, 'tcp-host');
    assert.equal(one.status, 502);
    assert.equal(one['http.method'], 'PUT');
    assert.equal(one['@timestamp'], when);
    assert.equal(by('tcpjson two')?.n, 2);
    const text = by('tcptext plain line with status=200');
    assert.ok(text);
    assert.equal(text.status, undefined, 'text is not parsed into fields');
    assert.ok(by('[1,2,3] tcparray'));
    assert.ok(by('tcpcrlf line'), 'a CR before the newline is not part of the message');
    assert.ok(by('tcpfinal without newline'), 'the last line counts at the end of the stream');
    assert.equal((await search(s.url, 'status:502')).total, 1);
  });

  it('TCP: a line split across writes is one event', async () => {
    const line = JSON.stringify({ message: 'tcpsplit whole event', part: 'abc', n: 12345 });
    const cut1 = 7;
    const cut2 = 30;
    await tcpSend(tcp, [line.slice(0, cut1), line.slice(cut1, cut2), line.slice(cut2) + '\n', 'tcpsplit sentinel\n'], 50);
    const h = await waitForHits(s.url, 'tcpsplit', 2);
    assert.equal(h.total, 2, JSON.stringify(h.hits.map((x) => x.message)));
    const ev = h.hits.find((x) => x.message === 'tcpsplit whole event');
    assert.ok(ev);
    assert.equal(ev.part, 'abc');
    assert.equal(ev.n, 12345);
    // A multi-byte character cut between writes is rejoined.
    const bytes = Buffer.from('tcpsplit2 caf\u00e9 \u65e5\u672c\n');
    const at = bytes.indexOf(0xa9); // inside é
    await tcpSend(tcp, [bytes.subarray(0, at), bytes.subarray(at)], 50);
    const h2 = await waitForHits(s.url, 'tcpsplit2', 1);
    assert.deepEqual(h2.hits.map((x) => x.message), ['tcpsplit2 caf\u00e9 \u65e5\u672c']);
    assert.equal(h2.hits[0].tags, undefined);
  });

  it('TCP: a 2 MiB line is truncated to 1 MiB and tagged _truncated; the next line is intact', async () => {
    const huge = 'tcphuge ' + 'y'.repeat(2 * MiB);
    await tcpSend(tcp, ['tcphugebefore\n', huge.slice(0, MiB), huge.slice(MiB) + '\n', '{"message":"tcphugeafter","k":1}\n']);
    const h = await waitForHits(s.url, 'tcphuge OR tcphugebefore OR tcphugeafter', 3);
    assert.equal(h.total, 3, JSON.stringify(h.hits.map((x) => String(x.message).slice(0, 40))));
    const big = h.hits.find((x) => String(x.message).startsWith('tcphuge '));
    assert.ok(big);
    assert.equal(Buffer.byteLength(String(big.message)), MiB);
    assert.deepEqual(big.tags, ['_truncated']);
    const afterIt = h.hits.find((x) => x.message === 'tcphugeafter');
    assert.ok(afterIt, 'the line after the long one is its own event');
    assert.equal(afterIt.k, 1);
    assert.equal(afterIt.tags, undefined);
    assert.ok(h.hits.some((x) => x.message === 'tcphugebefore'));
  });

  it('TCP: invalid JSON after "{" is kept as message, tagged _jsonparsefailure', async () => {
    const broken = '{"message": "tcpbroken", "a": ';
    await tcpSend(tcp, [`${broken}\n{not json at all tcpbroken2}\n{"message":"tcpbroken sentinel"}\n`]);
    const h = await waitForHits(s.url, 'tcpbroken OR tcpbroken2', 3);
    assert.equal(h.total, 3);
    const b1 = h.hits.find((x) => x.message === broken);
    assert.ok(b1, JSON.stringify(h.hits.map((x) => x.message)));
    assert.deepEqual(b1.tags, ['_jsonparsefailure']);
    const b2 = h.hits.find((x) => x.message === '{not json at all tcpbroken2}');
    assert.ok(b2);
    assert.deepEqual(b2.tags, ['_jsonparsefailure']);
    const ok = h.hits.find((x) => x.message === 'tcpbroken sentinel');
    assert.ok(ok);
    assert.equal(ok.tags, undefined);
  });

  it('TCP: invalid UTF-8 is repaired and tagged _invalidutf8', async () => {
    await tcpSend(tcp, [Buffer.concat([Buffer.from('tcpbadutf8 '), Buffer.from([0xff, 0xfe]), Buffer.from(' end\n')])]);
    const h = await waitForHits(s.url, 'tcpbadutf8', 1);
    assert.equal(h.total, 1);
    assert.equal(h.hits[0].message, 'tcpbadutf8 \uFFFD\uFFFD end');
    assert.deepEqual(h.hits[0].tags, ['_invalidutf8']);
  });

  it('TCP: several connections at once, every line stored once', async () => {
    const conns = 5;
    const lines = 400;
    await Promise.all(
      Array.from({ length: conns }, (_, c) =>
        tcpSend(tcp, [Array.from({ length: lines }, (_, k) => JSON.stringify({ message: 'tcpmany', c, k })).join('\n') + '\n']),
      ),
    );
    const h = await waitForHits(s.url, 'tcpmany', conns * lines);
    assert.equal(h.total, conns * lines);
    const keys = new Set(h.hits.map((x) => `${x.c}/${x.k}`));
    assert.equal(keys.size, conns * lines);
  });

  it('UDP: a datagram with one line, and datagrams with several lines', async () => {
    await udpSend(udp, [
      JSON.stringify({ message: 'udpone json', src: 'udp', level: 'warn' }),
      'udptwo text line\n',
      `${JSON.stringify({ message: 'udpmulti a', i: 1 })}\nudpmulti b as text\r\n${JSON.stringify({ message: 'udpmulti c', i: 3 })}\n\n{"message": udpmulti broken\n`,
    ]);
    const h = await waitForHits(s.url, 'udpone OR udptwo OR udpmulti', 6);
    assert.equal(h.total, 6, JSON.stringify(h.hits.map((x) => x.message)));
    const by = (m: string) => h.hits.find((x) => x.message === m);
    assert.equal(by('udpone json')?.src, 'udp');
    assert.equal(by('udpone json')?.level, 'warn');
    assert.ok(by('udptwo text line'));
    assert.equal(by('udpmulti a')?.i, 1);
    assert.ok(by('udpmulti b as text'));
    assert.equal(by('udpmulti c')?.i, 3);
    assert.deepEqual(by('{"message": udpmulti broken')?.tags, ['_jsonparsefailure']);
  });

  it('UDP: many datagrams, sent at a modest pace, are all stored', async () => {
    const n = 300;
    const datagrams = Array.from({ length: n }, (_, k) => JSON.stringify({ message: 'udpmany', k }));
    // UDP has no flow control: an unpaced burst can overflow the kernel's receive buffer (the loss is the kernel's, not the server's).
    for (let k = 0; k < n; k += 20) {
      await udpSend(udp, datagrams.slice(k, k + 20));
      await sleep(10);
    }
    const h = await waitForHits(s.url, 'udpmany', n);
    assert.equal(h.total, n);
    assert.equal(new Set(h.hits.map((x) => x.k)).size, n);
  });
});

describe('line inputs with a small --max-line-bytes', () => {
  it('truncates long TCP and UDP lines at the limit and tags them', async () => {
    const s = await startTestServer({ tcp: '127.0.0.1:0', udp: '127.0.0.1:0', maxLineBytes: 1000 });
    try {
      await tcpSend(addressOf(s, 'tcp'), [`tcplong ${'t'.repeat(5000)}\ntcpshort\n`]);
      await udpSend(addressOf(s, 'udp'), [`udplong ${'u'.repeat(5000)}\nudpshort`]);
      const h = await waitForHits(s.url, 'tcplong OR tcpshort OR udplong OR udpshort', 4);
      assert.equal(h.total, 4);
      for (const name of ['tcplong', 'udplong']) {
        const ev = h.hits.find((x) => String(x.message).startsWith(name));
        assert.ok(ev, name);
        assert.equal(Buffer.byteLength(String(ev.message)), 1000, name);
        assert.deepEqual(ev.tags, ['_truncated'], name);
      }
      for (const name of ['tcpshort', 'udpshort']) {
        const ev = h.hits.find((x) => x.message === name);
        assert.ok(ev, name);
        assert.equal(ev.tags, undefined);
      }
    } finally {
      await s.close();
      removeDir(s.dir);
    }
  });
});
