/**
 * One event, expanded: all its fields as a table and as JSON, each value with "filter for",
 * "filter out", "copy" and "toggle column" buttons, tags as chips, and a link to its
 * surrounding events. Every name and value is written as a Preact text child: log content is
 * hostile and must never become markup, a URL or a style.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { Hit } from '../api.js';
import { formatTime, zoneLabel, type Zone } from '../format.js';
import { navigate } from '../router.js';
import './event-view.css';

export interface EventViewProps {
  hit: Hit;
  zone: Zone;
  onFilter: (field: string, value: unknown, negate: boolean) => void;
  onToggleColumn?: (field: string) => void;
  onClose?: () => void;
}

/** Small stroke icons (SVG by Preact, no icon font to load): the same on every system. */
export function Icon(props: { name: 'plus' | 'minus' | 'copy' | 'check' | 'column' }): JSX.Element {
  const paths: Record<typeof props.name, string> = {
    // A magnifier with + or − in its lens.
    plus: 'M6.5 1.5a5 5 0 1 0 0 10a5 5 0 1 0 0-10M10.2 10.2L14.5 14.5M4.5 6.5h4M6.5 4.5v4',
    minus: 'M6.5 1.5a5 5 0 1 0 0 10a5 5 0 1 0 0-10M10.2 10.2L14.5 14.5M4.5 6.5h4',
    copy: 'M5.5 5.5h8v9h-8zM3.5 10.5h-1v-9h8v1',
    check: 'M2.5 8.5l3.5 3.5l7.5-8',
    column: 'M1.5 2.5h13v11h-13zM6 2.5v11M10.5 2.5v11',
  };
  return (
    <svg class="icon" viewBox="0 0 16 16" width="14" height="14" aria-hidden="true">
      <path d={paths[props.name]} fill="none" stroke="currentColor" stroke-width="1.4" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

/** The fields a context is scoped to by default, when the event has them. */
const CONTEXT_FIELDS = ['host', 'source'];

/**
 * The surrounding-events link: built only from the event's id (URL-encoded) and the names of
 * fixed scoping fields the event has — never from its other values.
 */
export function contextHref(hit: Hit): string {
  const by = CONTEXT_FIELDS.filter((f) => hit[f] !== undefined && hit[f] !== null);
  return `/app/context?id=${encodeURIComponent(hit._id)}&by=${by.join(',')}`;
}

/** A value as the text shown for it: strings as they are, the rest as JSON. */
export function valueText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return '';
  return JSON.stringify(value) ?? String(value);
}

function isList(value: unknown): boolean {
  return Array.isArray(value) || (typeof value === 'object' && value !== null);
}

/** The field rows in a stable order: the timestamp, then the message, then by name. */
function fieldNames(hit: Hit): string[] {
  const first = ['@timestamp', 'message'];
  const rest = Object.keys(hit)
    .filter((k) => k !== '_id' && !first.includes(k))
    .sort((a, b) => a.localeCompare(b));
  return [...first.filter((k) => k in hit), ...rest];
}

/**
 * Copies text: the async clipboard API where the page may use it (a secure context such as
 * 127.0.0.1), else a hidden textarea and execCommand, which CSP does not forbid.
 */
export async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    /* denied (no focus, no permission): try the old way */
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.left = '-10000px';
  area.style.opacity = '0';
  document.body.appendChild(area);
  area.select();
  let ok = false;
  try {
    ok = document.execCommand('copy');
  } catch {
    ok = false;
  }
  area.remove();
  return ok;
}

export function EventView(props: EventViewProps): JSX.Element {
  const { hit, zone, onFilter, onToggleColumn, onClose } = props;
  const [tab, setTab] = useState<'table' | 'json'>('table');
  const [copied, setCopied] = useState<string | null>(null);

  // Escape closes the view (the keyboard rule), unless focus is in an editor or field.
  useEffect(() => {
    if (!onClose) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape' || e.defaultPrevented) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.closest('.cm-editor') || t.tagName === 'INPUT' || t.tagName === 'TEXTAREA')) return;
      e.preventDefault(); // handled: a view around this one need not close something else too
      onClose();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);

  useEffect(() => {
    if (copied === null) return;
    const t = setTimeout(() => setCopied(null), 1500);
    return () => clearTimeout(t);
  }, [copied]);

  const copy = async (key: string, text: string) => {
    if (await copyText(text)) setCopied(key);
  };

  const link = contextHref(hit);
  const json = JSON.stringify(hit, null, 2);

  return (
    <div class="event-view" data-testid="event-view" data-id={hit._id}>
      <div class="ev-bar">
        <div class="ev-tabs" role="tablist">
          <button type="button" role="tab" aria-selected={tab === 'table'} class={tab === 'table' ? 'active' : ''} data-testid="event-tab-table" onClick={() => setTab('table')}>
            Table
          </button>
          <button type="button" role="tab" aria-selected={tab === 'json'} class={tab === 'json' ? 'active' : ''} data-testid="event-tab-json" onClick={() => setTab('json')}>
            JSON
          </button>
        </div>
        <a
          class="ev-context"
          data-testid="context-link"
          href={link}
          onClick={(e) => {
            // A plain click stays in the app; with a modifier the browser opens a new tab.
            if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
            e.preventDefault();
            navigate(link);
          }}
        >
          Surrounding events
        </a>
        {onClose && (
          <button type="button" class="ev-close" data-testid="event-close" title="Close (Esc)" aria-label="Close" onClick={onClose}>
            ×
          </button>
        )}
      </div>
      {tab === 'table' ? (
        <table class="ev-fields">
          <tbody>
            {fieldNames(hit).map((name) => {
              const value = hit[name];
              const text = valueText(value);
              return (
                <tr key={name} data-testid="event-field" data-field={name}>
                  <td class="ev-actions">
                    {/* A list (tags…) is filtered one element at a time, from its chips. */}
                    {!isList(value) && (
                      <>
                    <button type="button" class="ev-btn" data-testid="filter-for" title="Filter for value" aria-label={`Filter for ${name}`} onClick={() => onFilter(name, value, false)}>
                      <Icon name="plus" />
                    </button>
                    <button type="button" class="ev-btn" data-testid="filter-out" title="Filter out value" aria-label={`Filter out ${name}`} onClick={() => onFilter(name, value, true)}>
                      <Icon name="minus" />
                    </button>
                      </>
                    )}
                    <button type="button" class="ev-btn" data-testid="copy" title="Copy value" aria-label={`Copy ${name}`} onClick={() => void copy(name, text)}>
                      <Icon name={copied === name ? 'check' : 'copy'} />
                    </button>
                    {onToggleColumn && (
                      <button type="button" class="ev-btn" data-testid="toggle-column" title="Toggle column in table" aria-label={`Toggle column ${name}`} onClick={() => onToggleColumn(name)}>
                        <Icon name="column" />
                      </button>
                    )}
                  </td>
                  <th class="ev-name" scope="row" data-testid="event-field-name">
                    {name}
                  </th>
                  <td class="ev-value" data-testid="event-field-value">
                    <FieldValue name={name} value={value} zone={zone} onFilter={onFilter} />
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        <div class="ev-json">
          <button type="button" class="ev-btn ev-copy-json" data-testid="copy-json" onClick={() => void copy('__json', json)}>
            {copied === '__json' ? 'Copied' : 'Copy JSON'}
          </button>
          <pre data-testid="event-json">{json}</pre>
        </div>
      )}
    </div>
  );
}

function FieldValue(props: { name: string; value: unknown; zone: Zone; onFilter: EventViewProps['onFilter'] }): JSX.Element {
  const { name, value, zone, onFilter } = props;
  if (name === '@timestamp' && typeof value === 'string') {
    return (
      <span title={value}>
        {formatTime(value, zone)} <span class="ev-zone">{zoneLabel(zone)}</span>
      </span>
    );
  }
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) {
    return (
      <span class="ev-chips">
        {value.map((tag, i) => (
          <button type="button" key={i} class="ev-chip" data-testid="tag-chip" title="Filter for this value" onClick={() => onFilter(name, tag, false)}>
            {valueText(tag)}
          </button>
        ))}
      </span>
    );
  }
  if (value === null) return <span class="ev-null">null</span>;
  return <span class="ev-text">{valueText(value)}</span>;
}
