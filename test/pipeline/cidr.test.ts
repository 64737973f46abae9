/**
 * The cidr filter through a real pipeline (inline networks, templated networks, a network file read
 * again when it changes) and its hand-written matcher against Node's own address parser.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { PipelineConfigError, Settings } from '../../src/pipeline/settings.js';
import { type Filter } from '../../src/pipeline/plugin.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { cidrFilter } from '../../src/pipeline/filters/cidr.js';
import { formatIp, isUnroutable, networkContains, parseIp, parseNetwork } from '../../src/pipeline/filters/ip-address.js';
import { Gen } from '../helpers/prng.js';
import { runEvents, testContext } from '../helpers/pipeline.js';

async function run(filter: string, events: object[]): Promise<{ events: Array<Record<string, any>>; logs: string[] }> {
  const logs: string[] = [];
  return { events: await runEvents(filter, events, logs), logs };
}

/** The filter itself, to call on batches at chosen times. */
function cidr(block: string, logs: string[] = []): Filter {
  const section = parseConfig(`filter { cidr { ${block} } }`).sections[0];
  const statement = section.body[0];
  if (statement.kind !== 'plugin') throw new Error('expected a plugin');
  return cidrFilter(new Settings(statement.plugin, 'filter'), testContext(logs));
}

const tagsOf = (filter: Filter, fields: Record<string, any>): string[] => filter.process([new PipelineEvent(fields)])[0].tags();

describe('cidr filter', () => {
  it('tags the events whose address lies in a network, IPv4 and IPv6, and leaves the others alone', async () => {
    const { events } = await run(`cidr { address => ["%{ip}"] network => ["10.0.0.0/8", "192.168.1.0/25", "2001:db8:abcd::/48"] add_tag => ["internal"] add_field => { "zone" => "lan" } }`, [
      { ip: '10.200.3.4' },
      { ip: '192.168.1.127' },
      { ip: '192.168.1.128' },
      { ip: '2001:db8:abcd:12::1' },
      { ip: '2001:db8:abce::1' },
      { ip: '::ffff:10.1.2.3' },
      { ip: 'not an address' },
      { other: true },
    ]);
    assert.deepEqual(events.map((e) => (e.tags ?? []).includes('internal')), [true, true, false, true, false, true, false, false]);
    assert.equal(events[0].zone, 'lan');
    assert.equal(events[2].zone, undefined);
  });

  it('tests every address given and every item of a list field', async () => {
    const { events } = await run(`cidr { address => ["%{src}", "%{dst}"] network => ["172.16.0.0/12"] add_tag => ["private"] }`, [
      { src: '8.8.8.8', dst: '172.20.1.1' },
      { src: ['1.1.1.1', '172.31.255.255'], dst: '9.9.9.9' },
      { src: '8.8.8.8', dst: '172.32.0.1' },
    ]);
    assert.deepEqual(events.map((e) => e.tags ?? []), [['private'], ['private'], []]);
  });

  it('renders networks from the event', async () => {
    const { events, logs } = await run(`cidr { address => ["%{ip}"] network => ["%{allowed}"] add_tag => ["allowed"] }`, [
      { ip: '10.0.0.5', allowed: '10.0.0.0/29' },
      { ip: '10.0.0.9', allowed: '10.0.0.0/29' },
      { ip: '10.0.0.9', allowed: 'garbage' },
    ]);
    assert.deepEqual(events.map((e) => e.tags ?? []), [['allowed'], [], []]);
    assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('garbage')), logs.join('\n'));
  });

  it('reads networks from a file with comments, and again when it changes; a bad reload keeps the last good list', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cidr-'));
    const file = path.join(dir, 'networks.txt');
    fs.writeFileSync(file, '# office\n10.1.0.0/16  # HQ\n\n2001:db8::/32\nnot-a-network\n');
    const logs: string[] = [];
    const filter = cidr(`address => ["%{ip}"] network_path => "${file}" refresh_interval => 0.001 add_tag => ["known"]`, logs);
    assert.deepEqual(tagsOf(filter, { ip: '10.1.9.9' }), ['known']);
    assert.deepEqual(tagsOf(filter, { ip: '2001:db8::7' }), ['known']);
    assert.deepEqual(tagsOf(filter, { ip: '10.2.0.1' }), []);
    assert.ok(logs.some((l) => l.includes('not-a-network')));

    fs.writeFileSync(file, '10.2.0.0/16\n');
    const later = Date.now() + 20;
    while (Date.now() < later) {
      /* let the refresh interval pass */
    }
    assert.deepEqual(tagsOf(filter, { ip: '10.2.0.1' }), ['known']);
    assert.deepEqual(tagsOf(filter, { ip: '10.1.9.9' }), []);

    fs.rmSync(file);
    const again = Date.now() + 20;
    while (Date.now() < again) {
      /* and again */
    }
    assert.deepEqual(tagsOf(filter, { ip: '10.2.0.1' }), ['known']);
    assert.ok(logs.some((l) => l.startsWith('warn') && l.includes('keeping its last good contents')), logs.join('\n'));
  });

  it('splits a network file on another separator', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cidr-')), 'n.txt');
    fs.writeFileSync(file, '10.0.0.0/8;192.168.0.0/16');
    const filter = cidr(`address => ["%{ip}"] network_path => "${file}" separator => ";" add_tag => ["x"]`);
    assert.deepEqual(tagsOf(filter, { ip: '192.168.4.4' }), ['x']);
  });

  it('refuses a missing address, a bad network, no networks at all, and an unreadable file', () => {
    assert.throws(() => cidr(`network => ["10.0.0.0/8"]`), (e: unknown) => e instanceof PipelineConfigError && /address/.test(e.message));
    assert.throws(() => cidr(`address => ["%{ip}"] network => ["10.0.0.0/33"]`), (e: unknown) => e instanceof PipelineConfigError && /network/.test(e.message));
    assert.throws(() => cidr(`address => ["%{ip}"]`), /network/);
    assert.throws(() => cidr(`address => ["%{ip}"] network_path => "/nonexistent/file"`), /network_path/);
    assert.throws(() => cidr(`address => ["%{ip}"] network => ["10.0.0.0/8"] netwrok => []`), /unknown setting/);
  });
});

describe('cidr: addresses and networks', () => {
  it('reads the forms of IPv4 and IPv6', () => {
    assert.equal(formatIp(parseIp('2001:DB8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
    assert.equal(formatIp(parseIp('::')!), '::');
    assert.equal(formatIp(parseIp('::1')!), '::1');
    assert.equal(formatIp(parseIp('fe80::1%eth0')!), 'fe80::1');
    assert.equal(formatIp(parseIp('::ffff:192.0.2.1')!), '192.0.2.1');
    assert.equal(formatIp(parseIp('64:ff9b::192.0.2.1')!), '64:ff9b::c000:201');
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.-1', ':::', '1::2::3', '12345::', '1:2:3:4:5:6:7:8:9', 'g::1', ' 1.2.3.4']) assert.equal(parseIp(bad), null, bad);
  });

  it('matches prefixes that do not end on a byte, and /0', () => {
    const n = parseNetwork('10.0.0.0/13')!;
    assert.ok(networkContains(n, parseIp('10.7.255.255')!));
    assert.ok(!networkContains(n, parseIp('10.8.0.0')!));
    assert.ok(networkContains(parseNetwork('0.0.0.0/0')!, parseIp('255.1.2.3')!));
    assert.ok(!networkContains(parseNetwork('0.0.0.0/0')!, parseIp('::2')!));
    assert.ok(networkContains(parseNetwork('::/0')!, parseIp('2a00::1')!));
    assert.ok(networkContains(parseNetwork('2001:db8::/127')!, parseIp('2001:db8::1')!));
    assert.ok(!networkContains(parseNetwork('2001:db8::/127')!, parseIp('2001:db8::2')!));
    assert.ok(networkContains(parseNetwork('::ffff:10.0.0.0/104')!, parseIp('10.9.9.9')!));
    assert.ok(networkContains(parseNetwork('1.2.3.4')!, parseIp('1.2.3.4')!));
    assert.ok(isUnroutable(parseIp('192.168.0.1')!));
    assert.ok(isUnroutable(parseIp('fd00::1')!));
    assert.ok(!isUnroutable(parseIp('8.8.8.8')!));
  });

  it('agrees with Node on random and mutated text (fuzz), and prints what it reads back the same', () => {
    const gen = new Gen(4242);
    const alphabet = [...'0123456789abcdefABCDEF:.%/', 'x', ' ', '::', '255', '1.2.3.4'];
    const seeds = ['10.0.0.1', '2001:db8::1', '::ffff:1.2.3.4', 'fe80::1', '1:2:3:4:5:6:7:8', '0.0.0.0'];
    for (let i = 0; i < 20000; i++) {
      let text: string;
      if (gen.chance(0.5)) {
        const chars = [...gen.pick(seeds)];
        for (let k = gen.int(4); k > 0; k--) chars.splice(gen.int(chars.length + 1), gen.int(2), gen.pick(alphabet));
        text = chars.join('');
      } else text = gen.text(alphabet, 24);
      const ours = parseIp(text);
      const zone = text.includes('%') ? text.slice(text.indexOf('%') + 1) : null;
      const zoneless = zone === null ? text : text.slice(0, text.indexOf('%'));
      const zoneOk = zone === null || (/^[\w.-]+$/.test(zone) && zoneless.includes(':'));
      if (net.isIP(zoneless) === 0 || !zoneOk) assert.equal(ours, null, text);
      else {
        assert.ok(ours, text);
        const printed = formatIp(ours);
        assert.deepEqual(parseIp(printed), ours, `${text} -> ${printed}`);
        assert.equal(net.isIP(printed), ours.version, printed);
      }
      const network = parseNetwork(text);
      if (network) assert.ok(network.prefix >= 0 && network.prefix <= network.base.bytes.length * 8);
    }
  });
});
