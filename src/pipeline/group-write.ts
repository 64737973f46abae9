/**
 * Writes that arrive while one is under way go together in the next: a group commit. A store write is
 * durable when it resolves, and each costs a commit whatever its size, so batches of 125 written one at
 * a time would be bound by the commit's latency rather than by the work. Each caller still waits until
 * its own events are durable, and a failed write fails every caller whose events it held.
 */
export function groupWrites<T>(write: (items: T[]) => Promise<void>, maxItems = 50_000): (items: T[]) => Promise<void> {
  let waiting: Array<{ items: T[]; resolve: () => void; reject: (error: unknown) => void }> = [];
  let running = false;

  const drain = async (): Promise<void> => {
    running = true;
    while (waiting.length > 0) {
      // Take callers in order until the group is full (one caller's batch is never split).
      let count = 0;
      let taken = 0;
      while (taken < waiting.length && (taken === 0 || count + waiting[taken].items.length <= maxItems)) count += waiting[taken++].items.length;
      const group = waiting.slice(0, taken);
      waiting = waiting.slice(taken);
      const items = group.length === 1 ? group[0].items : group.flatMap((g) => g.items);
      try {
        await write(items);
        for (const g of group) g.resolve();
      } catch (error) {
        for (const g of group) g.reject(error);
      }
    }
    running = false;
  };

  return (items) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ items, resolve, reject });
      if (!running) void drain();
    });
}
