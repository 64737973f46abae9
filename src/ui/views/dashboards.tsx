/**
 * /app/dashboards: the saved dashboards, with create, rename, delete (confirmed in the page),
 * export as a JSON file and import of such files. Dashboards are saved objects of type
 * "dashboard" on the server (/api/v1/saved-objects), so they survive a restart.
 */
import type { JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { getJson, sendJson, type SavedObject } from '../api.js';
import { formatNumber, formatTime, useZone } from '../format.js';
import { navigate, type Route } from '../router.js';
import { PromptDialog } from '../components/panel-dialog.js';
import { DeleteDialog, RenameDialog, savedObjectsError, useSavedObjects } from '../components/saved-object-list.js';
import { emptyDashboard, exportDashboard, parseAttributes, parseExport, type DashboardAttributes } from '../components/panel-model.js';
import './dashboards.css';

type Dashboard = SavedObject<Record<string, unknown>>;

export function dashboardHref(id: string): string {
  return `/app/dashboards/${encodeURIComponent(id)}`;
}

/** The message for a failed saved-objects request; a 404 of the list means the server has no such API yet. */
/** A file name from a title: letters, digits and dashes only. */
function fileName(title: string): string {
  const base = title.normalize('NFKD').replace(/[^\p{L}\p{N}]+/gu, '-').replace(/^-+|-+$/g, '').slice(0, 60).toLowerCase();
  return `${base || 'dashboard'}.dashboard.json`;
}

/** Saves a text as a downloaded file through a Blob URL (no server round trip, nothing in the URL bar). */
export function download(name: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  // The browser has started the download once click() returns; free the blob a little later.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function panelCount(d: Dashboard): number {
  const p = d.attributes.panels;
  return Array.isArray(p) ? p.length : 0;
}

function uniqueTitle(title: string, taken: Set<string>): string {
  if (!taken.has(title)) return title;
  for (let i = 1; ; i++) {
    const t = i === 1 ? `${title} (imported)` : `${title} (imported ${i})`;
    if (!taken.has(t)) return t;
  }
}

export function DashboardsPage(_props: { route: Route }): JSX.Element {
  const [zone] = useZone();
  const { list, error, refresh } = useSavedObjects<Dashboard['attributes']>('dashboard', 'dashboards');
  const [notice, setNotice] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [filter, setFilter] = useState('');
  const [dialog, setDialog] = useState<JSX.Element | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const close = () => setDialog(null);

  const create = () =>
    setDialog(
      <PromptDialog
        title="New dashboard"
        label="Title"
        initial=""
        submitLabel="Create"
        onClose={close}
        onSubmit={async (title) => {
          const attributes: DashboardAttributes = emptyDashboard();
          const o = await sendJson<Dashboard>('POST', '/api/v1/saved-objects', { type: 'dashboard', title, attributes });
          navigate(dashboardHref(o.id));
        }}
      />,
    );

  const rename = (d: Dashboard) => setDialog(<RenameDialog object={d} noun="dashboard" onClose={close} onDone={refresh} />);

  const remove = (d: Dashboard) =>
    setDialog(
      <DeleteDialog
        object={d}
        noun="dashboard"
        message={
          <>
            Delete the dashboard <strong>{d.title}</strong> and its {formatNumber(panelCount(d))} panels? This cannot be undone.
          </>
        }
        onClose={close}
        onDone={() => {
          setNotice({ kind: 'ok', text: `Deleted "${d.title}".` });
          refresh();
        }}
      />,
    );

  const exportOne = async (d: Dashboard) => {
    try {
      const full = await getJson<Dashboard>(`/api/v1/saved-objects/${encodeURIComponent(d.id)}`);
      const text = JSON.stringify(exportDashboard(full.title, parseAttributes(full.attributes)), null, 2);
      download(fileName(full.title), text);
      setNotice({ kind: 'ok', text: `Exported "${full.title}" as ${fileName(full.title)}.` });
    } catch (e) {
      setNotice({ kind: 'error', text: `Export of "${d.title}" failed: ${savedObjectsError(e)}` });
    }
  };

  const importFiles = async (files: FileList) => {
    const taken = new Set((list ?? []).map((d) => d.title));
    const done: string[] = [];
    const failed: string[] = [];
    for (const file of Array.from(files)) {
      try {
        const { title, attributes } = parseExport(await file.text());
        const t = uniqueTitle(title, taken);
        await sendJson('POST', '/api/v1/saved-objects', { type: 'dashboard', title: t, attributes });
        taken.add(t);
        done.push(t);
      } catch (e) {
        failed.push(`${file.name}: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    if (fileInput.current) fileInput.current.value = '';
    const parts: string[] = [];
    if (done.length) parts.push(`Imported ${done.map((t) => `"${t}"`).join(', ')}.`);
    if (failed.length) parts.push(`Not imported: ${failed.join('; ')}`);
    setNotice({ kind: failed.length ? 'error' : 'ok', text: parts.join(' ') });
    refresh();
  };

  const needle = filter.trim().toLowerCase();
  const shown = (list ?? []).filter((d) => !needle || d.title.toLowerCase().includes(needle));

  return (
    <section class="saved-page" data-testid="dashboards-page">
      <header class="saved-header">
        <h2>Dashboards</h2>
        <input
          type="search"
          class="saved-filter"
          placeholder="Filter by title"
          aria-label="Filter dashboards by title"
          value={filter}
          onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)}
        />
        <div class="saved-actions">
          <button type="button" data-testid="import-dashboard" onClick={() => fileInput.current?.click()}>
            Import…
          </button>
          <input
            ref={fileInput}
            type="file"
            accept=".json,application/json"
            multiple
            hidden
            data-testid="import-file"
            onChange={(e) => {
              const files = (e.currentTarget as HTMLInputElement).files;
              if (files && files.length > 0) void importFiles(files);
            }}
          />
          <button type="button" class="primary" data-testid="new-dashboard" onClick={create}>
            New dashboard
          </button>
        </div>
      </header>
      {notice && (
        <div class={`saved-notice ${notice.kind}`} data-testid="dashboards-notice" role={notice.kind === 'error' ? 'alert' : 'status'}>
          {notice.text}
          <button type="button" class="link" aria-label="Dismiss" onClick={() => setNotice(null)}>
            ×
          </button>
        </div>
      )}
      {error ? (
        <div class="banner-error" role="alert" data-testid="dashboards-error">
          {error}
        </div>
      ) : list === null ? (
        <div class="saved-empty">Loading…</div>
      ) : list.length === 0 ? (
        <div class="saved-empty" data-testid="dashboards-empty">
          <p>No dashboards yet.</p>
          <p>
            Create one with <strong>New dashboard</strong>, then add panels: counts over time, top values, metrics and tables, each with its own query. Or import a dashboard
            exported as JSON.
          </p>
        </div>
      ) : (
        <table class="saved-table" data-testid="dashboard-list">
          <thead>
            <tr>
              <th>Title</th>
              <th class="num">Panels</th>
              <th>Range</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((d) => (
              <tr key={d.id} data-testid="dashboard-row" data-id={d.id}>
                <td class="saved-title">
                  <a href={dashboardHref(d.id)} data-testid="dashboard-link">
                    {d.title}
                  </a>
                </td>
                <td class="num" data-testid="dashboard-panel-count">{formatNumber(panelCount(d))}</td>
                <td class="muted mono">
                  {String(d.attributes.from ?? '')} → {String(d.attributes.to ?? '')}
                </td>
                <td class="muted">{formatTime(d.updatedAt, zone)}</td>
                <td class="saved-row-actions">
                  <button type="button" data-testid="rename-dashboard" onClick={() => rename(d)}>
                    Rename
                  </button>
                  <button type="button" data-testid="export-dashboard" onClick={() => void exportOne(d)}>
                    Export
                  </button>
                  <button type="button" class="danger" data-testid="delete-dashboard" onClick={() => remove(d)}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
            {shown.length === 0 && (
              <tr>
                <td colSpan={5} class="saved-empty">
                  No dashboard title contains “{filter}”.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      )}
      {dialog}
    </section>
  );
}
