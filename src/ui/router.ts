/**
 * Routing on the URL's path and query string, so that every view's state can be shared as a
 * link and the browser's back button works. Views read their state from `useRoute().params`
 * and change it with `navigate` (push) or `navigate(…, { replace: true })` for small steps.
 */
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The path, e.g. `/app/discover`. */
  path: string;
  params: URLSearchParams;
}

function current(): Route {
  return { path: location.pathname, params: new URLSearchParams(location.search) };
}

const listeners = new Set<() => void>();
window.addEventListener('popstate', () => listeners.forEach((fn) => fn()));

export function navigate(url: string, opts: { replace?: boolean } = {}): void {
  if (url === location.pathname + location.search) return;
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((fn) => fn());
}

/** `path` with `params` as its query string (empty values left out). */
export function href(path: string, params: Record<string, string | undefined | null>): string {
  const s = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') s.set(k, v);
  const q = s.toString();
  return q ? `${path}?${q}` : path;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const fn = () => setRoute(current());
    listeners.add(fn);
    return () => void listeners.delete(fn);
  }, []);
  return route;
}
