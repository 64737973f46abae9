/**
 * elasticdump (npm), a tool nobody here wrote, exporting an index of 100,000
 * documents from the Elasticsearch-compatible API (mapping, then data through
 * scroll) into files and importing both into a new index; the two indices are
 * then compared document by document.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, tempDir, removeDir } from '../../helpers/server.js';
import { http, ndjson, startEs, type EsTestServer } from './helpers.js';

const ELASTICDUMP = path.join(REPO_ROOT, 'node_modules', 'elasticdump', 'bin', 'elasticdump');
const N = 100_000;

/** Runs elasticdump; rejects with its output when it fails (so a failure names what elasticdump saw). */
function elasticdump(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ELASTICDUMP, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0 && !/Error/i.test(out.split('\n').filter((l) => !/ignore_errors/.test(l)).join('\n'))) resolve(out);
      else reject(new Error(`elasticdump ${args.join(' ')} exited ${code}:\n${out.slice(-3000)}`));
    });
  });
}

/** Every document of an index, by id, read back through search_after (not through the scroll elasticdump used). */
async function documentsOf(base: string, index: string): Promise<Map<string, unknown>> {
  const out = new Map<string, unknown>();
  let after: unknown[] | undefined;
  for (;;) {
    const r = await http(base, 'POST', `/${index}/_search`, { size: 10_000, sort: [{ n: 'asc' }], ...(after ? { search_after: after } : {}), track_total_hits: false });
    assert.equal(r.status, 200, r.text.slice(0, 500));
    const hits = r.body.hits.hits as { _id: string; _source: unknown; sort: unknown[] }[];
    if (hits.length === 0) return out;
    for (const h of hits) {
      assert.ok(!out.has(h._id), `document ${h._id} read twice`);
      out.set(h._id, h._source);
    }
    after = hits[hits.length - 1].sort;
  }
}

/** Document `i` as sent: half without a time, some with a list, a null, a dotted key or a number as text. */
function book(i: number, base: number): Record<string, unknown> {
  return {
    ...(i % 2 === 0 ? { '@timestamp': new Date(base + i * 1000).toISOString() } : {}),
    title: `Book ${i} of ${i % 7 === 0 ? 'snow' : 'rain'}`,
    n: i,
    price: (i % 1000) / 10 + 0.5,
    author: { name: `author-${i % 97}`, born: 1900 + (i % 100) },
    ...(i % 3 === 0 ? { genres: ['novel', `g${i % 5}`] } : {}),
    ...(i % 5 === 0 ? { isbn: `0${i}`, 'shelf.row': i % 12, note: null } : {}),
    in_print: i % 2 === 0,
  };
}

describe('elasticdump exports and imports an index', { timeout: 600_000 }, () => {
  let s: EsTestServer;
  let dir: string;
  before(async () => {
    s = await startEs();
    dir = tempDir();
    const put = await http(s.url, 'PUT', '/books', { mappings: { properties: { title: { type: 'text' }, n: { type: 'long' }, price: { type: 'double' } } } });
    assert.equal(put.status, 200, put.text);
    const base = Date.UTC(2026, 11, 1);
    for (let start = 0; start < N; start += 10_000) {
      const lines: unknown[] = [];
      for (let i = start; i < start + 10_000; i++) {
        lines.push({ index: { _index: 'books', _id: `book-${i}` } });
        lines.push(book(i, base));
      }
      const r = await http(s.url, 'POST', '/_bulk?refresh=true', ndjson(lines));
      assert.equal(r.status, 200);
      assert.equal(r.body.errors, false, JSON.stringify(r.body.items.find((x: any) => x.index.error)));
    }
  });
  after(async () => {
    await s.close();
    removeDir(dir);
  });

  it('exports the mapping and every document, and a new index imported from the files holds the same documents', async () => {
    const mappingFile = path.join(dir, 'books.mapping.json');
    const dataFile = path.join(dir, 'books.data.json');
    await elasticdump([`--input=${s.url}/books`, `--output=${mappingFile}`, '--type=mapping']);
    const mapping = JSON.parse(fs.readFileSync(mappingFile, 'utf8'));
    assert.deepEqual(Object.keys(mapping), ['books']);
    await elasticdump([`--input=${s.url}/books`, `--output=${dataFile}`, '--type=data', '--limit=5000']);
    const exported = fs.readFileSync(dataFile, 'utf8').trim().split('\n');
    assert.equal(exported.length, N, 'one line per document');
    const ids = new Set(exported.map((l) => (JSON.parse(l) as { _id: string })._id));
    assert.equal(ids.size, N, 'no document exported twice');

    await elasticdump([`--input=${mappingFile}`, `--output=${s.url}/books-copy`, '--type=mapping']);
    await elasticdump([`--input=${dataFile}`, `--output=${s.url}/books-copy`, '--type=data', '--limit=5000']);
    await http(s.url, 'POST', '/books-copy/_refresh');

    const [a, b] = await Promise.all([documentsOf(s.url, 'books'), documentsOf(s.url, 'books-copy')]);
    assert.equal(a.size, N);
    assert.equal(b.size, N);
    // The exported documents are those sent, as sent.
    let changed = 0;
    const changes: string[] = [];
    const base = Date.UTC(2026, 11, 1);
    for (let i = 0; i < N; i++) {
      const sent = JSON.stringify(book(i, base));
      const got = JSON.stringify(a.get(`book-${i}`));
      if (got !== sent) {
        changed++;
        if (changes.length < 3) changes.push(`book-${i}: sent ${sent}, stored ${got}`);
      }
    }
    assert.equal(changed, 0, `documents not as sent:\n${changes.join('\n')}`);
    let differ = 0;
    const examples: string[] = [];
    for (const [id, source] of a) {
      const copy = b.get(id);
      // Compared as JSON text, so that key order counts too.
      if (JSON.stringify(copy) !== JSON.stringify(source)) {
        differ++;
        if (examples.length < 3) examples.push(`${id}: ${JSON.stringify(source)} became ${JSON.stringify(copy)}`);
      }
    }
    assert.equal(differ, 0, `documents that differ after export and import:\n${examples.join('\n')}`);
  });

  it('exports every document once through a point in time and search_after (--searchAfter --pit)', async () => {
    const file = path.join(dir, 'books.pit.json');
    await elasticdump([`--input=${s.url}/books`, `--output=${file}`, '--type=data', '--limit=5000', '--searchAfter=true', '--pit=true']);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, N);
    const ids = new Set(lines.map((l) => (JSON.parse(l) as { _id: string })._id));
    assert.equal(ids.size, N, 'no document exported twice');
  });
});
