/**
 * Inputs (/app/inputs): every listener the server runs (syslog, TCP, Beats, GELF…) with its
 * address, status and counters, refreshed every 2 s. The API gives totals; the rates are the
 * differences between two answers over the time between them.
 */
import type { JSX } from 'preact';
import { usePolling } from '../components/polling.js';
import { useRef, useState } from 'preact/hooks';
import { getJson, type InputInfo } from '../api.js';
import { formatNumber } from '../format.js';
import type { Route } from '../router.js';
import './inputs.css';

const REFRESH_MS = 2000;

interface Rates {
  events: number;
  bytes: number;
}

/** Bytes as people read them (binary units, one decimal below 10). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  if (i === 0) return `${formatNumber(Math.round(v))} B`;
  return `${v < 10 ? v.toFixed(1) : formatNumber(Math.round(v))} ${units[i]}`;
}

function statusClass(status: string | undefined): string {
  if (!status) return 'unknown';
  if (/^(listening|running|up|ok|open)$/i.test(status)) return 'ok';
  if (/^(starting|stopping|degraded)/i.test(status)) return 'warn';
  return 'bad';
}

export function InputsPage(_props: { route: Route }): JSX.Element {
  const [inputs, setInputs] = useState<InputInfo[] | null>(null);
  const [rates, setRates] = useState<Map<string, Rates>>(new Map());
  const [updated, setUpdated] = useState<number | null>(null);
  const last = useRef<{ at: number; inputs: Map<string, InputInfo> } | null>(null);

  const { error } = usePolling(
    (signal) => getJson<{ inputs: InputInfo[] }>('/api/v1/inputs', {}, signal),
    (answer) => {
      const at = performance.now();
      const prev = last.current;
      const next = new Map<string, Rates>();
      if (prev) {
        const seconds = (at - prev.at) / 1000;
        for (const input of answer.inputs) {
          const before = prev.inputs.get(input.name);
          // A counter that went down means the listener restarted: no rate for this round.
          if (before && seconds > 0 && input.events >= before.events && input.bytes >= before.bytes) {
            next.set(input.name, { events: (input.events - before.events) / seconds, bytes: (input.bytes - before.bytes) / seconds });
          }
        }
      }
      last.current = { at, inputs: new Map(answer.inputs.map((i) => [i.name, i])) };
      setInputs(answer.inputs);
      setRates(next);
      setUpdated(Date.now());
    },
    REFRESH_MS,
  );

  return (
    <section class="page ops-page inputs-page" data-testid="inputs-page">
      <header class="ops-head">
        <h2>Inputs</h2>
        <span class="ops-muted" data-testid="inputs-updated">
          {error ? '' : updated ? `Refreshed every ${REFRESH_MS / 1000} s` : 'Loading…'}
        </span>
      </header>
      {error && (
        <div class="ops-error" role="alert" data-testid="inputs-error">
          Could not read the inputs: {error}
        </div>
      )}
      {inputs && inputs.length === 0 && (
        <div class="ops-empty" data-testid="inputs-empty">
          <p>The server runs no listener besides its HTTP API.</p>
          <p class="ops-muted">Start one with a flag, for example:</p>
          <pre>{'logmill server --syslog 127.0.0.1:5514 --beats 127.0.0.1:5044 --tcp 127.0.0.1:5170'}</pre>
        </div>
      )}
      {inputs && inputs.length > 0 && (
        <div class="ops-table-wrap">
          <table class="ops-table" data-testid="inputs-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Address</th>
                <th>Status</th>
                <th class="num">Events/s</th>
                <th class="num">Bytes/s</th>
                <th class="num">Events</th>
                <th class="num">Bytes</th>
                <th class="num">Parse failures</th>
                <th class="num">Drops</th>
                <th class="num">TLS failures</th>
                <th class="num">Connections</th>
              </tr>
            </thead>
            <tbody>
              {inputs.map((input) => {
                const r = rates.get(input.name);
                const status = input.status as string | undefined;
                return (
                  <tr key={input.name} data-testid="input-row" data-name={input.name}>
                    <td class="ops-name">{input.name}</td>
                    <td class="mono">{input.address ?? '—'}</td>
                    <td>
                      <span class={`ops-badge ops-badge-${statusClass(status)}`} data-testid="input-status">
                        {status ?? 'unknown'}
                      </span>
                    </td>
                    <td class="num" data-testid="input-rate">{r ? formatNumber(Math.round(r.events)) : '–'}</td>
                    <td class="num">{r ? `${formatBytes(r.bytes)}/s` : '–'}</td>
                    <td class="num" data-testid="input-events" data-count={input.events}>{formatNumber(input.events)}</td>
                    <td class="num" title={`${formatNumber(input.bytes)} bytes`}>{formatBytes(input.bytes)}</td>
                    <td class={`num${input.parseFailures > 0 ? ' ops-warn' : ''}`}>{formatNumber(input.parseFailures)}</td>
                    <td class={`num${input.dropped > 0 ? ' ops-bad' : ''}`}>{formatNumber(input.dropped)}</td>
                    <td class={`num${input.tlsHandshakeFailures > 0 ? ' ops-warn' : ''}`}>{formatNumber(input.tlsHandshakeFailures)}</td>
                    <td class="num">{formatNumber(input.connections)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
