/**
 * The shell: the top bar (views, time-zone switch), the token prompt, and the view for the
 * URL's path. The theme follows the system (styles.css). Links are plain `<a href>` that the
 * shell turns into history navigation, so opening one in a new tab works too.
 */
import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, onUnauthorized, setToken } from './api.js';
import { useZone, zoneLabel } from './format.js';
import { navigate, useRoute, type Route } from './router.js';
import { DiscoverPage } from './views/discover.js';
import { ContextPage } from './views/context.js';
import { TailPage } from './views/tail.js';
import { InputsPage } from './views/inputs.js';
import { PipelinesPage } from './views/pipelines.js';
import { DashboardsPage } from './views/dashboards.js';
import { DashboardPage } from './views/dashboard.js';
import { SavedSearchesPage } from './views/saved-searches.js';

type Page = (props: { route: Route }) => JSX.Element;

const NAV: { path: string; label: string }[] = [
  { path: '/app/discover', label: 'Discover' },
  { path: '/app/tail', label: 'Live tail' },
  { path: '/app/dashboards', label: 'Dashboards' },
  { path: '/app/searches', label: 'Saved searches' },
  { path: '/app/inputs', label: 'Inputs' },
  { path: '/app/pipelines', label: 'Pipelines' },
];

function pageFor(path: string): Page {
  if (path === '/' || path === '/app' || path === '/app/' || path.startsWith('/app/discover')) return DiscoverPage;
  if (path.startsWith('/app/context')) return ContextPage;
  if (path.startsWith('/app/tail')) return TailPage;
  if (/^\/app\/dashboards\/[^/]+/.test(path)) return DashboardPage;
  if (path.startsWith('/app/dashboards')) return DashboardsPage;
  if (path.startsWith('/app/searches')) return SavedSearchesPage;
  if (path.startsWith('/app/inputs')) return InputsPage;
  if (path.startsWith('/app/pipelines')) return PipelinesPage;
  return () => <div class="placeholder">No page at {path}. <a href="/app/discover">Go to Discover</a></div>;
}

/** Same-origin `<a href>` clicks become history navigation (modifier keys keep the browser's meaning). */
function useLinkNavigation(): void {
  useEffect(() => {
    const onClick = (e: MouseEvent) => {
      if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
      const a = (e.target as Element | null)?.closest?.('a');
      if (!a || a.target || a.hasAttribute('download')) return;
      const url = new URL(a.href, location.href);
      if (url.origin !== location.origin || !(url.pathname === '/' || url.pathname.startsWith('/app'))) return;
      e.preventDefault();
      navigate(url.pathname + url.search);
    };
    document.addEventListener('click', onClick);
    return () => document.removeEventListener('click', onClick);
  }, []);
}

/** `/` focuses the page's (first) query bar, unless the user is typing somewhere. */
function useSlashFocus(): void {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const t = e.target as HTMLElement | null;
      if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) return;
      const bar = document.querySelector<HTMLElement>('[data-query-bar] .cm-content');
      if (!bar) return;
      e.preventDefault();
      bar.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);
}

type Auth = { state: 'checking' } | { state: 'ok' } | { state: 'ask'; error: string | null } | { state: 'down'; message: string };

function TokenPrompt(props: { error: string | null; onSubmit: (token: string) => void }): JSX.Element {
  const [value, setValue] = useState('');
  return (
    <div class="modal-backdrop">
      <form
        class="modal"
        data-testid="token-prompt"
        onSubmit={(e) => {
          e.preventDefault();
          if (value.trim()) props.onSubmit(value.trim());
        }}
      >
        <h2>API token</h2>
        <p>This Logmill server requires a token. It is kept for this browser session only.</p>
        <input
          type="password"
          autoFocus
          autoComplete="current-password"
          data-testid="token-input"
          aria-label="API token"
          value={value}
          onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)}
        />
        {props.error && (
          <div class="error" data-testid="token-error" role="alert">
            {props.error}
          </div>
        )}
        <div class="modal-actions">
          <button type="submit" class="primary" data-testid="token-submit" disabled={!value.trim()}>
            Continue
          </button>
        </div>
      </form>
    </div>
  );
}

export function App(): JSX.Element {
  const route = useRoute();
  const [zone, setZone] = useZone();
  const [auth, setAuth] = useState<Auth>({ state: 'checking' });
  // Bumped after a token is accepted, so the page remounts and reloads what failed with 401.
  const [generation, setGeneration] = useState(0);
  useLinkNavigation();
  useSlashFocus();

  const check = async (afterToken: boolean) => {
    try {
      await getJson('/api/v1/health');
      setAuth({ state: 'ok' });
      if (afterToken) setGeneration((g) => g + 1);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        if (afterToken) setToken(null);
        setAuth({ state: 'ask', error: afterToken ? 'The server refused this token. Check it and try again.' : null });
      } else {
        setAuth({ state: 'down', message: e instanceof Error ? e.message : String(e) });
      }
    }
  };

  useEffect(() => {
    void check(false);
    // Any 401 later (a token revoked, a server restarted with another one) asks again.
    return onUnauthorized(() => setAuth((a) => (a.state === 'ask' ? a : { state: 'ask', error: null })));
  }, []);

  const Page = pageFor(route.path);
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="/app/discover">
          <span class="brand-mark" aria-hidden="true">▤</span>Logmill
        </a>
        <nav class="nav" data-testid="nav">
          {NAV.map((n) => (
            <a href={n.path} class={route.path.startsWith(n.path) || (n.path === '/app/discover' && pageFor(route.path) === DiscoverPage) ? 'active' : ''}>
              {n.label}
            </a>
          ))}
        </nav>
        <div class="topbar-right">
          <span data-testid="zone-label" title="Times are shown in this zone">
            {zoneLabel(zone)}
          </span>
          <div class="zone-switch" role="group" aria-label="Time zone">
            <button type="button" class={zone === 'local' ? 'on' : ''} data-testid="zone-local" onClick={() => setZone('local')}>
              Local
            </button>
            <button type="button" class={zone === 'utc' ? 'on' : ''} data-testid="zone-utc" onClick={() => setZone('utc')}>
              UTC
            </button>
          </div>
        </div>
      </header>
      <div class="page">
        {auth.state === 'ok' && <Page key={generation} route={route} />}
        {auth.state === 'down' && (
          <div class="banner-error" data-testid="server-down">
            Cannot reach the Logmill server: {auth.message}
            <button type="button" style={{ marginLeft: '12px' }} onClick={() => void check(false)}>
              Retry
            </button>
          </div>
        )}
      </div>
      {auth.state === 'ask' && (
        <TokenPrompt
          error={auth.error}
          onSubmit={(token) => {
            setToken(token);
            void check(true);
          }}
        />
      )}
    </div>
  );
}
