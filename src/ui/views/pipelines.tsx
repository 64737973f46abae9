/**
 * Pipelines (/app/pipelines): the pipelines the server runs (id, workers, batch size, where the
 * config came from, the config itself read-only, and each plugin's counters, refreshed), an
 * editor that checks a config as it is typed (debounced POST /api/v1/pipelines/validate, errors
 * marked at their line and column), and the dead-letter queue — or, while the server has none,
 * a plain sentence saying so. The page asks again, so it lights up when the API is there.
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, sendJson, sendText, type PipelineInfo, type ValidateAnswer } from '../api.js';
import { formatNumber, formatTime, useZone } from '../format.js';
import type { Route } from '../router.js';
import { usePolling } from '../components/polling.js';
import { ConfigEditor, ConfigView, type ConfigEditorHandle, type ConfigProblem } from './config-editor.js';
import './inputs.css';
import './pipelines.css';

const REFRESH_MS = 2000;
const VALIDATE_DEBOUNCE_MS = 350;

const EXAMPLE = `input {
  syslog { port => 5514 }
}
filter {
  grok { match => { "message" => "%{SYSLOGLINE}" } }
  date { match => [ "timestamp", "MMM  d HH:mm:ss", "MMM dd HH:mm:ss" ] }
}
output {
  logmill { }
}
`;

export function PipelinesPage(_props: { route: Route }): JSX.Element {
  return (
    <section class="page ops-page pipelines-page" data-testid="pipelines-page">
      <header class="ops-head">
        <h2>Pipelines</h2>
      </header>
      <RunningPipelines />
      <EditorSection />
      <DeadLetterQueue />
    </section>
  );
}

function RunningPipelines(): JSX.Element {
  const [pipelines, setPipelines] = useState<PipelineInfo[] | null>(null);
  const { error } = usePolling(
    (signal) => getJson<{ pipelines: PipelineInfo[] }>('/api/v1/pipelines', {}, signal),
    (answer) => setPipelines(answer.pipelines),
    REFRESH_MS,
  );

  return (
    <div data-testid="pipelines-list">
      <h3>Running</h3>
      {error && (
        <div class="ops-error" role="alert">
          Could not read the pipelines: {error}
        </div>
      )}
      {pipelines === null && !error && <p class="ops-muted">Loading…</p>}
      {pipelines && pipelines.length === 0 && (
        <div class="ops-empty" data-testid="pipelines-empty">
          <p>The server runs no pipeline: events go straight from its inputs to storage.</p>
          <p class="ops-muted">Run a Logstash configuration with the server:</p>
          <pre>{'logmill server -f /etc/logmill/pipeline.conf\nlogmill server --pipelines /etc/logmill/pipelines.yml'}</pre>
        </div>
      )}
      {pipelines?.map((p) => <PipelineCard key={p.id} pipeline={p} />)}
    </div>
  );
}

/**
 * What a pipeline's answer may carry beyond api.ts's PipelineInfo: the config text and
 * per-plugin counters (issue 19). Shown when the server sends them, said plainly when not.
 */
type PluginInfo = PipelineInfo['plugins'][number] & { id?: string; events?: { in: number; out: number }; dropped?: number; failures?: number };
type PipelineShown = Omit<PipelineInfo, 'plugins'> & { plugins: PluginInfo[] };

function PipelineCard(props: { pipeline: PipelineInfo }): JSX.Element {
  const p = props.pipeline as PipelineShown;
  const [showConfig, setShowConfig] = useState(true);
  const perPlugin = p.plugins.some((pl) => pl.events !== undefined);
  const counts = p.counts ?? { in: 0, out: 0, filtered: 0 };
  return (
    <article class="pl-card" data-testid="pipeline" data-id={p.id}>
      <div class="pl-head">
        <span class="pl-id" data-testid="pipeline-id">{p.id}</span>
        <span class="pl-meta">
          <b>{formatNumber(p.workers)}</b> worker{p.workers === 1 ? '' : 's'}
        </span>
        <span class="pl-meta">
          batch size <b>{formatNumber(p.batchSize)}</b>
        </span>
        <span class="pl-meta pl-source" title={p.source} data-testid="pipeline-source">
          {p.source}
        </span>
        <button type="button" class="link pl-toggle" data-testid="pipeline-config-toggle" onClick={() => setShowConfig(!showConfig)}>
          {showConfig ? 'Hide config' : 'Show config'}
        </button>
      </div>
      <div class="pl-counts" data-testid="pipeline-counts">
        <span>
          <b data-testid="pipeline-in">{formatNumber(counts.in)}</b> events in
        </span>
        <span>
          <b data-testid="pipeline-out">{formatNumber(counts.out)}</b> out
        </span>
        <span class={counts.filtered > 0 ? 'ops-warn' : ''}>
          <b>{formatNumber(counts.filtered)}</b> dropped by filters or routed nowhere
        </span>
      </div>
      <div class="pl-body">
        {showConfig && (
          <div class="pl-config">
            {typeof p.config === 'string' ? (
              <ConfigView text={p.config} testId="pipeline-config" />
            ) : (
              <div class="ops-note">This server does not send the config's text; it is read from {p.source}.</div>
            )}
          </div>
        )}
        <div class="pl-plugins">
          <table class="ops-table" data-testid="pipeline-plugins">
            <thead>
              <tr>
                <th>Plugin</th>
                <th class="num">Line</th>
                {perPlugin && (
                  <>
                    <th class="num">In</th>
                    <th class="num">Out</th>
                    <th class="num">Dropped</th>
                    <th class="num">Failures</th>
                  </>
                )}
              </tr>
            </thead>
            <tbody>
              {p.plugins.map((plugin, i) => (
                <tr key={plugin.id ?? i} data-testid="pipeline-plugin" data-name={plugin.name}>
                  <td>
                    <span class={`pl-kind pl-kind-${plugin.kind}`}>{plugin.kind}</span> <b>{plugin.name}</b>
                    {plugin.id && <span class="mono ops-muted"> {plugin.id}</span>}
                  </td>
                  <td class="num ops-muted">{plugin.line}</td>
                  {perPlugin && (
                    <>
                      <td class="num">{plugin.events ? formatNumber(plugin.events.in) : '–'}</td>
                      <td class="num">{plugin.events ? formatNumber(plugin.events.out) : '–'}</td>
                      <td class={`num${(plugin.dropped ?? 0) > 0 ? ' ops-warn' : ''}`}>{plugin.dropped === undefined ? '–' : formatNumber(plugin.dropped)}</td>
                      <td class={`num${(plugin.failures ?? 0) > 0 ? ' ops-bad' : ''}`}>{plugin.failures === undefined ? '–' : formatNumber(plugin.failures)}</td>
                    </>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
          {!perPlugin && (
            <p class="ops-muted pl-small" data-testid="pipeline-plugin-counters-note">
              Per-plugin counters (events in/out, dropped, failures) come with issue 19; the pipeline's totals are above.
            </p>
          )}
        </div>
      </div>
    </article>
  );
}

type Check = { state: 'idle' } | { state: 'checking' } | { state: 'ok' } | { state: 'errors'; errors: ConfigProblem[] } | { state: 'failed'; message: string };

function EditorSection(): JSX.Element {
  const [check, setCheck] = useState<Check>({ state: 'idle' });
  const [problems, setProblems] = useState<ConfigProblem[]>([]);
  const editor = useRef<ConfigEditorHandle | null>(null);
  const pending = useRef<{ timer?: ReturnType<typeof setTimeout>; ctl?: AbortController }>({});

  const validate = (text: string) => {
    const p = pending.current;
    clearTimeout(p.timer);
    p.ctl?.abort();
    setCheck({ state: 'checking' });
    p.timer = setTimeout(() => {
      const ctl = new AbortController();
      p.ctl = ctl;
      sendText<ValidateAnswer>('/api/v1/pipelines/validate', text, ctl.signal).then(
        (answer) => {
          if (ctl.signal.aborted) return;
          setProblems(answer.errors);
          setCheck(answer.ok ? { state: 'ok' } : { state: 'errors', errors: answer.errors });
        },
        (err: unknown) => {
          if (ctl.signal.aborted) return;
          setProblems([]);
          setCheck({ state: 'failed', message: err instanceof Error ? err.message : String(err) });
        },
      );
    }, VALIDATE_DEBOUNCE_MS);
  };

  useEffect(() => {
    validate(EXAMPLE);
    const p = pending.current;
    return () => {
      clearTimeout(p.timer);
      p.ctl?.abort();
    };
  }, []);

  return (
    <div class="pl-editor-section">
      <h3>Check a config</h3>
      <p class="ops-muted pl-hint">Type or paste a Logstash configuration: it is checked as you type, the way <code>logmill pipeline -t</code> checks it, without running it.</p>
      <div class="pl-editor-grid">
        <ConfigEditor initial={EXAMPLE} onChange={validate} problems={problems} testId="pipeline-editor" handle={editor} />
        <div class="pl-check" data-testid="pipeline-check" data-state={check.state}>
          {check.state === 'checking' && <div class="pl-status pl-status-muted">Checking…</div>}
          {check.state === 'ok' && (
            <div class="pl-status pl-status-ok" data-testid="pipeline-ok">
              ✓ The configuration is valid
            </div>
          )}
          {check.state === 'failed' && (
            <div class="pl-status pl-status-bad" role="alert">
              Could not check it: {check.message}
            </div>
          )}
          {check.state === 'errors' && (
            <div class="pl-status pl-status-bad">
              {check.errors.length} problem{check.errors.length === 1 ? '' : 's'}
            </div>
          )}
          <ul class="pl-errors" data-testid="pipeline-errors">
            {(check.state === 'errors' ? check.errors : []).map((e, i) => (
              <li key={i} data-testid="pipeline-error" data-line={e.line} data-column={e.column}>
                <button type="button" class="link pl-at" onClick={() => editor.current?.reveal(e)} title="Show in the editor">
                  line {e.line}, column {e.column}
                </button>
                <span class="pl-msg">{e.message}</span>
              </li>
            ))}
          </ul>
          <div class="ops-note pl-reload-note" data-testid="pipeline-reload-note">
            Live reload is not available yet: saving a config and reloading the running pipelines comes with issue 19. Until then, restart the server with <code>-f</code> to run a config.
          </div>
        </div>
      </div>
    </div>
  );
}

/** A dead-letter queue entry as the API may answer it; fields beyond `reason` are shown when present. */
interface DlqEntry {
  id?: string;
  reason: string;
  pipeline?: string;
  plugin?: string;
  time?: string;
  event?: Record<string, unknown>;
}

type Dlq = { state: 'loading' } | { state: 'unavailable'; message: string } | { state: 'failed'; message: string } | { state: 'ok'; entries: DlqEntry[] };

function DeadLetterQueue(): JSX.Element {
  const [zone] = useZone();
  const [dlq, setDlq] = useState<Dlq>({ state: 'loading' });
  const [replay, setReplay] = useState<string | null>(null);
  const [reload, setReload] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const answer = await getJson<{ entries?: DlqEntry[] }>('/api/v1/dlq', {}, ctl.signal);
        setDlq({ state: 'ok', entries: Array.isArray(answer.entries) ? answer.entries : [] });
      } catch (err) {
        if (ctl.signal.aborted) return;
        if (err instanceof ApiError && err.status === 404) setDlq({ state: 'unavailable', message: err.message });
        else setDlq({ state: 'failed', message: err instanceof Error ? err.message : String(err) });
      }
      // Asked again now and then, so the section lights up once the server has a queue.
      if (!ctl.signal.aborted) timer = setTimeout(() => void poll(), REFRESH_MS * 5);
    };
    void poll();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [reload]);

  const doReplay = async (ids?: string[]) => {
    setReplay('Replaying…');
    try {
      const answer = await sendJson<{ replayed?: number }>('POST', '/api/v1/dlq/replay', ids ? { ids } : {});
      setReplay(typeof answer?.replayed === 'number' ? `${formatNumber(answer.replayed)} replayed` : 'Replayed');
    } catch (err) {
      setReplay(`Replay failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    setReload((n) => n + 1);
  };

  return (
    <div class="pl-dlq" data-testid="dlq">
      <h3>Dead-letter queue</h3>
      {dlq.state === 'loading' && <p class="ops-muted">Loading…</p>}
      {dlq.state === 'unavailable' && (
        <div class="ops-note" data-testid="dlq-unavailable">
          The dead-letter queue is not available in this version. Events an output refuses are logged by the server, not queued; the queue comes with issue 19, and this section shows it once the server has it.
        </div>
      )}
      {dlq.state === 'failed' && (
        <div class="ops-error" role="alert">
          Could not read the dead-letter queue: {dlq.message}
        </div>
      )}
      {dlq.state === 'ok' && (
        <>
          <div class="pl-dlq-bar">
            <span>
              <b>{formatNumber(dlq.entries.length)}</b> entr{dlq.entries.length === 1 ? 'y' : 'ies'}
            </span>
            <button type="button" class="primary" data-testid="dlq-replay" disabled={dlq.entries.length === 0} onClick={() => void doReplay()}>
              Replay all
            </button>
            {replay && <span class="ops-muted" data-testid="dlq-replay-result">{replay}</span>}
          </div>
          {dlq.entries.length > 0 && (
            <div class="ops-table-wrap">
              <table class="ops-table" data-testid="dlq-table">
                <thead>
                  <tr>
                    <th>Time</th>
                    <th>Pipeline</th>
                    <th>Plugin</th>
                    <th>Reason</th>
                    <th>Event</th>
                    <th />
                  </tr>
                </thead>
                <tbody>
                  {dlq.entries.map((e, i) => (
                    <tr key={e.id ?? i} data-testid="dlq-entry">
                      <td class="mono">{e.time ? formatTime(e.time, zone) : '–'}</td>
                      <td>{e.pipeline ?? '–'}</td>
                      <td>{e.plugin ?? '–'}</td>
                      <td class="pl-reason">{e.reason}</td>
                      <td class="mono pl-event">{e.event ? JSON.stringify(e.event) : '–'}</td>
                      <td>{e.id && <button type="button" onClick={() => void doReplay([e.id!])}>Replay</button>}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </>
      )}
    </div>
  );
}
