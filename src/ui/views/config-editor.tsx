/**
 * CodeMirror for Logstash configs: a small stream tokenizer (sections, plugin names, strings,
 * comments, numbers, `=>`, conditionals) highlighted with classes (styled in pipelines.css with
 * the theme's variables), a read-only viewer, and an editor whose problems are marked at their
 * line and column (a lint-like underline plus a line background), set from outside.
 */
import type { JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { EditorState, RangeSetBuilder, StateEffect, StateField, type Extension } from '@codemirror/state';
import { Decoration, EditorView, keymap, lineNumbers, placeholder as cmPlaceholder, type DecorationSet } from '@codemirror/view';
import { StreamLanguage, bracketMatching, indentOnInput, indentUnit, syntaxHighlighting, type StringStream } from '@codemirror/language';
import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { tagHighlighter, tags } from '@lezer/highlight';

interface LsState {
  /** Braces open, so the first word at depth 0 is a section and at depth 1 a plugin. */
  depth: number;
}

const SECTIONS = new Set(['input', 'filter', 'output']);
const KEYWORDS = new Set(['if', 'else', 'and', 'or', 'xor', 'nand', 'in', 'not']);

const logstash = StreamLanguage.define<LsState>({
  name: 'logstash',
  startState: () => ({ depth: 0 }),
  copyState: (s) => ({ depth: s.depth }),
  token(stream: StringStream, state: LsState): string | null {
    if (stream.eatSpace()) return null;
    if (stream.match('#')) {
      stream.skipToEnd();
      return 'comment';
    }
    const ch = stream.peek();
    if (ch === '"' || ch === "'") {
      stream.next();
      let escaped = false;
      let c: string | void;
      while ((c = stream.next()) !== undefined) {
        if (c === ch && !escaped) break;
        escaped = !escaped && c === '\\';
      }
      return 'string';
    }
    if (ch === '/' && stream.match(/^\/(?:[^/\\\n]|\\.)+\//)) return 'regexp';
    if (stream.match('=>') || stream.match(/^(==|!=|=~|!~|<=|>=|<|>)/)) return 'operator';
    if (ch === '{') {
      stream.next();
      state.depth++;
      return 'brace';
    }
    if (ch === '}') {
      stream.next();
      state.depth = Math.max(0, state.depth - 1);
      return 'brace';
    }
    if (ch === '[' || ch === ']' || ch === ',' || ch === '(' || ch === ')') {
      stream.next();
      return 'punctuation';
    }
    if (stream.match(/^-?\d+(\.\d+)?/)) return 'number';
    if (stream.match(/^[A-Za-z_][\w-]*/)) {
      const word = stream.current();
      if (state.depth === 0 && SECTIONS.has(word)) return 'keyword';
      if (KEYWORDS.has(word)) return 'keyword';
      if (word === 'true' || word === 'false') return 'bool';
      // A word followed by "{" names a plugin; followed by "=>" it is a setting.
      if (stream.match(/^\s*\{/, false)) return 'typeName';
      if (stream.match(/^\s*=>/, false)) return 'propertyName';
      return 'variableName';
    }
    stream.next();
    return null;
  },
  languageData: { commentTokens: { line: '#' } },
});

const highlighter = tagHighlighter([
  { tag: tags.comment, class: 'ls-comment' },
  { tag: tags.string, class: 'ls-string' },
  { tag: tags.regexp, class: 'ls-string' },
  { tag: tags.number, class: 'ls-number' },
  { tag: tags.bool, class: 'ls-number' },
  { tag: tags.keyword, class: 'ls-keyword' },
  { tag: tags.typeName, class: 'ls-plugin' },
  { tag: tags.propertyName, class: 'ls-setting' },
  { tag: tags.operator, class: 'ls-operator' },
  { tag: tags.brace, class: 'ls-brace' },
]);

function baseExtensions(): Extension[] {
  return [lineNumbers(), logstash, syntaxHighlighting(highlighter), bracketMatching(), indentUnit.of('  '), EditorView.lineWrapping];
}

// ---- problems marked at line:column ----

export interface ConfigProblem {
  message: string;
  /** 1-based, as the validate API answers. */
  line: number;
  column: number;
}

const setProblems = StateEffect.define<ConfigProblem[]>();
const problemLine = Decoration.line({ class: 'cfg-error-line' });

/** The offset of a problem in the document, clamped to it (the text may have changed since). */
export function problemOffset(doc: EditorState['doc'], p: ConfigProblem): { from: number; to: number; lineFrom: number } {
  const line = doc.line(Math.min(Math.max(1, p.line), doc.lines));
  const from = Math.min(line.from + Math.max(0, p.column - 1), line.to);
  // Underline the word at the position, or one character, or (at the end of a line) the last one.
  const rest = doc.sliceString(from, line.to);
  const word = /^[\w-]+|^\S/.exec(rest);
  if (word) return { from, to: from + word[0].length, lineFrom: line.from };
  if (from > line.from) return { from: from - 1, to: from, lineFrom: line.from };
  return { from, to: from, lineFrom: line.from };
}

const problemsField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    for (const e of tr.effects) {
      if (!e.is(setProblems)) continue;
      const b = new RangeSetBuilder<Decoration>();
      const ranges = e.value
        .map((p) => ({ p, ...problemOffset(tr.state.doc, p) }))
        .sort((a, c) => a.lineFrom - c.lineFrom || a.from - c.from);
      let lastLine = -1;
      for (const r of ranges) {
        // RangeSetBuilder needs ranges in order: the line decoration (at the line's start) first.
        if (r.lineFrom !== lastLine) b.add(r.lineFrom, r.lineFrom, problemLine);
        lastLine = r.lineFrom;
        if (r.to > r.from) b.add(r.from, r.to, Decoration.mark({ class: 'cfg-error-mark', attributes: { title: r.p.message } }));
      }
      return b.finish();
    }
    return deco.map(tr.changes);
  },
  provide: (f) => EditorView.decorations.from(f),
});

/** A read-only view of a config. */
export function ConfigView(props: { text: string; testId?: string }): JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  useEffect(() => {
    if (!host.current) return;
    view.current = new EditorView({
      parent: host.current,
      state: EditorState.create({ doc: props.text, extensions: [...baseExtensions(), EditorState.readOnly.of(true), EditorView.editable.of(false)] }),
    });
    return () => view.current?.destroy();
  }, []);
  useEffect(() => {
    const v = view.current;
    if (v && v.state.doc.toString() !== props.text) v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: props.text } });
  }, [props.text]);
  return <div class="cfg-editor cfg-readonly" ref={host} data-testid={props.testId} />;
}

export interface ConfigEditorHandle {
  /** Moves the cursor to a problem and focuses the editor. */
  reveal(p: ConfigProblem): void;
}

/** The editable config: `onChange` on every edit; `problems` marked where they are. */
export function ConfigEditor(props: {
  initial: string;
  onChange: (text: string) => void;
  problems: ConfigProblem[];
  testId?: string;
  handle?: { current: ConfigEditorHandle | null };
}): JSX.Element {
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);
  const onChange = useRef(props.onChange);
  onChange.current = props.onChange;

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: props.initial,
        extensions: [
          ...baseExtensions(),
          history(),
          indentOnInput(),
          keymap.of([...defaultKeymap, ...historyKeymap, indentWithTab]),
          cmPlaceholder('input { … } filter { … } output { … }'),
          problemsField,
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChange.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    view.current = v;
    if (props.handle) {
      props.handle.current = {
        reveal(p) {
          const { from } = problemOffset(v.state.doc, p);
          v.dispatch({ selection: { anchor: from }, scrollIntoView: true });
          v.focus();
        },
      };
    }
    return () => v.destroy();
  }, []);

  useEffect(() => {
    view.current?.dispatch({ effects: setProblems.of(props.problems) });
  }, [props.problems]);

  return <div class="cfg-editor" ref={host} data-testid={props.testId} />;
}
