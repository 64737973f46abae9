/**
 * The network inputs inside whole pipelines: built by the runtime from configuration text, through a
 * filter to the stdout output, stopped by the signal; and the pipeline host refusing two inputs that
 * want one port, before either starts.
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { PassThrough } from 'node:stream';
import { parseConfig } from '../../src/pipeline/parser/parse.js';
import { buildPipeline } from '../../src/pipeline/runtime.js';
import { PipelineHost } from '../../src/pipeline/host.js';
import { singlePipeline } from '../../src/pipeline/config-files.js';
import { UNWATCHED, type PipelineLogger } from '../../src/pipeline/plugin.js';
import { boundedLog, bridgeContext, pipelineEventFromIngest } from '../../src/pipeline/inputs/ingest-bridge.js';
import { PipelineEvent } from '../../src/pipeline/event.js';
import { beatsPipelineEvent } from '../../src/pipeline/inputs/beats.js';
import { gelfPipelineEvent } from '../../src/pipeline/inputs/gelf.js';
import type { FieldValue, LogEvent } from '../../src/core/event.js';
import { Gen } from '../helpers/prng.js';
import { freePort, sendTcp, sendUdp, tcpListening, udpTaken, waitFor } from './inputs-harness.js';

const quiet: PipelineLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe('network inputs in a pipeline', () => {
  it('runs tcp and syslog inputs through mutate to stdout, and stops on the signal', async () => {
    const tcpPort = await freePort();
    const syslogPort = await freePort();
    const config = `
      input {
        tcp { port => ${tcpPort} type => "app" }
        syslog { port => ${syslogPort} }
      }
      filter { mutate { add_field => { "seen" => "yes" } } }
      output { stdout { codec => json_lines } }`;
    const controller = new AbortController();
    const stdout = new PassThrough();
    let text = '';
    stdout.on('data', (d: Buffer) => (text += d.toString()));
    const pipeline = buildPipeline(parseConfig(config), { logger: quiet, signal: controller.signal, stdin: new PassThrough(), stdout, watchdog: UNWATCHED, dataDir: os.tmpdir() });
    const running = pipeline.run();
    await waitFor('the listeners', async () => (await tcpListening(tcpPort)) && (await udpTaken(syslogPort)));
    await sendTcp(tcpPort, 'over tcp\n');
    await sendUdp(syslogPort, '<30>Dec  7 01:02:03 box1 cron[7]: over syslog');
    await waitFor('two events on stdout', () => text.split('\n').filter(Boolean).length >= 2);
    controller.abort();
    const counts = await running;
    const events = text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, any>);
    const tcp = events.find((e) => e.message === 'over tcp');
    const syslog = events.find((e) => e.message === 'over syslog');
    assert.equal(tcp?.type, 'app');
    assert.equal(tcp?.seen, 'yes');
    assert.equal(syslog?.program, 'cron');
    assert.equal(syslog?.logsource, 'box1');
    assert.equal(syslog?.seen, 'yes');
    assert.equal(counts.in, 2);
    assert.equal(await tcpListening(tcpPort), false, 'the tcp listener is closed after the stop');
    assert.equal(await udpTaken(syslogPort), false, 'the syslog UDP socket is closed after the stop');
  });

  it('refuses two pipelines whose inputs want one port', async () => {
    const port = await freePort();
    const specs = [
      singlePipeline(parseConfig(`input { tcp { port => ${port} } } output { stdout { } }`), 'a.conf', 'a'),
      singlePipeline(parseConfig(`input { beats { port => ${port} } } output { stdout { } }`), 'b.conf', 'b'),
    ];
    await assert.rejects(
      PipelineHost.start(specs, { writeStore: async () => {}, localEs: null, dataDir: os.tmpdir(), logger: quiet, serverListeners: [] }),
      new RegExp(`tcp port ${port} is wanted twice`),
    );
    assert.equal(await tcpListening(port), false, 'neither started');
  });

  it('refuses a gelf input on the port of the server\'s own --gelf UDP listener', async () => {
    const specs = [singlePipeline(parseConfig('input { gelf { port => 12201 } } output { stdout { } }'), 'c.conf', 'c')];
    await assert.rejects(
      PipelineHost.start(specs, { writeStore: async () => {}, localEs: null, dataDir: os.tmpdir(), logger: quiet, serverListeners: [{ name: '--gelf', protocol: 'udp', host: '127.0.0.1', port: 12201 }] }),
      /udp port 12201 is wanted twice/,
    );
  });

  it('logs at most a bounded number of warnings a minute, then says how many it left out', () => {
    mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    try {
      const lines: string[] = [];
      const warn = boundedLog((m) => lines.push(m), 'input x', 3);
      for (let i = 0; i < 10; i++) warn(`bad ${i}`);
      assert.deepEqual(lines, ['input x: bad 0', 'input x: bad 1', 'input x: bad 2']);
      mock.timers.tick(60_000);
      warn('bad later');
      assert.deepEqual(lines.slice(3), ['input x: 7 more warning(s) in the last minute were not logged', 'input x: bad later']);
    } finally {
      mock.timers.reset();
    }
  });

  it('turns random flat ingest events into well-formed pipeline events, whatever their dotted names (fuzz)', () => {
    const gen = new Gen(2026);
    const parts = ['host', 'name', 'log', 'file', 'path', '@metadata', 'beat', 'message', 'full_message', 'gelf', 'level', 'source', 'a', ''];
    const values: FieldValue[] = ['x', '', 1, 0, true, null, ['t'], 3.5];
    for (let i = 0; i < 3000; i++) {
      const fields: Record<string, FieldValue> = {};
      for (let n = gen.int(8); n > 0; n--) {
        const name = Array.from({ length: 1 + gen.int(3) }, () => gen.pick(parts)).join('.');
        fields[name] = gen.pick(values);
      }
      const event: LogEvent = { ts: gen.int(2 ** 50), fields };
      const convert = gen.pick([pipelineEventFromIngest, beatsPipelineEvent, gelfPipelineEvent]);
      const out = convert({ ts: event.ts, fields: { ...fields } });
      const json = out.toJSON() as Record<string, any>;
      assert.equal(json['@metadata'], undefined, 'metadata is never a shipped field');
      assert.ok(!Number.isNaN(Date.parse(json['@timestamp'])), json['@timestamp']);
      assert.doesNotThrow(() => JSON.stringify(json));
    }
  });

  it('bridges a listener\'s write to emit: resolves when emit does, and keeps an event it cannot convert, tagged', async () => {
    const got: PipelineEvent[] = [];
    let release: () => void = () => {};
    const warnings: string[] = [];
    const logger: PipelineLogger = { ...quiet, warn: (m) => warnings.push(m) };
    const ctx = bridgeContext({
      emit: (events) => {
        got.push(...events);
        return new Promise<void>((r) => (release = r));
      },
      context: { logger, signal: new AbortController().signal, stdin: new PassThrough(), stdout: new PassThrough(), watchdog: UNWATCHED, dataDir: os.tmpdir() },
      label: 'input test',
      convert: (e) => {
        if (e.fields.message === 'boom') throw new Error('cannot');
        return new PipelineEvent({ message: String(e.fields.message) });
      },
      decorate: (e) => e.addTag('decorated'),
    });
    let written = false;
    const write = ctx.write([{ ts: 0, fields: { message: 'ok' } }, { ts: 0, fields: { message: 'boom' } }]).then(() => (written = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(got.length, 2);
    assert.equal(written, false, 'the write waits for emit');
    release();
    await write;
    assert.deepEqual(got.map((e) => e.toJSON().tags), [['decorated'], ['_inputconversionfailure', 'decorated']]);
    assert.equal(got[1].get(['message']), 'boom');
    assert.equal(warnings.length, 1);
  });
});
