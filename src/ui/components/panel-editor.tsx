/**
 * The form that adds or edits a dashboard panel: its type, title, own query and the options of
 * its type (the field to split or count by, how many values, bars or pie, which metric). Field
 * names are offered from /api/v1/fields as a datalist (text options, never markup).
 */
import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { EditorView } from '@codemirror/view';
import { getJson, type FieldInfo } from '../api.js';
import { Modal } from './panel-dialog.js';
import { PANEL_TYPES, panelProblem, type MetricKind, type PanelSpec, type PanelType } from './panel-model.js';
import { QueryBar } from './query-bar.js';
import type { TimeRangeValue } from './time-picker.js';

const METRICS: { value: MetricKind; label: string }[] = [
  { value: 'count', label: 'Count' },
  { value: 'avg', label: 'Average' },
  { value: 'sum', label: 'Sum' },
  { value: 'min', label: 'Minimum' },
  { value: 'max', label: 'Maximum' },
  { value: 'percentile', label: 'Percentile' },
];

/** A size per type when the form does not say. */
const DEFAULT_SIZE: Partial<Record<PanelType, number>> = { histogram: 10, top: 10, events: 50 };

function defaultTitle(p: PanelSpec): string {
  switch (p.type) {
    case 'histogram':
      return p.field ? `Events over time by ${p.field}` : 'Events over time';
    case 'top':
      return `Top ${p.field ?? 'values'}`;
    case 'metric':
      return (p.metric ?? 'count') === 'count' ? 'Count' : `${p.metric === 'percentile' ? `p${p.percentile ?? 95}` : p.metric} of ${p.field ?? ''}`;
    case 'events':
      return 'Events';
    case 'table':
      return p.q;
  }
}

/** The query bar's current text (not only what Enter submitted), read from its editor. */
function queryText(form: HTMLElement | null, fallback: string): string {
  const el = form?.querySelector<HTMLElement>('[data-testid="panel-query"] .cm-editor');
  const view = el ? EditorView.findFromDOM(el) : null;
  return view ? view.state.doc.toString() : fallback;
}

export interface PanelEditorProps {
  /** The panel to edit, or a new one (its layout already chosen). */
  panel: PanelSpec;
  isNew: boolean;
  range: TimeRangeValue;
  onSave: (p: PanelSpec) => void;
  onClose: () => void;
}

export function PanelEditor(props: PanelEditorProps): JSX.Element {
  const [draft, setDraft] = useState<PanelSpec>(props.panel);
  const [problem, setProblem] = useState<string | null>(null);
  const [fields, setFields] = useState<FieldInfo[]>([]);
  // The columns as typed (split only on save, so a trailing comma does not vanish while typing).
  const [columnsText, setColumnsText] = useState((props.panel.columns ?? ['message']).join(', '));
  const form = useRef<HTMLFormElement>(null);

  useEffect(() => {
    const ctl = new AbortController();
    getJson<{ fields: FieldInfo[] }>('/api/v1/fields', { from: props.range.from, to: props.range.to }, ctl.signal).then(
      (a) => setFields(a.fields),
      () => {
        /* suggestions only: the user can still type a name */
      },
    );
    return () => ctl.abort();
  }, [props.range.from, props.range.to]);

  const set = (patch: Partial<PanelSpec>) => setDraft((d) => ({ ...d, ...patch }));
  const numeric = fields.filter((f) => f.type === 'integer' || f.type === 'float' || f.conflicts.some((c) => c === 'integer' || c === 'float'));
  const t = draft.type;
  const needsField = t === 'histogram' || t === 'top' || (t === 'metric' && (draft.metric ?? 'count') !== 'count');

  const submit = (e: Event) => {
    e.preventDefault();
    const p: PanelSpec = { ...draft, q: queryText(form.current, draft.q).trim() };
    if (!needsField) delete p.field;
    if (p.field !== undefined) p.field = p.field.trim() || undefined;
    if (p.field === undefined) delete p.field;
    if (t !== 'metric') {
      delete p.metric;
      delete p.percentile;
    } else if (p.metric !== 'percentile') delete p.percentile;
    if (t !== 'top') delete p.chart;
    if (t !== 'events') delete p.columns;
    else p.columns = columnsText.split(',').map((c) => c.trim()).filter(Boolean);
    if (t === 'metric' || t === 'table') delete p.size;
    else p.size = p.size ?? DEFAULT_SIZE[t];
    const why = panelProblem(p);
    if (why) {
      setProblem(why);
      return;
    }
    if (!p.title.trim()) p.title = defaultTitle(p);
    props.onSave(p);
  };

  return (
    <Modal onClose={props.onClose} class="panel-form" label={props.isNew ? 'Add panel' : 'Edit panel'} testId="panel-form">
      <form ref={form} onSubmit={submit} class="dialog-form">
        <h2>{props.isNew ? 'Add panel' : 'Edit panel'}</h2>
        <div class="types" role="radiogroup" aria-label="Panel type">
          {PANEL_TYPES.map((pt) => (
            <button
              type="button"
              key={pt.type}
              role="radio"
              aria-checked={t === pt.type}
              class={t === pt.type ? 'on' : ''}
              data-testid={`panel-type-${pt.type}`}
              onClick={() => set({ type: pt.type })}
            >
              {pt.label}
            </button>
          ))}
        </div>
        <label>
          Title
          <input
            data-testid="panel-title-input"
            value={draft.title}
            placeholder={defaultTitle(draft) || 'A title'}
            onInput={(e) => set({ title: (e.currentTarget as HTMLInputElement).value })}
          />
        </label>
        <label>
          {t === 'table' ? 'Piped query' : 'Query'}
          <QueryBar
            value={draft.q}
            testId="panel-query"
            range={props.range}
            placeholder={t === 'table' ? '* | stats count() by host' : 'Every event (e.g. response:>=500)'}
            onSubmit={(q) => set({ q })}
          />
        </label>
        {needsField && (
          <label>
            {t === 'histogram' ? 'Split by field (optional)' : 'Field'}
            <input
              data-testid="panel-field"
              list="panel-field-names"
              value={draft.field ?? ''}
              placeholder={t === 'histogram' ? 'e.g. host (empty: one series)' : t === 'metric' ? 'a numeric field, e.g. bytes' : 'e.g. program'}
              onInput={(e) => set({ field: (e.currentTarget as HTMLInputElement).value })}
            />
            <datalist id="panel-field-names">
              {(t === 'metric' ? numeric : fields).map((f) => (
                <option key={f.name} value={f.name} />
              ))}
            </datalist>
          </label>
        )}
        <div class="row">
          {t === 'top' && (
            <label>
              Chart
              <select data-testid="panel-chart" value={draft.chart ?? 'bar'} onChange={(e) => set({ chart: (e.currentTarget as HTMLSelectElement).value as 'bar' | 'pie' })}>
                <option value="bar">Bars</option>
                <option value="pie">Pie</option>
              </select>
            </label>
          )}
          {t === 'metric' && (
            <label>
              Metric
              <select data-testid="panel-metric" value={draft.metric ?? 'count'} onChange={(e) => set({ metric: (e.currentTarget as HTMLSelectElement).value as MetricKind })}>
                {METRICS.map((m) => (
                  <option key={m.value} value={m.value}>
                    {m.label}
                  </option>
                ))}
              </select>
            </label>
          )}
          {t === 'metric' && draft.metric === 'percentile' && (
            <label>
              Percentile
              <input
                type="number"
                min="0.1"
                max="99.9"
                step="0.1"
                data-testid="panel-percentile"
                value={draft.percentile ?? 95}
                onInput={(e) => set({ percentile: Number((e.currentTarget as HTMLInputElement).value) })}
              />
            </label>
          )}
          {(t === 'top' || t === 'events' || (t === 'histogram' && draft.field)) && (
            <label>
              {t === 'events' ? 'Rows' : t === 'histogram' ? 'Series' : 'Values'}
              <input
                type="number"
                min="1"
                max={t === 'events' ? 500 : 50}
                data-testid="panel-size"
                value={draft.size ?? DEFAULT_SIZE[t]}
                onInput={(e) => {
                  const n = Number((e.currentTarget as HTMLInputElement).value);
                  set({ size: Number.isFinite(n) && n >= 1 ? Math.round(n) : undefined });
                }}
              />
            </label>
          )}
        </div>
        {t === 'events' && (
          <label>
            Columns <span class="hint">comma-separated; the time is always shown</span>
            <input
              data-testid="panel-columns"
              value={columnsText}
              onInput={(e) => setColumnsText((e.currentTarget as HTMLInputElement).value)}
            />
          </label>
        )}
        {problem && (
          <div class="error" role="alert" data-testid="panel-form-error">
            {problem}
          </div>
        )}
        <div class="modal-actions">
          <button type="button" onClick={props.onClose} data-testid="panel-cancel">
            Cancel
          </button>
          <button type="submit" class="primary" data-testid="panel-save">
            {props.isNew ? 'Add panel' : 'Apply'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
