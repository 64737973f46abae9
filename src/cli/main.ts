/** The `logmill` command. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, loadConfig, type ServerConfig } from '../core/config.js';
import { startServer, StartupError } from '../server.js';
import { apiRequest, CliError } from './client.js';
import { formatImportSummary, importExitCode, importFiles } from './import.js';
import { FORMAT_NAMES, type FormatName } from '../ingest/formats/format.js';
import { isTimeZone } from '../core/zones.js';
import { runPipelineCommand, runPipelineTest } from './pipeline.js';
import { formatTable } from './table.js';
import { tailCommand } from './tail.js';

const program = new Command();
program
  .name('logmill')
  .description('A light, fast, loss-free log platform: ingest, process, store and search logs.')
  .showHelpAfterError('(run with --help for usage)')
  // Lets `pipeline` and `pipeline test` each own their -f/-e (commander needs it on the root as well).
  .enablePositionalOptions();

program
  .command('server')
  .description('Run the server: HTTP API on 127.0.0.1:5601, data under ./data (embedded DuckDB)')
  .option('--config <file>', 'JSON config file; environment (LOGMILL_*) and flags override it')
  .option('--data <dir>', 'data directory (LOGMILL_DATA; default ./data)')
  .option('--http <host:port>', 'HTTP API and UI address (LOGMILL_HTTP; default 127.0.0.1:5601)')
  .option('--token <secret>', 'API token, required beyond loopback; clients send "Authorization: Bearer <secret>" (LOGMILL_TOKEN)')
  .option('--tcp <host:port>', 'newline-delimited TCP input: JSON lines or text (LOGMILL_TCP; default off)')
  .option('--udp <host:port>', 'newline-delimited UDP input (LOGMILL_UDP; default off)')
  .option('--es <host:port>', 'Elasticsearch-compatible API for shippers and ES clients (LOGMILL_ES; default 127.0.0.1:9200; "off" to disable)')
  .option('--syslog <host:port>', 'syslog over UDP and TCP, RFC 3164/5424 (LOGMILL_SYSLOG; default 127.0.0.1:5514; "off" to disable)')
  .option('--syslog-tls <host:port>', 'syslog over TLS, RFC 5425; needs --tls-cert/--tls-key (LOGMILL_SYSLOG_TLS; default off)')
  .option('--beats <host:port>', 'Beats/Lumberjack input for Filebeat, Logstash, logmill agent (LOGMILL_BEATS; default 127.0.0.1:5044; "off" to disable)')
  .option('--beats-tls', 'serve Beats over TLS with --tls-cert/--tls-key (LOGMILL_BEATS_TLS)')
  .option('--gelf <host:port>', 'GELF over UDP and TCP (LOGMILL_GELF; default 127.0.0.1:12201; "off" to disable)')
  .option('--tls-cert <file>', 'PEM certificate for TLS listeners (LOGMILL_TLS_CERT)')
  .option('--tls-key <file>', 'PEM private key for TLS listeners (LOGMILL_TLS_KEY)')
  .option('--tls-ca <file>', 'PEM CA that client certificates must chain to (LOGMILL_TLS_CA)')
  .option('--tls-require-client-cert', 'with --tls-ca: refuse clients without a valid certificate (LOGMILL_TLS_REQUIRE_CLIENT_CERT)')
  .option('--time-zone <zone>', 'IANA zone for syslog dates without an offset (LOGMILL_TIME_ZONE; default UTC)')
  .option('--retention <days>', 'delete days older than this, e.g. 30d (LOGMILL_RETENTION; default keep all)')
  .option('--max-columns <n>', 'typed columns before further fields overflow into one map column (LOGMILL_MAX_COLUMNS; default 1000)')
  .option('--max-line-bytes <n>', 'longer lines are truncated and tagged _truncated (LOGMILL_MAX_LINE_BYTES; default 1048576)')
  .option('--max-body-bytes <n>', 'largest HTTP request body (LOGMILL_MAX_BODY_BYTES; default 67108864)')
  .option('--memory-limit <size>', "DuckDB's memory limit for queries (LOGMILL_MEMORY_LIMIT; default 256MB)")
  .option('--query-timeout <duration>', 'stop queries that run longer, e.g. 30s, 2m; 0 for none (LOGMILL_QUERY_TIMEOUT; default 30s)')
  .option('--log-level <level>', 'silent, error, warn, info or debug (LOGMILL_LOG_LEVEL; default info)')
  .option('-f, --path-config <path>', 'run a Logstash configuration as pipeline "main": a file, a directory of *.conf (name order) or a glob (LOGMILL_PATH_CONFIG)')
  .option('--pipelines <file>', "run the pipelines a Logstash pipelines.yml lists (pipeline.id, path.config or config.string, pipeline.workers) (LOGMILL_PIPELINES)")
  .action(async (flags: Record<string, string | boolean | undefined>) => {
    const config = loadConfig({
      file: typeof flags.config === 'string' ? flags.config : undefined,
      env: process.env,
      flags: {
        data: flags.data,
        http: flags.http,
        token: flags.token,
        tcp: flags.tcp,
        udp: flags.udp,
        es: flags.es,
        syslog: flags.syslog,
        syslogTls: flags.syslogTls,
        beats: flags.beats,
        beatsTls: flags.beatsTls,
        gelf: flags.gelf,
        tlsCert: flags.tlsCert,
        tlsKey: flags.tlsKey,
        tlsCa: flags.tlsCa,
        tlsRequireClientCert: flags.tlsRequireClientCert,
        timeZone: flags.timeZone,
        retentionDays: flags.retention,
        maxColumns: flags.maxColumns,
        maxLineBytes: flags.maxLineBytes,
        maxBodyBytes: flags.maxBodyBytes,
        memoryLimit: flags.memoryLimit,
        queryTimeout: flags.queryTimeout,
        logLevel: flags.logLevel,
        pipelineConfig: flags.pathConfig,
        pipelines: flags.pipelines,
      } satisfies Partial<Record<keyof ServerConfig, string | boolean | undefined>>,
    });
    const server = await startServer(config);
    const listening = [`http ${server.url}`, ...(server.esUrl ? [`elasticsearch ${server.esUrl}`] : []), ...server.inputs.map((i) => `${i.name} ${i.address()}`)];
    server.app.log.info(`logmill listening: ${listening.join(', ')}; data in ${config.data}`);
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      server.app.log.info(`${signal}: shutting down`);
      void server.close().then(() => process.exit(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });

const serverOption = (): Option =>
  new Option('--server <url>', 'Logmill server URL (LOGMILL_URL)').default(process.env.LOGMILL_URL ?? 'http://127.0.0.1:5601');
const tokenOption = (): Option => new Option('--token <secret>', 'API token (LOGMILL_TOKEN)').default(process.env.LOGMILL_TOKEN);

program
  .command('query')
  .description("Search or analyse: logmill query 'status:500 | stats count() by host' --since 1h")
  .argument('<query>', "filter (Lucene-style) with optional pipes; '*' for everything")
  .option('--since <duration>', 'from this long ago until now, e.g. 15m, 1h, 7d', '15m')
  .option('--from <time>', 'start (ISO-8601 or date math like now-1h); overrides --since')
  .option('--to <time>', 'end (ISO-8601 or date math)', 'now')
  .option('--limit <n>', 'most hits or rows', parsePositiveInt, 100)
  .option('--json', 'print the JSON answer instead of a table')
  .addOption(serverOption())
  .addOption(tokenOption())
  .action(async (q: string, o: { since: string; from?: string; to: string; limit: number; json?: boolean; server: string; token?: string }) => {
    const params = new URLSearchParams({ q, from: o.from ?? `now-${o.since}`, to: o.to, limit: String(o.limit) });
    const res = (await apiRequest(o, `/api/v1/search?${params}`)) as
      | { columns: string[]; rows: unknown[][]; truncated?: boolean }
      | { total: number; total_relation?: string; hits: Record<string, unknown>[] };
    if (o.json) {
      process.stdout.write(JSON.stringify(res, null, 2) + '\n');
      return;
    }
    if ('columns' in res) {
      process.stdout.write(formatTable(res.columns, res.rows) + '\n');
      if (res.truncated) process.stderr.write(`the first ${res.rows.length} rows: there are more (raise --limit)\n`);
      return;
    }
    const rows = res.hits.map((h) => [h['@timestamp'], h.host ?? '', h.message ?? JSON.stringify(withoutCore(h))]);
    process.stdout.write(formatTable(['@timestamp', 'host', 'message'], rows) + '\n');
    process.stderr.write(`${res.hits.length} of ${res.total}${res.total_relation === 'gte' ? '+' : ''} hits\n`);
  });

program
  .command('tail')
  .description("Print events as they are stored, matching a filter: logmill tail 'host:web-1 AND level:error'")
  .argument('[query]', "filter (Lucene-style, no pipes); '*' or nothing for everything", '*')
  .option('--json', 'one JSON object per event instead of a line of text')
  .addOption(serverOption())
  .addOption(tokenOption())
  .action(async (q: string, o: { json?: boolean; server: string; token?: string }) => {
    const controller = new AbortController();
    process.once('SIGINT', () => controller.abort());
    process.once('SIGTERM', () => controller.abort());
    await tailCommand(q, { ...o, signal: controller.signal });
  });

program
  .command('import')
  .description('Parse log files (syslog, access logs, NDJSON, plain lines; .gz too) and load them into a running server')
  .argument('<files...>', 'files to import; the format of each is detected from its first lines unless --format says')
  .addOption(new Option('--format <format>', 'the files\' format').choices(['auto', ...FORMAT_NAMES]).default('auto'))
  .option('--timezone <zone>', 'IANA zone for dates without an offset (syslog); default: this machine\'s zone', localTimeZone())
  .option('--pipeline <file>', "run a Logstash configuration's filters over the events (its inputs and outputs are ignored)")
  .option('--pipeline-workers <n>', 'filter worker threads for --pipeline', parsePositiveInt, 1)
  .option('--max-line-bytes <n>', 'longer lines are skipped and counted as failed (match the server\'s --max-line-bytes)', parsePositiveInt, 1024 * 1024)
  .option('--batch-bytes <n>', 'bytes per request', parsePositiveInt, 4 * 1024 * 1024)
  .option('--json', 'print the summary as one JSON object')
  .option('--quiet', 'no progress on stderr')
  .addOption(serverOption())
  .addOption(tokenOption())
  .action(
    async (
      files: string[],
      o: { format: FormatName | 'auto'; timezone: string; pipeline?: string; pipelineWorkers: number; maxLineBytes: number; batchBytes: number; json?: boolean; quiet?: boolean; server: string; token?: string },
    ) => {
      if (!isTimeZone(o.timezone)) throw new CliError(`--timezone: "${o.timezone}" is not a time zone known here (use an IANA name such as Europe/Berlin, or UTC)`);
      const s = await importFiles(files, {
        server: o.server,
        token: o.token,
        batchBytes: o.batchBytes,
        quiet: Boolean(o.quiet),
        format: o.format,
        timeZone: o.timezone,
        pipeline: o.pipeline,
        pipelineWorkers: o.pipelineWorkers,
        maxLineBytes: o.maxLineBytes,
      });
      process.stdout.write(o.json ? JSON.stringify(s) + '\n' : formatImportSummary(s));
      for (const f of s.files) if (f.error !== null) process.stderr.write(`logmill import: ${f.error}\n`);
      process.exitCode = importExitCode(s);
    },
  );

const pipelineCommand = program
  .command('pipeline')
  .description('Run a Logstash configuration (inputs, filters, outputs), as logstash -f does; "pipeline test" tries its filters on lines')
  // `pipeline test -f X`: options after "test" are the subcommand's, not this command's own -f.
  .enablePositionalOptions()
  .option('-f, --path-config <file>', 'configuration file, or a directory whose *.conf files are read in name order')
  .option('-e, --config-string <config>', 'configuration given as text, e.g. \'input { stdin {} } output { stdout {} }\'')
  .option('-t, --config-test', 'check the configuration, print "Configuration OK" and exit')
  .option('-w, --pipeline-workers <n>', 'filter worker threads, as Logstash\'s -w', parsePositiveInt, 1)
  .option('-b, --pipeline-batch-size <n>', 'the most events an input hands on at once, as Logstash\'s -b', parsePositiveInt, 125)
  .option('--log-level <level>', 'debug, info, warn, error or silent (LOGMILL_LOG_LEVEL)', process.env.LOGMILL_LOG_LEVEL ?? 'info')
  .action(async (o: { pathConfig?: string; configString?: string; configTest?: boolean; logLevel: string; pipelineWorkers: number; pipelineBatchSize: number }) => {
    await runPipelineCommand({ file: o.pathConfig, config: o.configString, configTest: o.configTest, logLevel: o.logLevel, workers: o.pipelineWorkers, batchSize: o.pipelineBatchSize });
  });

pipelineCommand
  .command('test')
  .description("Run a configuration's filters over standard input's lines and print each event with its failure tags: logmill pipeline test -f my.conf < sample.log")
  .option('-f, --path-config <file>', 'configuration file, or a directory whose *.conf files are read in name order')
  .option('-e, --config-string <config>', "configuration given as text, e.g. 'filter { grok { match => { \"message\" => \"%{COMBINEDAPACHELOG}\" } } }'")
  .option('--json', 'print one JSON object a line instead of rubydebug')
  .option('--log-level <level>', 'debug, info, warn, error or silent (LOGMILL_LOG_LEVEL)', process.env.LOGMILL_LOG_LEVEL ?? 'warn')
  .action(async (o: { pathConfig?: string; configString?: string; json?: boolean; logLevel: string }) => {
    await runPipelineTest({ file: o.pathConfig, config: o.configString, json: o.json, logLevel: o.logLevel });
  });

function parsePositiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

/** This machine's zone (TZ when set), in which log files are written. */
function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function withoutCore(h: Record<string, unknown>): Record<string, unknown> {
  const { _id: _a, '@timestamp': _b, host: _c, ...rest } = h;
  return rest;
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CliError || err instanceof ConfigError || err instanceof StartupError) {
    process.stderr.write(`logmill: ${err.message}\n`);
    process.exit(1);
  }
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') {
    process.stderr.write(`logmill: address in use (${e.message}); another server may be running, or choose another port with --http\n`);
    process.exit(1);
  }
  process.stderr.write(`logmill: ${e.stack ?? String(err)}\n`);
  process.exit(1);
});
