/**
 * Starts a Logmill server: the store, the HTTP API, and the inputs the
 * configuration turns on. Refuses to listen beyond loopback without a token.
 */
import type { FastifyInstance } from 'fastify';
import { isLoopback, splitHostPort, type ServerConfig } from './core/config.js';
import { Metrics } from './core/metrics.js';
import { buildApp } from './api/app.js';
import type { Input, InputContext } from './ingest/input.js';
import { startTcpLines, startUdpLines } from './ingest/tcp/lines-input.js';
import { startSyslogInputs } from './ingest/syslog/server.js';
import { startBeatsInput } from './ingest/beats/server.js';
import { gelfHttpHandler, startGelfInputs } from './ingest/gelf/server.js';
import type { TlsOptions } from './ingest/tls.js';
import { startEsServer, type RunningEsServer } from './api/es/server.js';
import { DuckDBStore } from './store/duckdb/store.js';
import type { Store } from './store/store.js';
import type { IngestPipelines } from './api/es/context.js';
import { PipelineHost } from './pipeline/host.js';
import { TailHub, tailing } from './store/tail.js';
import { PipelineLoadError, readConfigPath, readPipelinesYml, singlePipeline, type PipelineSpec } from './pipeline/config-files.js';
import type { Listener, LocalEs } from './pipeline/plugin.js';

export interface RunningServer {
  config: ServerConfig;
  store: Store;
  app: FastifyInstance;
  /** The bound HTTP address as http://host:port. */
  url: string;
  /** The Elasticsearch-compatible API's address, when it is on. */
  esUrl: string | null;
  /** The Elasticsearch-compatible API, when it is on. */
  es: RunningEsServer | null;
  inputs: Input[];
  /** The pipelines it runs (`-f` / `--pipelines`), or null. */
  pipelines: PipelineHost | null;
  close(): Promise<void>;
}

export class StartupError extends Error {}

function tlsOptions(config: ServerConfig): TlsOptions | null {
  if (!config.tlsCert || !config.tlsKey) return null;
  return { cert: config.tlsCert, key: config.tlsKey, ca: config.tlsCa ?? undefined, requireClientCert: config.tlsRequireClientCert };
}

export function checkExposure(config: ServerConfig): void {
  const listeners = [
    ['--http', config.http],
    ['--es', config.es],
    ['--tcp', config.tcp],
    ['--udp', config.udp],
    ['--syslog', config.syslog],
    ['--syslog-tls', config.syslogTls],
    ['--beats', config.beats],
    ['--gelf', config.gelf],
  ] as const;
  for (const [flag, addr] of listeners) {
    if (!addr) continue;
    const { host } = splitHostPort(addr);
    if (!isLoopback(host) && !config.token) {
      throw new StartupError(
        `${flag} ${addr} listens beyond loopback, which needs an API token: pass --token <secret> or set LOGMILL_TOKEN (clients then send "Authorization: Bearer <secret>")`,
      );
    }
  }
}

/** The pipelines `-f` or `--pipelines` name, read and parsed (not yet built). */
export function pipelineSpecs(config: ServerConfig): PipelineSpec[] {
  if (config.pipelineConfig && config.pipelines) throw new StartupError('give pipelines with -f (--path-config) or with --pipelines, not both (as Logstash ignores pipelines.yml when -f is given, which surprises)');
  try {
    if (config.pipelineConfig) return [singlePipeline(readConfigPath(config.pipelineConfig), config.pipelineConfig)];
    if (config.pipelines) return readPipelinesYml(config.pipelines);
  } catch (error) {
    if (error instanceof PipelineLoadError) throw new StartupError(error.message);
    throw error;
  }
  return [];
}

/** The server's own listeners, which no pipeline input may take. */
function serverListeners(config: ServerConfig): Array<{ name: string } & Listener> {
  const out: Array<{ name: string } & Listener> = [];
  const add = (name: string, addr: string | null, protocols: Array<'tcp' | 'udp'>): void => {
    if (!addr) return;
    const { host, port } = splitHostPort(addr);
    for (const protocol of protocols) out.push({ name, protocol, host, port });
  };
  add('--http', config.http, ['tcp']);
  add('--es', config.es, ['tcp']);
  add('--tcp', config.tcp, ['tcp']);
  add('--udp', config.udp, ['udp']);
  add('--syslog', config.syslog, ['tcp', 'udp']);
  add('--syslog-tls', config.syslogTls, ['tcp']);
  add('--beats', config.beats, ['tcp']);
  add('--gelf', config.gelf, ['tcp', 'udp']);
  return out;
}

function localEs(es: RunningEsServer): LocalEs {
  const own = new URL(es.address());
  const loopback = (h: string): boolean => h === 'localhost' || h === '[::1]' || /^127\./.test(h);
  return {
    isSelf: (url) => url.port === own.port && url.protocol === own.protocol && (url.hostname === own.hostname || (loopback(url.hostname) && (loopback(own.hostname) || own.hostname === '0.0.0.0'))),
    request: (method, path, body, contentType) => es.request(method, path, body, contentType),
  };
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  checkExposure(config);
  const specs = pipelineSpecs(config);
  const metrics = new Metrics();
  const diskStore = new DuckDBStore({
    dir: config.data,
    retentionDays: config.retentionDays,
    maxColumns: config.maxColumns,
    memoryLimit: config.memoryLimit,
  });
  await diskStore.open();
  // Every write goes through the tail hub, so that live tails see events from any input or API.
  const tail = new TailHub();
  const store = tailing(diskStore, tail);
  const inputs: Input[] = [];
  let log: (level: 'info' | 'warn' | 'error', message: string) => void = () => undefined;
  const inputCtx: InputContext = {
    write: (events) => store.write(events),
    metrics,
    maxLineBytes: config.maxLineBytes,
    log: (level, message) => log(level, message),
  };
  let pipelines: PipelineHost | null = null;
  const app = buildApp({
    store,
    metrics,
    config,
    inputs,
    gelf: (body) => gelfHttpHandler(body, inputCtx),
    tail,
    pipelines: () => pipelines,
    dataDir: config.data,
  });
  log = (level, message) => app.log[level](message);
  const { host, port } = splitHostPort(config.http);
  await app.listen({ host, port });
  const addr = app.server.address();
  const url = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : `http://${config.http}`;

  let es: RunningEsServer | null = null;
  const ingestPipelines: IngestPipelines = {
    get running() {
      return pipelines !== null;
    },
    transform: (name) => pipelines?.transform(name) ?? null,
  };
  try {
    if (config.es) es = await startEsServer(config.es, { store, metrics, config, ingestPipelines });
    const tls = tlsOptions(config);
    if (config.tcp) inputs.push(await startTcpLines(config.tcp, inputCtx));
    if (config.udp) inputs.push(await startUdpLines(config.udp, inputCtx));
    if (config.syslog || config.syslogTls) {
      if (config.syslogTls && !tls) throw new StartupError('--syslog-tls needs --tls-cert and --tls-key');
      inputs.push(
        ...(await startSyslogInputs(
          {
            udp: config.syslog ?? undefined,
            tcp: config.syslog ?? undefined,
            tls: config.syslogTls && tls ? { listen: config.syslogTls, ...tls } : undefined,
            timeZone: config.timeZone,
          },
          inputCtx,
        )),
      );
    }
    if (config.beats) {
      if (config.beatsTls && !tls) throw new StartupError('--beats-tls needs --tls-cert and --tls-key');
      inputs.push(await startBeatsInput(config.beats, inputCtx, { tls: config.beatsTls ? tls ?? undefined : undefined }));
    }
    if (config.gelf) inputs.push(...(await startGelfInputs(config.gelf, inputCtx)));
    if (specs.length > 0) {
      try {
        pipelines = await PipelineHost.build(specs, {
          writeStore: (events) => store.write(events),
          localEs: es ? localEs(es) : null,
          dataDir: config.data,
          logger: { debug: (m) => app.log.debug(m), info: (m) => app.log.info(m), warn: (m) => app.log.warn(m), error: (m) => app.log.error(m) },
          serverListeners: serverListeners(config),
        });
        await pipelines.run();
      } catch (error) {
        if (error instanceof Error && error.name === 'PipelineStartError') throw new StartupError(error.message);
        throw error;
      }
    }
  } catch (err) {
    await (pipelines as PipelineHost | null)?.close();
    for (const i of inputs) await i.close();
    await es?.close();
    await app.close();
    await store.close();
    throw err;
  }

  const retention = async (): Promise<void> => {
    const removed = await store.applyRetention(Date.now() * 1000);
    if (removed > 0) app.log.info(`retention: deleted ${removed} partition(s) older than ${config.retentionDays} days`);
  };
  await retention();
  const retentionTimer = setInterval(() => void retention().catch((e: Error) => app.log.error(e.message)), 3_600_000);
  retentionTimer.unref();

  return {
    config,
    store,
    app,
    url,
    esUrl: es?.address() ?? null,
    es,
    inputs,
    pipelines,
    close: async () => {
      clearInterval(retentionTimer);
      await pipelines?.close();
      for (const i of inputs) await i.close();
      await es?.close();
      await app.close();
      await store.close();
    },
  };
}
