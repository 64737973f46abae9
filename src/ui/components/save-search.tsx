/**
 * "Save search" in Discover: the query, range, columns and sort kept as a saved object of type
 * "search" (listed at /app/searches), named by the user in a small in-page form.
 */
import { useState } from 'preact/hooks';
import { ApiError, sendJson, type SavedObject } from '../api.js';
import { href } from '../router.js';

export interface SearchAttributes {
  q: string;
  from: string;
  to: string;
  cols: string;
  sort: string;
}

export function SaveSearch(props: { attributes: SearchAttributes }) {
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState('');
  const [state, setState] = useState<{ kind: 'idle' } | { kind: 'saving' } | { kind: 'saved'; title: string } | { kind: 'error'; message: string }>({ kind: 'idle' });

  const save = async (e: Event) => {
    e.preventDefault();
    if (title.trim() === '') return;
    setState({ kind: 'saving' });
    try {
      const o = await sendJson<SavedObject>('POST', '/api/v1/saved-objects', { type: 'search', title: title.trim(), attributes: props.attributes });
      setState({ kind: 'saved', title: o.title });
      setOpen(false);
      setTitle('');
    } catch (err) {
      setState({ kind: 'error', message: err instanceof ApiError ? err.message : String(err) });
    }
  };

  if (!open) {
    return (
      <span class="save-search">
        <button type="button" class="link" data-testid="save-search" onClick={() => setOpen(true)}>
          Save search
        </button>
        {state.kind === 'saved' && (
          <span class="save-search-note" data-testid="save-search-done">
            Saved as “{state.title}” — <a href={href('/app/searches', {})}>saved searches</a>
          </span>
        )}
      </span>
    );
  }
  return (
    <form class="save-search" onSubmit={(e) => void save(e)}>
      <input
        data-testid="save-search-title"
        placeholder="Name this search"
        value={title}
        maxLength={200}
        onInput={(e) => setTitle((e.currentTarget as HTMLInputElement).value)}
        ref={(el) => el?.focus()}
      />
      <button type="submit" data-testid="save-search-submit" disabled={state.kind === 'saving' || title.trim() === ''}>
        Save
      </button>
      <button type="button" class="link" onClick={() => setOpen(false)}>
        Cancel
      </button>
      {state.kind === 'error' && (
        <span class="save-search-error" role="alert">
          {state.message}
        </span>
      )}
    </form>
  );
}
