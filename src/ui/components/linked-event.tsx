/**
 * An event named in the URL (`ev=ID`) that is not among the rows loaded (a shared link to an event
 * far down the list): fetched by its id and shown above the table, so that a link always opens the
 * event it names.
 */
import { useEffect, useState } from 'preact/hooks';
import { getJson, type Hit, type SearchHits } from '../api.js';
import type { Zone } from '../format.js';
import { quoteValue } from '../query-text.js';
import { EventView } from './event-view.js';

export function LinkedEvent(props: {
  id: string;
  from: string;
  to: string;
  zone: Zone;
  onFilter: (field: string, value: unknown, negate: boolean) => void;
  onToggleColumn: (field: string) => void;
  onClose: () => void;
}) {
  const [state, setState] = useState<{ kind: 'loading' } | { kind: 'found'; hit: Hit } | { kind: 'missing' } | { kind: 'error'; message: string }>({ kind: 'loading' });
  useEffect(() => {
    const ctl = new AbortController();
    setState({ kind: 'loading' });
    getJson<SearchHits>('/api/v1/search', { q: `_id:${quoteValue(props.id)}`, from: props.from, to: props.to, limit: 1 }, ctl.signal).then(
      (a) => setState(a.hits[0] ? { kind: 'found', hit: a.hits[0] } : { kind: 'missing' }),
      (e: unknown) => !ctl.signal.aborted && setState({ kind: 'error', message: e instanceof Error ? e.message : String(e) }),
    );
    return () => ctl.abort();
  }, [props.id, props.from, props.to]);
  if (state.kind === 'loading') return null;
  return (
    <div class="linked-event" data-testid="linked-event">
      {state.kind === 'found' ? (
        <EventView hit={state.hit} zone={props.zone} onFilter={props.onFilter} onToggleColumn={props.onToggleColumn} onClose={props.onClose} />
      ) : (
        <div class="banner-error">
          {state.kind === 'missing' ? 'The event this link names is not in the time range shown; widen the range to see it.' : state.message}
        </div>
      )}
    </div>
  );
}
