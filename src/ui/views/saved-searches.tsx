/**
 * /app/searches: the saved searches (saved objects of type "search", written by Discover's
 * "Save search" with attributes {q, from, to, cols, sort}), each opened in Discover with its
 * state in the URL, renamed or deleted (confirmed in the page).
 */
import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { SavedObject } from '../api.js';
import { formatTime, useZone } from '../format.js';
import { href, type Route } from '../router.js';
import { DeleteDialog, RenameDialog, useSavedObjects } from '../components/saved-object-list.js';
import './dashboards.css';
import './saved-searches.css';

type SavedSearch = SavedObject<Record<string, unknown>>;

/** An attribute as a URL parameter: text as is, a list of columns joined by commas. */
function param(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (Array.isArray(v)) return v.filter((x): x is string => typeof x === 'string').join(',');
  return null;
}

/**
 * The Discover link of a saved search. Only Discover's own parameters are taken, into the
 * query string of a fixed path, so a saved object cannot point the link anywhere else.
 */
export function discoverHref(attributes: Record<string, unknown>): string {
  return href('/app/discover', {
    q: param(attributes.q),
    from: param(attributes.from),
    to: param(attributes.to),
    cols: param(attributes.cols),
    sort: param(attributes.sort),
  });
}

export function SavedSearchesPage(_props: { route: Route }): JSX.Element {
  const [zone] = useZone();
  const { list, error, refresh } = useSavedObjects<Record<string, unknown>>('search', 'saved searches');
  const [filter, setFilter] = useState('');
  const [dialog, setDialog] = useState<JSX.Element | null>(null);
  const close = () => setDialog(null);

  const rename = (s: SavedSearch) => setDialog(<RenameDialog object={s} noun="saved search" onClose={close} onDone={refresh} />);
  const remove = (s: SavedSearch) =>
    setDialog(
      <DeleteDialog
        object={s}
        noun="saved search"
        message={
          <>
            Delete the saved search <strong>{s.title}</strong>? This cannot be undone.
          </>
        }
        onClose={close}
        onDone={refresh}
      />,
    );

  const needle = filter.trim().toLowerCase();
  const shown = (list ?? []).filter((s) => !needle || s.title.toLowerCase().includes(needle) || String(s.attributes.q ?? '').toLowerCase().includes(needle));

  return (
    <section class="saved-page" data-testid="searches-page">
      <header class="saved-header">
        <h2>Saved searches</h2>
        <input
          type="search"
          class="saved-filter"
          placeholder="Filter by title or query"
          aria-label="Filter saved searches"
          value={filter}
          onInput={(e) => setFilter((e.currentTarget as HTMLInputElement).value)}
        />
      </header>
      {error ? (
        <div class="banner-error" role="alert" data-testid="searches-error">
          {error}
        </div>
      ) : list === null ? (
        <div class="saved-empty">Loading…</div>
      ) : list.length === 0 ? (
        <div class="saved-empty" data-testid="searches-empty">
          <p>No saved searches yet.</p>
          <p>
            In <a href="/app/discover">Discover</a>, run a search and choose <strong>Save search</strong>: its query, time range, columns and order are kept here.
          </p>
        </div>
      ) : (
        <table class="saved-table" data-testid="search-list">
          <thead>
            <tr>
              <th>Title</th>
              <th>Query</th>
              <th>Range</th>
              <th>Updated</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {shown.map((s) => {
              const q = param(s.attributes.q) ?? '';
              const cols = param(s.attributes.cols);
              return (
                <tr key={s.id} data-testid="search-row" data-id={s.id}>
                  <td class="saved-title">
                    <a href={discoverHref(s.attributes)} data-testid="search-open" title="Open in Discover">
                      {s.title}
                    </a>
                  </td>
                  <td class="search-query">
                    <code>{q || '*'}</code>
                    {cols && <div class="search-cols">columns: {cols.split(',').join(', ')}</div>}
                  </td>
                  <td class="muted mono">
                    {param(s.attributes.from) ?? ''} → {param(s.attributes.to) ?? ''}
                  </td>
                  <td class="muted">{formatTime(s.updatedAt, zone)}</td>
                  <td class="saved-row-actions">
                    <button type="button" data-testid="rename-search" onClick={() => rename(s)}>
                      Rename
                    </button>
                    <button type="button" class="danger" data-testid="delete-search" onClick={() => remove(s)}>
                      Delete
                    </button>
                  </td>
                </tr>
              );
            })}
            {shown.length === 0 && (
              <tr>
                <td colSpan={5} class="saved-empty">
                  No saved search matches “{filter}”.
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
