/**
 * Reads a resource every `everyMs` while the view is open: the next read starts only when the
 * last one has finished (a slow server is not asked twice at once), and leaving the view aborts
 * the read under way. `onData` gets each answer; errors are kept as text for the view to show.
 */
import { useEffect, useRef, useState } from 'preact/hooks';

export function usePolling<T>(read: (signal: AbortSignal) => Promise<T>, onData: (data: T) => void, everyMs: number): { error: string | null } {
  const [error, setError] = useState<string | null>(null);
  // The latest callbacks, so that the loop started once always calls the current ones.
  const fns = useRef({ read, onData });
  fns.current = { read, onData };
  useEffect(() => {
    const ctl = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        fns.current.onData(await fns.current.read(ctl.signal));
        setError(null);
      } catch (err) {
        if (ctl.signal.aborted) return;
        setError(err instanceof Error ? err.message : String(err));
      }
      if (!ctl.signal.aborted) timer = setTimeout(() => void poll(), everyMs);
    };
    void poll();
    return () => {
      ctl.abort();
      clearTimeout(timer);
    };
  }, [everyMs]);
  return { error };
}
