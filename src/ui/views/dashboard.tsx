/**
 * /app/dashboards/:id — one dashboard: a time range and refresh for all its panels (kept in the
 * URL as from/to/refresh, so a link shows the same view), panels on the 12-column grid that are
 * moved by their title bar and resized by their corner, a form to add and edit panels, and Save
 * (PUT of the saved object) for the layout, panels and range. What differs from the saved
 * version is marked as unsaved.
 */
import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, getJson, sendJson, type SavedObject } from '../api.js';
import { useZone } from '../format.js';
import { href, navigate, type Route } from '../router.js';
import { Grid } from '../components/grid.js';
import { PanelBody } from '../components/panel.js';
import { PanelEditor } from '../components/panel-editor.js';
import { ConfirmDialog, PromptDialog } from '../components/panel-dialog.js';
import { DEFAULT_BOX, findSpace, newPanelId, parseAttributes, type DashboardAttributes, type GridBox, type PanelSpec } from '../components/panel-model.js';
import { TimePicker, type TimeRangeValue } from '../components/time-picker.js';
import { savedObjectsError } from '../components/saved-object-list.js';
import './dashboard.css';

interface Saved {
  title: string;
  attributes: DashboardAttributes;
}

/** The dashboard's id from `/app/dashboards/:id`. */
function idOf(path: string): string {
  const m = /^\/app\/dashboards\/([^/]+)/.exec(path);
  return m ? decodeURIComponent(m[1]) : '';
}

/** The dashboard as text in one canonical form (key order, defaults), to tell whether it changed. */
function canonical(s: Saved): string {
  return JSON.stringify({ title: s.title, attributes: parseAttributes(JSON.parse(JSON.stringify(s.attributes))) });
}

type Editing = { panel: PanelSpec; isNew: boolean } | null;

export function DashboardPage(props: { route: Route }): JSX.Element {
  const { route } = props;
  const id = idOf(route.path);
  const [zone] = useZone();
  const [saved, setSaved] = useState<Saved | null>(null);
  const [title, setTitle] = useState('');
  const [panels, setPanels] = useState<PanelSpec[]>([]);
  const [loadError, setLoadError] = useState<{ message: string; missing: boolean } | null>(null);
  const [saveState, setSaveState] = useState<{ busy: boolean; error: string | null; savedAt: number | null }>({ busy: false, error: null, savedAt: null });
  const [editing, setEditing] = useState<Editing>(null);
  const [dialog, setDialog] = useState<JSX.Element | null>(null);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    const ctl = new AbortController();
    setSaved(null);
    setLoadError(null);
    getJson<SavedObject>(`/api/v1/saved-objects/${encodeURIComponent(id)}`, {}, ctl.signal).then(
      (o) => {
        let attributes: DashboardAttributes;
        try {
          attributes = parseAttributes(o.attributes);
        } catch (e) {
          setLoadError({ message: `The saved dashboard cannot be read: ${(e as Error).message}.`, missing: false });
          return;
        }
        if (o.type !== 'dashboard') {
          setLoadError({ message: `The saved object ${id} is a ${o.type}, not a dashboard.`, missing: true });
          return;
        }
        setSaved({ title: o.title, attributes });
        setTitle(o.title);
        setPanels(attributes.panels);
        // The saved range goes into the URL unless the link already carries one.
        if (!route.params.get('from') && !route.params.get('to')) {
          navigate(href(route.path, { from: attributes.from, to: attributes.to, refresh: attributes.refresh > 0 ? String(attributes.refresh) : null }), { replace: true });
        }
      },
      (e: unknown) => {
        if (ctl.signal.aborted) return;
        const missing = e instanceof ApiError && e.status === 404 && e.type === 'not_found';
        setLoadError({ message: missing ? `There is no dashboard with the id ${id}.` : savedObjectsError(e), missing });
      },
    );
    return () => ctl.abort();
  }, [id]);

  const range: TimeRangeValue = {
    from: route.params.get('from') || saved?.attributes.from || 'now-24h',
    to: route.params.get('to') || saved?.attributes.to || 'now',
  };
  const refreshParam = Number(route.params.get('refresh') ?? saved?.attributes.refresh ?? 0);
  const refresh = Number.isFinite(refreshParam) && refreshParam > 0 ? Math.floor(refreshParam) : 0;

  // One clock for the whole dashboard: every panel asks again at each tick.
  useEffect(() => {
    if (refresh <= 0) return;
    const t = setInterval(() => setTick((n) => n + 1), refresh * 1000);
    return () => clearInterval(t);
  }, [refresh]);

  const current: Saved = { title, attributes: { from: range.from, to: range.to, refresh, panels } };
  const savedText = useMemo(() => (saved ? canonical(saved) : ''), [saved]);
  const dirty = saved !== null && canonical(current) !== savedText;

  const setUrl = (r: TimeRangeValue, seconds: number) =>
    navigate(href(route.path, { from: r.from, to: r.to, refresh: seconds > 0 ? String(seconds) : null }), { replace: true });

  const save = async () => {
    if (!saved || saveState.busy) return;
    setSaveState({ busy: true, error: null, savedAt: null });
    try {
      const o = await sendJson<SavedObject>('PUT', `/api/v1/saved-objects/${encodeURIComponent(id)}`, { title: current.title, attributes: current.attributes });
      setSaved({ title: o.title, attributes: parseAttributes(o.attributes) });
      setSaveState({ busy: false, error: null, savedAt: Date.now() });
    } catch (e) {
      setSaveState({ busy: false, error: `Not saved: ${savedObjectsError(e)}`, savedAt: null });
    }
  };
  const saveRef = useRef(save);
  saveRef.current = save;

  // Ctrl+S / Cmd+S saves, as in an editor.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 's') {
        e.preventDefault();
        void saveRef.current();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const onLayout = (boxes: Record<string, GridBox>) => setPanels((ps) => ps.map((p) => (boxes[p.id] ? { ...p, layout: boxes[p.id] } : p)));

  const addPanel = () =>
    setEditing({ panel: { id: newPanelId(), type: 'histogram', title: '', q: '', layout: { x: 0, y: 0, ...DEFAULT_BOX.histogram } }, isNew: true });

  const onSavePanel = (p: PanelSpec, isNew: boolean) => {
    setPanels((ps) => {
      if (isNew) {
        const size = DEFAULT_BOX[p.type];
        return [...ps, { ...p, layout: findSpace(ps.map((x) => x.layout), size.w, size.h) }];
      }
      return ps.map((x) => (x.id === p.id ? p : x));
    });
    setEditing(null);
  };

  const removePanel = (p: PanelSpec) =>
    setDialog(
      <ConfirmDialog
        title="Remove panel"
        message={<>Remove the panel “{p.title}” from this dashboard? It is gone for good once you save.</>}
        confirmLabel="Remove"
        danger
        onClose={() => setDialog(null)}
        onConfirm={() => setPanels((ps) => ps.filter((x) => x.id !== p.id))}
      />,
    );

  const rename = () =>
    setDialog(<PromptDialog title="Rename dashboard" label="Title" initial={title} submitLabel="Rename" onClose={() => setDialog(null)} onSubmit={(t) => setTitle(t)} />);

  const revert = () => {
    if (!saved) return;
    setTitle(saved.title);
    setPanels(saved.attributes.panels);
    setUrl({ from: saved.attributes.from, to: saved.attributes.to }, saved.attributes.refresh);
  };

  const items = useMemo(
    () =>
      panels.map((p) => ({
        id: p.id,
        box: p.layout,
        title: p.title || '(untitled)',
        actions: (
          <>
            <a
              class="panel-action"
              href={href('/app/discover', { q: p.q, from: range.from, to: range.to })}
              title="Open this panel's query in Discover"
              aria-label="Open in Discover"
              data-testid="panel-discover"
            >
              ↗
            </a>
            <button type="button" class="panel-action" title="Edit panel" aria-label="Edit panel" data-testid="panel-edit" onClick={() => setEditing({ panel: p, isNew: false })}>
              ✎
            </button>
            <button type="button" class="panel-action" title="Remove panel" aria-label="Remove panel" data-testid="panel-remove" onClick={() => removePanel(p)}>
              ×
            </button>
          </>
        ),
        body: (
          <PanelBody
            panel={p}
            range={range}
            zone={zone}
            tick={tick}
            onSelectRange={(a, b) => setUrl({ from: new Date(a).toISOString(), to: new Date(b).toISOString() }, refresh)}
          />
        ),
      })),
    [panels, range.from, range.to, zone, tick, refresh],
  );

  if (loadError) {
    return (
      <section class="dashboard-page" data-testid="dashboard-page">
        <div class="banner-error" role="alert" data-testid="dashboard-error">
          {loadError.message} <a href="/app/dashboards">Back to the dashboards</a>
        </div>
      </section>
    );
  }
  if (!saved) {
    return (
      <section class="dashboard-page" data-testid="dashboard-page">
        <div class="dashboard-loading">Loading the dashboard…</div>
      </section>
    );
  }

  return (
    <section class="dashboard-page" data-testid="dashboard-page">
      <header class="dashboard-header">
        <a href="/app/dashboards" class="dashboard-back" title="All dashboards">
          Dashboards
        </a>
        <span class="dashboard-sep">/</span>
        <h2 data-testid="dashboard-title">
          <button type="button" class="link dashboard-title" title="Rename" onClick={rename}>
            {title}
          </button>
        </h2>
        {dirty && (
          <span class="dashboard-unsaved" data-testid="unsaved" title="Changes not saved yet">
            ● Unsaved changes
          </span>
        )}
        {!dirty && saveState.savedAt !== null && (
          <span class="dashboard-saved" data-testid="saved">
            Saved
          </span>
        )}
        {saveState.error && (
          <span class="dashboard-save-error" role="alert" data-testid="save-error">
            {saveState.error}
          </span>
        )}
        <div class="dashboard-tools">
          <TimePicker value={range} onChange={(r) => setUrl(r, refresh)} refreshSeconds={refresh} onRefreshChange={(s) => setUrl(range, s)} />
          <button type="button" title="Ask every panel again" aria-label="Refresh now" data-testid="dashboard-refresh" onClick={() => setTick((n) => n + 1)}>
            ↻
          </button>
          <button type="button" data-testid="add-panel" onClick={addPanel}>
            Add panel
          </button>
          {dirty && (
            <button type="button" data-testid="revert" onClick={revert} title="Back to the saved version">
              Revert
            </button>
          )}
          <button type="button" class="primary" data-testid="save-dashboard" disabled={!dirty || saveState.busy} onClick={() => void save()} title="Save (Ctrl+S)">
            {saveState.busy ? 'Saving…' : 'Save'}
          </button>
        </div>
      </header>
      {panels.length === 0 ? (
        <div class="dashboard-empty" data-testid="dashboard-empty">
          <p>This dashboard has no panels yet.</p>
          <p>
            <button type="button" class="primary" onClick={addPanel}>
              Add a panel
            </button>
          </p>
          <p class="muted">A panel shows its own query over the dashboard's time range: events over time (split by a field), top values as bars or a pie, a single metric, or a table.</p>
        </div>
      ) : (
        <div class="dashboard-grid">
          <Grid items={items} onLayout={onLayout} />
        </div>
      )}
      {editing && (
        <PanelEditor panel={editing.panel} isNew={editing.isNew} range={range} onClose={() => setEditing(null)} onSave={(p) => onSavePanel(p, editing.isNew)} />
      )}
      {dialog}
    </section>
  );
}

