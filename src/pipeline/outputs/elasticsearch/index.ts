/**
 * The `elasticsearch` output: events to any server that speaks the Elasticsearch bulk API (Logmill's
 * own `--es` port, or Elasticsearch itself), with the settings Logstash's output has.
 *
 * Delivery is at least once, as in Logstash: `write` resolves only when every event is stored or was
 * refused for a reason no retry can fix (logged and counted); connection failures, 429 and 5xx answers
 * are retried with doubling waits, whole or item by item.
 */
import { readFileSync } from 'node:fs';
import type { PipelineEvent } from '../../event.js';
import type { Output, OutputFactory, PluginContext } from '../../plugin.js';
import type { Settings } from '../../settings.js';
import type { Template } from '../../sprintf.js';
import { ConnectionError, EsClient, type Answer } from './client.js';
import type { LocalEs } from '../../plugin.js';
import { ACTIONS, bodies, bulkItem, verdicts, type Action, type BulkItem, type ItemParams } from './bulk.js';

const BULK_QUERY = 'filter_path=errors,items.*.error,items.*.status';

interface DataStreamSettings {
  readonly type: string;
  readonly dataset: string;
  readonly namespace: string;
  readonly autoRouting: boolean;
  readonly syncFields: boolean;
}

export interface OutputCounts {
  indexed: number;
  dropped: number;
  retried: number;
}

export const elasticsearchOutput: OutputFactory = (settings, context) => {
  const ssl = settings.boolean('ssl_enabled', settings.boolean('ssl', false));
  const hosts = readHosts(settings, ssl);
  const remote = new EsClient({
    hosts,
    authorization: readAuthorization(settings),
    ca: readCertificateAuthorities(settings),
    verify: readVerification(settings),
    compress: settings.boolean('http_compression', false),
    timeoutMs: settings.number('timeout', 60, { min: 1 }) * 1000,
  });
  // Inside the server, an output aimed at the server's own Elasticsearch-compatible API reaches it in-process:
  // the same requests and answers, without a socket or a second copy over loopback.
  const localEs = context.host?.localEs ?? null;
  const client: Transport = localEs !== null && hosts.every((h) => localEs.isSelf(h)) ? localTransport(localEs) : remote;
  const indexSet = settings.has('index');
  const index = settings.template('index', 'logstash-%{+yyyy.MM.dd}');
  const documentId = settings.template('document_id');
  const actionSet = settings.has('action');
  const action = settings.template('action', 'index');
  if (action.constant && !(ACTIONS as readonly string[]).includes(action.source)) throw settings.error('action', `must be one of ${ACTIONS.join(', ')} (or a %{field} that holds one), not "${action.source}"`);
  const params: ItemParams = { docAsUpsert: settings.boolean('doc_as_upsert', false), retryOnConflict: settings.number('retry_on_conflict', 1, { integer: true, min: 0 }) };
  const retryInitialMs = settings.number('retry_initial_interval', 2, { min: 0 }) * 1000;
  const retryMaxMs = settings.number('retry_max_interval', 64, { min: 0 }) * 1000;
  const templateSettingsSet = ['manage_template', 'template', 'template_name', 'template_overwrite'].some((n) => settings.has(n));
  const manageTemplate = settings.boolean('manage_template', true);
  const templateName = settings.string('template_name', 'logstash');
  const templateOverwrite = settings.boolean('template_overwrite', false);
  const templateFile = settings.string('template');
  const dataStreamChoice = settings.choice('data_stream', ['auto', 'true', 'false'] as const, 'auto');
  const dataStream: DataStreamSettings = {
    type: settings.choice('data_stream_type', ['logs', 'metrics', 'synthetics', 'traces'] as const, 'logs'),
    dataset: settings.string('data_stream_dataset', 'generic'),
    namespace: settings.string('data_stream_namespace', 'default'),
    autoRouting: settings.boolean('data_stream_auto_routing', true),
    syncFields: settings.boolean('data_stream_sync_fields', true),
  };
  const ilm = settings.choice('ilm_enabled', ['auto', 'true', 'false'] as const, 'auto');
  if (ilm === 'true') throw settings.error('ilm_enabled', 'cannot be true here: Logmill keeps its own retention (--retention); leave it out or set it to false');
  // Sent as each action's `pipeline`; against Logmill it names one of the server's pipelines (`_bulk?pipeline=`).
  const ingestPipeline = settings.has('pipeline') ? settings.template('pipeline', '') : null;
  if (settings.boolean('sniffing', false)) throw settings.error('sniffing', 'cannot be true here: list every node in hosts instead');
  settings.accept('id', 'enable_metric', 'workers', 'codec', 'ecs_compatibility', 'pool_max', 'pool_max_per_route', 'resurrect_delay', 'validate_after_inactivity', 'healthcheck_path', 'ilm_rollover_alias', 'ilm_pattern', 'ilm_policy', 'document_type', 'silence_errors_in_log', 'dlq_on_failed_indexname_interpolation', 'dlq_custom_codes');
  settings.done();

  const counts: OutputCounts = { indexed: 0, dropped: 0, retried: 0 };
  let useDataStream = dataStreamChoice === 'true';
  const label = `output elasticsearch (${settings.plugin.at.line}:${settings.plugin.at.column})`;
  const log = context.logger;

  const itemOf = (event: PipelineEvent): BulkItem | null => {
    const chosen = useDataStream ? 'create' : action.render(event);
    if (!(ACTIONS as readonly string[]).includes(chosen)) {
      counts.dropped++;
      log.warn(`${label}: dropped an event whose action "${chosen}" is not one of ${ACTIONS.join(', ')}`);
      return null;
    }
    const target = useDataStream ? dataStreamIndex(event, dataStream) : index.render(event);
    const id = documentId ? documentId.render(event) : null;
    // A name that renders empty (or leaves a %{} of a missing field) sends none, as Logstash does.
    const pipeline = ingestPipeline?.render(event) ?? '';
    return bulkItem(event, chosen as Action, target, id, params, pipeline === '' || pipeline.includes('%{') ? null : pipeline);
  };

  const output: Output & { counts: OutputCounts } = {
    label,
    counts,
    async start() {
      const version = await untilAnswered(client, context, label, retryInitialMs, retryMaxMs);
      if (dataStreamChoice === 'auto') useDataStream = version >= 8 && !indexSet && !actionSet && !templateSettingsSet && !documentId;
      if (useDataStream) {
        if (indexSet) throw settings.error('index', 'cannot be set with data_stream => true: the data stream is named from data_stream_type, _dataset and _namespace');
        log.info(`${label}: writing to data stream ${dataStream.type}-${dataStream.dataset}-${dataStream.namespace}${dataStream.autoRouting ? ' (or as events\' data_stream fields say)' : ''}`);
      } else if (manageTemplate) {
        await installTemplate(client, log, label, templateName, templateOverwrite, templateFile);
      }
    },
    async write(events) {
      if (useDataStream && dataStream.syncFields) for (const event of events) syncDataStreamFields(event, dataStream);
      let pending = events.map(itemOf).filter((item): item is BulkItem => item !== null);
      let waitMs = retryInitialMs;
      while (pending.length > 0) {
        const retry: BulkItem[] = [];
        for (const group of bodies(pending)) retry.push(...(await send(group)));
        if (retry.length === 0) return;
        counts.retried += retry.length;
        log.warn(`${label}: retrying ${retry.length} event(s) in ${waitMs / 1000} s`);
        await sleep(waitMs);
        waitMs = Math.min(waitMs * 2, retryMaxMs);
        pending = retry;
      }
    },
    async close() {
      client.close();
      if (client !== remote) remote.close();
      log.info(`${label}: ${counts.indexed} event(s) stored, ${counts.dropped} dropped, ${counts.retried} retried`);
    },
  };

  /** Sends one body; returns the items to try again. */
  async function send(group: BulkItem[]): Promise<BulkItem[]> {
    let answer;
    try {
      answer = await client.request('POST', `/_bulk?${BULK_QUERY}`, group.map((item) => item.lines).join(''), 'application/x-ndjson');
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      log.warn(`${label}: could not reach ${error.message}`);
      return group;
    }
    if (answer.status === 413 && group.length > 1) {
      const half = Math.ceil(group.length / 2);
      return [...(await send(group.slice(0, half))), ...(await send(group.slice(half)))];
    }
    if (answer.status !== 200) {
      if (answer.status === 413 || (answer.status >= 400 && answer.status < 500 && answer.status !== 429 && answer.status !== 401 && answer.status !== 403)) {
        counts.dropped += group.length;
        log.error(`${label}: ${answer.host} refused a bulk request of ${group.length} event(s) with ${answer.status}: ${answer.body.slice(0, 500)}`);
        return [];
      }
      const hint = answer.status === 401 || answer.status === 403 ? ' (check user and password, or api_key)' : '';
      log.warn(`${label}: ${answer.host} answered ${answer.status}${hint}: ${answer.body.slice(0, 300)}`);
      return group;
    }
    const results = verdicts(answer.body, group.length);
    if (results === null) {
      log.warn(`${label}: ${answer.host} gave a bulk answer that cannot be read; sending again`);
      return group;
    }
    const retry: BulkItem[] = [];
    results.forEach((verdict, i) => {
      if (verdict.kind === 'done') counts.indexed++;
      else if (verdict.kind === 'retry') retry.push(group[i]);
      else {
        counts.dropped++;
        const item = group[i];
        if (verdict.status === 409 && item.action === 'create') log.debug(`${label}: ${item.index}/${item.id ?? ''} exists already: ${verdict.reason}`);
        else log.warn(`${label}: could not index an event into "${item.index}": ${verdict.reason}`);
      }
    });
    return retry;
  }

  return output;
};

function readHosts(settings: Settings, ssl: boolean): URL[] {
  const texts = settings.strings('hosts');
  const hosts = (texts.length > 0 ? texts : ['127.0.0.1']).map((text) => {
    const withScheme = /^[a-z]+:\/\//i.test(text) ? text : `${ssl ? 'https' : 'http'}://${text.replace(/^\/\//, '')}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch {
      throw settings.error('hosts', `holds "${text}", which is not a host, host:port or URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw settings.error('hosts', `holds "${text}": only http and https are spoken`);
    if (url.port === '' && !/^[a-z]+:\/\/[^/]*:\d+/i.test(withScheme)) url.port = '9200';
    if (ssl) url.protocol = 'https:';
    return url;
  });
  return hosts;
}

function readAuthorization(settings: Settings): string | null {
  const user = settings.string('user');
  const password = settings.string('password');
  const apiKey = settings.string('api_key');
  settings.accept('cloud_id', 'cloud_auth');
  if (apiKey !== undefined) {
    if (user !== undefined) throw settings.error('api_key', 'cannot be given with user and password: choose one');
    return `ApiKey ${Buffer.from(apiKey).toString('base64')}`;
  }
  if (user === undefined && password === undefined) return null;
  if (user === undefined || password === undefined) throw settings.error(user === undefined ? 'password' : 'user', 'needs its partner: set both user and password');
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

function readCertificateAuthorities(settings: Settings): Buffer[] | null {
  const files = [...settings.strings('ssl_certificate_authorities'), ...settings.strings('cacert')];
  if (files.length === 0) return null;
  return files.map((file) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw settings.error('ssl_certificate_authorities', `names ${file}, which cannot be read: ${(error as Error).message}`);
    }
  });
}

function readVerification(settings: Settings): boolean {
  const verify = settings.boolean('ssl_certificate_verification', true);
  return settings.choice('ssl_verification_mode', ['full', 'none'] as const, verify ? 'full' : 'none') === 'full';
}

/** What the output sends requests through: a client of remote hosts, or the server's own API in-process. */
interface Transport {
  request(method: string, path: string, body?: string, contentType?: string): Promise<Answer>;
  close(): void;
}

function localTransport(local: LocalEs): Transport {
  return {
    request: async (method, path, body, contentType) => ({ ...(await local.request(method, path, body, contentType)), host: 'logmill (in-process)' }),
    close: () => {},
  };
}

/** GET / until a server answers, as Logstash's health check does; returns its major version. */
async function untilAnswered(client: Transport, context: PluginContext, label: string, initialMs: number, maxMs: number): Promise<number> {
  let waitMs = Math.max(initialMs, 100);
  for (;;) {
    try {
      const answer = await client.request('GET', '/');
      if (answer.status === 200) {
        const body = JSON.parse(answer.body) as { version?: { number?: string } };
        const major = Number(body.version?.number?.split('.')[0]);
        context.logger.info(`${label}: connected to ${answer.host} (version ${body.version?.number ?? 'unknown'})`);
        return Number.isFinite(major) ? major : 8;
      }
      const hint = answer.status === 401 || answer.status === 403 ? ' (check user and password, or api_key)' : '';
      context.logger.warn(`${label}: ${answer.host} answered ${answer.status}${hint}; trying again in ${waitMs / 1000} s`);
    } catch (error) {
      if (!(error instanceof ConnectionError || error instanceof SyntaxError)) throw error;
      context.logger.warn(`${label}: ${error.message}; trying again in ${waitMs / 1000} s`);
    }
    if (context.signal.aborted) throw new Error(`${label}: stopped before any server answered`);
    await sleep(waitMs);
    waitMs = Math.min(waitMs * 2, maxMs);
  }
}

/** Installs the index template unless one of that name exists (or overwrite is asked for). */
async function installTemplate(client: Transport, log: PluginContext['logger'], label: string, name: string, overwrite: boolean, file: string | undefined): Promise<void> {
  const path = `/_index_template/${encodeURIComponent(name)}`;
  if (!overwrite) {
    const existing = await client.request('GET', path);
    if (existing.status === 200) return;
  }
  const body = file !== undefined ? readFileSync(file, 'utf8') : JSON.stringify(defaultTemplate());
  const answer = await client.request('PUT', path, body);
  if (answer.status >= 300) log.warn(`${label}: could not install index template "${name}" (${answer.status}): ${answer.body.slice(0, 300)}`);
  else log.info(`${label}: installed index template "${name}"`);
}

/** Logstash's own template, in short: logstash-* indices, text messages, keyword strings. */
function defaultTemplate(): object {
  return {
    index_patterns: ['logstash-*'],
    priority: 200,
    template: {
      settings: { index: { refresh_interval: '5s', number_of_shards: 1 } },
      mappings: {
        dynamic_templates: [{ message_field: { path_match: 'message', match_mapping_type: 'string', mapping: { type: 'text', norms: false } } }, { string_fields: { match: '*', match_mapping_type: 'string', mapping: { type: 'keyword' } } }],
        properties: { '@timestamp': { type: 'date' }, '@version': { type: 'keyword' } },
      },
    },
  };
}

function dataStreamIndex(event: PipelineEvent, settings: DataStreamSettings): string {
  if (!settings.autoRouting) return `${settings.type}-${settings.dataset}-${settings.namespace}`;
  const part = (name: string, fallback: string): string => {
    const value = event.get(['data_stream', name]);
    return typeof value === 'string' && value !== '' ? value : fallback;
  };
  return `${part('type', settings.type)}-${part('dataset', settings.dataset)}-${part('namespace', settings.namespace)}`;
}

function syncDataStreamFields(event: PipelineEvent, settings: DataStreamSettings): void {
  const [type, dataset, namespace] = dataStreamIndex(event, settings).split('-');
  event.set(['data_stream'], { type, dataset, namespace });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
