/**
 * What the dashboards list and the saved-searches list share: loading the saved objects of one
 * type (sorted by title, reloaded on demand), and the in-page dialogs that rename or delete one.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, getJson, sendJson, type SavedObject } from '../api.js';
import { ConfirmDialog, PromptDialog } from './panel-dialog.js';

/** A saved-objects failure in words; `what` names what could not be stored ("dashboards"). */
export function savedObjectsError(e: unknown, what = 'dashboards'): string {
  if (e instanceof ApiError && e.status === 404 && e.type !== 'not_found') return `This server has no saved-objects API (/api/v1/saved-objects) yet, so ${what} cannot be stored.`;
  return e instanceof Error ? e.message : String(e);
}

export function useSavedObjects<A>(type: 'dashboard' | 'search', what: string): { list: SavedObject<A>[] | null; error: string | null; refresh: () => void } {
  const [list, setList] = useState<SavedObject<A>[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  useEffect(() => {
    const ctl = new AbortController();
    getJson<{ objects: SavedObject<A>[] }>('/api/v1/saved-objects', { type }, ctl.signal).then(
      (a) => {
        setList([...a.objects].sort((x, y) => x.title.localeCompare(y.title)));
        setError(null);
      },
      (e: unknown) => {
        if (!ctl.signal.aborted) setError(savedObjectsError(e, what));
      },
    );
    return () => ctl.abort();
  }, [reload, type, what]);
  return { list, error, refresh: () => setReload((n) => n + 1) };
}

/** The dialog that renames a saved object; `noun` is what it is called ("dashboard"). */
export function RenameDialog(props: { object: SavedObject<unknown>; noun: string; onClose: () => void; onDone: () => void }): JSX.Element {
  return (
    <PromptDialog
      title={`Rename ${props.noun}`}
      label="Title"
      initial={props.object.title}
      submitLabel="Rename"
      onClose={props.onClose}
      onSubmit={async (title) => {
        await sendJson('PUT', `/api/v1/saved-objects/${encodeURIComponent(props.object.id)}`, { title });
        props.onDone();
      }}
    />
  );
}

/** The dialog that deletes a saved object, once the user confirms `message`. */
export function DeleteDialog(props: { object: SavedObject<unknown>; noun: string; message: ComponentChildren; onClose: () => void; onDone: () => void }): JSX.Element {
  return (
    <ConfirmDialog
      title={`Delete ${props.noun}`}
      message={props.message}
      confirmLabel="Delete"
      danger
      onClose={props.onClose}
      onConfirm={async () => {
        await sendJson('DELETE', `/api/v1/saved-objects/${encodeURIComponent(props.object.id)}`);
        props.onDone();
      }}
    />
  );
}
