/**
 * In-page dialogs for the dashboards views: a modal frame, a confirmation and a one-line text
 * prompt. Native window.confirm/prompt are not used: they block the page, cannot be styled,
 * and the browser tests treat any native dialog as a failure (it is how XSS would show).
 */
import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import './panel-dialog.css';

export function Modal(props: { onClose: () => void; children: ComponentChildren; class?: string; testId?: string; label: string }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const close = useRef(props.onClose);
  close.current = props.onClose;
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      // An editor inside (the query bar) uses Escape first, to close its suggestions.
      if (e.key === 'Escape' && !e.defaultPrevented) close.current();
    };
    document.addEventListener('keydown', onKey);
    // Focus the first field, so the keyboard can be used at once.
    box.current?.querySelector<HTMLElement>('[autofocus], input, select, textarea, button')?.focus();
    return () => document.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div
      class="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) props.onClose();
      }}
    >
      <div class={`modal ${props.class ?? ''}`} ref={box} role="dialog" aria-modal="true" aria-label={props.label} data-testid={props.testId ?? 'dialog'}>
        {props.children}
      </div>
    </div>
  );
}

export function ConfirmDialog(props: {
  title: string;
  message: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void | Promise<void>;
  onClose: () => void;
}): JSX.Element {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal onClose={props.onClose} label={props.title} testId="confirm-dialog">
      <h2>{props.title}</h2>
      <p>{props.message}</p>
      {error && (
        <div class="error" role="alert">
          {error}
        </div>
      )}
      <div class="modal-actions">
        <button type="button" onClick={props.onClose} data-testid="confirm-cancel">
          Cancel
        </button>
        <button
          type="button"
          class={props.danger ? 'primary danger' : 'primary'}
          data-testid="confirm-ok"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await props.onConfirm();
              props.onClose();
            } catch (e) {
              setError(e instanceof Error ? e.message : String(e));
              setBusy(false);
            }
          }}
        >
          {props.confirmLabel}
        </button>
      </div>
    </Modal>
  );
}

export function PromptDialog(props: {
  title: string;
  label: string;
  initial: string;
  submitLabel: string;
  onSubmit: (value: string) => void | Promise<void>;
  onClose: () => void;
}): JSX.Element {
  const [value, setValue] = useState(props.initial);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Modal onClose={props.onClose} label={props.title} testId="prompt-dialog">
      <form
        class="dialog-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const v = value.trim();
          if (!v) {
            setError(`${props.label} cannot be empty.`);
            return;
          }
          setBusy(true);
          try {
            await props.onSubmit(v);
            props.onClose();
          } catch (err) {
            setError(err instanceof Error ? err.message : String(err));
            setBusy(false);
          }
        }}
      >
        <h2>{props.title}</h2>
        <label>
          {props.label}
          <input autoFocus data-testid="prompt-input" value={value} onInput={(e) => setValue((e.currentTarget as HTMLInputElement).value)} />
        </label>
        {error && (
          <div class="error" role="alert">
            {error}
          </div>
        )}
        <div class="modal-actions">
          <button type="button" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="primary" data-testid="prompt-ok" disabled={busy}>
            {props.submitLabel}
          </button>
        </div>
      </form>
    </Modal>
  );
}
