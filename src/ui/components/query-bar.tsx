/**
 * The query bar: a one-line CodeMirror editor for Logmill's query language, with highlighting
 * (fields, operators, quoted strings, pipes), autocomplete of field names (/api/v1/fields) and
 * of a field's top values after `field:`, and the server's syntax error marked at its position.
 * Enter runs the query. Suggestions are text (CodeMirror renders labels with textContent).
 */
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import './cm-csp.js';
import { EditorState, Prec, RangeSetBuilder, StateEffect, StateField } from '@codemirror/state';
import { Decoration, EditorView, ViewPlugin, keymap, placeholder as cmPlaceholder, type DecorationSet, type ViewUpdate } from '@codemirror/view';
import { autocompletion, acceptCompletion, closeCompletion, completionStatus, startCompletion, type Completion, type CompletionResult } from '@codemirror/autocomplete';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import { getJson, type FieldInfo, type FieldValues } from '../api.js';
import { quoteValue } from '../query-text.js';
import { completionAt, tokenizeQuery } from './query-highlight.js';
import type { TimeRangeValue } from './time-picker.js';
import './query-bar.css';

export interface QueryBarProps {
  value: string;
  onSubmit: (q: string) => void;
  error?: { message: string; position?: number } | null;
  range: TimeRangeValue;
  placeholder?: string;
  testId?: string;
}

const marks = new Map<string, Decoration>();
function mark(kind: string): Decoration {
  let m = marks.get(kind);
  if (!m) marks.set(kind, (m = Decoration.mark({ class: `qt-${kind}` })));
  return m;
}

function highlight(view: EditorView): DecorationSet {
  const b = new RangeSetBuilder<Decoration>();
  for (const t of tokenizeQuery(view.state.doc.toString())) if (t.kind !== 'word') b.add(t.from, t.to, mark(t.kind));
  return b.finish();
}

const highlighter = ViewPlugin.fromClass(
  class {
    decorations: DecorationSet;
    constructor(view: EditorView) {
      this.decorations = highlight(view);
    }
    update(u: ViewUpdate) {
      if (u.docChanged) this.decorations = highlight(u.view);
    }
  },
  { decorations: (v) => v.decorations },
);

/** The syntax error's mark: set from props, cleared as soon as the user edits. */
const setError = StateEffect.define<number | null>();
const errorMark = Decoration.mark({ class: 'qt-error' });
const errorWidgetMark = Decoration.mark({ class: 'qt-error qt-error-end' });
const errorField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) {
      if (e.is(setError)) {
        const len = tr.state.doc.length;
        if (e.value === null || len === 0) return Decoration.none;
        // At the end of the query, mark the last character (there is nothing after it to mark).
        const at = Math.max(0, Math.min(e.value, len - 1));
        return Decoration.set([(e.value >= len ? errorWidgetMark : errorMark).range(at, at + 1)]);
      }
    }
    return tr.docChanged ? Decoration.none : deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** Field names per time range, fetched once per range while the bar lives. */
interface Caches {
  fields: Map<string, Promise<FieldInfo[]>>;
  values: Map<string, Promise<FieldValues>>;
}

function rangeKey(r: TimeRangeValue): string {
  return `${r.from}|${r.to}`;
}

function valueLabel(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function valueInsert(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  const s = valueLabel(v);
  return /^[\p{L}\p{N}_.@-]+$/u.test(s) && !/^(AND|OR|NOT|TO)$/.test(s) ? s : quoteValue(s);
}

export function QueryBar(props: QueryBarProps): JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  // The editor is created once; these refs give its callbacks the current props.
  const submit = useRef(props.onSubmit);
  submit.current = props.onSubmit;
  const range = useRef(props.range);
  range.current = props.range;
  const caches = useRef<Caches>({ fields: new Map(), values: new Map() });
  /** Whether the user moved through the suggestions with the arrow keys since the last edit. */
  const picked = useRef(false);

  useEffect(() => {
    const fieldsFor = (r: TimeRangeValue): Promise<FieldInfo[]> => {
      const key = rangeKey(r);
      let p = caches.current.fields.get(key);
      if (!p) {
        p = getJson<{ fields: FieldInfo[] }>('/api/v1/fields', { from: r.from, to: r.to }).then((a) => a.fields);
        p.catch(() => caches.current.fields.delete(key));
        caches.current.fields.set(key, p);
      }
      return p;
    };
    const valuesFor = (r: TimeRangeValue, field: string): Promise<FieldValues> => {
      const key = `${rangeKey(r)}|${field}`;
      let p = caches.current.values.get(key);
      if (!p) {
        p = getJson<FieldValues>('/api/v1/fields', { from: r.from, to: r.to, field, size: 10 });
        p.catch(() => caches.current.values.delete(key));
        caches.current.values.set(key, p);
      }
      return p;
    };

    const source = async (ctx: import('@codemirror/autocomplete').CompletionContext): Promise<CompletionResult | null> => {
      const text = ctx.state.doc.toString();
      const at = completionAt(text, ctx.pos);
      if (!at) return null;
      if (at.kind === 'field' && at.prefix === '' && !ctx.explicit) return null;
      try {
        if (at.kind === 'field') {
          const fields = await fieldsFor(range.current);
          const options: Completion[] = fields.map((f) => ({
            label: f.name,
            apply: `${f.name.replace(/[^\p{L}\p{N}_.@-]/gu, (c) => '\\' + c)}:`,
            detail: f.conflicts.length > 1 ? f.conflicts.join('|') : f.type,
            type: 'property',
          }));
          return { from: at.from, options, validFor: /^[\p{L}\p{N}_.@]*$/u };
        }
        const answer = await valuesFor(range.current, at.field);
        const options: Completion[] = answer.values.map((v, i) => ({
          label: valueLabel(v.value),
          apply: at.quoted ? quoteValue(valueLabel(v.value)) : valueInsert(v.value),
          detail: `${v.count}`,
          type: 'constant',
          boost: -i,
        }));
        return { from: at.from, to: at.quoted && text[ctx.pos] === '"' ? ctx.pos + 1 : undefined, options, filter: true };
      } catch {
        return null; // suggestions are a help; a failed request must not break typing
      }
    };

    const state = EditorState.create({
      doc: props.value,
      extensions: [
        // One line: a newline typed or pasted becomes a space.
        EditorState.transactionFilter.of((tr) => {
          if (!tr.docChanged || tr.newDoc.lines <= 1) return tr;
          const text = tr.newDoc.toString().replace(/\r?\n/g, ' ');
          return [{ changes: { from: 0, to: tr.startState.doc.length, insert: text }, selection: { anchor: Math.min(tr.newSelection.main.head, text.length) } }];
        }),
        Prec.highest(
          keymap.of([
            {
              // Enter runs the query; it takes a suggestion only when the user picked one with the arrows.
              key: 'Enter',
              run: (v) => {
                if (completionStatus(v.state) === 'active') {
                  if (picked.current && acceptCompletion(v)) {
                    picked.current = false;
                    return true;
                  }
                  closeCompletion(v);
                }
                submit.current(v.state.doc.toString());
                return true;
              },
            },
            { key: 'Tab', run: acceptCompletion },
            { key: 'ArrowDown', run: (v) => ((picked.current = completionStatus(v.state) === 'active'), false) },
            { key: 'ArrowUp', run: (v) => ((picked.current = completionStatus(v.state) === 'active'), false) },
          ]),
        ),
        history(),
        keymap.of([...defaultKeymap, ...historyKeymap]),
        // No interaction delay: Enter never takes a suggestion unless the user moved to it with the arrows.
        autocompletion({ override: [source], activateOnTyping: true, icons: false, maxRenderedOptions: 50, interactionDelay: 0 }),
        // After a field's colon, offer its values right away.
        EditorView.updateListener.of((u) => {
          if (!u.docChanged) return;
          picked.current = false;
          const pos = u.state.selection.main.head;
          if (u.state.doc.sliceString(pos - 1, pos) === ':' && u.transactions.some((t) => t.isUserEvent('input') || t.isUserEvent('input.complete'))) {
            setTimeout(() => view.current && startCompletion(view.current), 0);
          }
        }),
        highlighter,
        errorField,
        cmPlaceholder(props.placeholder ?? 'Search… e.g. response:>=500 AND host:web-1  |  stats count() by host'),
        EditorView.contentAttributes.of({ 'aria-label': 'Query', 'data-testid': `${props.testId ?? 'query'}-input` }),
      ],
    });
    const v = new EditorView({ state, parent: host.current! });
    view.current = v;
    return () => {
      v.destroy();
      view.current = null;
    };
  }, []);

  // A new value from outside (the URL changed): replace the text, keep the editor.
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.value) {
      v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.value }, selection: { anchor: props.value.length } });
    }
  }, [props.value]);

  useEffect(() => {
    const v = view.current;
    if (v) v.dispatch({ effects: setError.of(props.error && props.error.position !== undefined ? props.error.position : null) });
  }, [props.error, props.value]);

  const testId = props.testId ?? 'query';
  return (
    <div class="query-bar-box">
      <div class={`query-bar${props.error ? ' has-error' : ''}`} data-query-bar="" data-testid={testId} ref={host} />
      {props.error && (
        <div class="query-error" data-testid={`${testId}-error`} role="alert">
          {props.error.message}
        </div>
      )}
    </div>
  );
}
