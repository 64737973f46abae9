/**
 * Live tail: every event the store makes durable is offered to the open tails, which match it
 * in memory (query/match.ts) and pass it on as a hit. A write costs nothing extra while no tail
 * is open. `tailing(store, hub)` wraps a store so that every writer (inputs, pipelines, the
 * HTTP and Elasticsearch APIs, import) feeds the hub without knowing of it.
 */
import type { LogEvent } from '../core/event.js';
import { microsToIso } from '../core/time.js';
import { compileMatcher, type Matcher } from '../query/match.js';
import type { FilterNode } from '../query/ast.js';
import { RowKeys, type Hit, type Store } from './store.js';

export interface TailSubscription {
  /** Stops delivery; the subscriber's queue is dropped. */
  close(): void;
}

interface Subscriber {
  matches: Matcher;
  deliver: (hits: Hit[]) => void;
}

export class TailHub {
  private readonly subscribers = new Set<Subscriber>();

  get size(): number {
    return this.subscribers.size;
  }

  /** Calls `deliver` with the matching hits of each durable write, in storage order. */
  subscribe(filter: FilterNode, deliver: (hits: Hit[]) => void): TailSubscription {
    const sub: Subscriber = { matches: compileMatcher(filter), deliver };
    this.subscribers.add(sub);
    return { close: () => void this.subscribers.delete(sub) };
  }

  /** Offers written events (with the store's keys, for their generated ids) to every tail. */
  publish(events: LogEvent[], keys: RowKeys): void {
    for (const sub of this.subscribers) {
      const hits: Hit[] = [];
      for (let i = 0; i < events.length; i++) {
        const e = events[i];
        const fields: Record<string, unknown> = e.fields;
        const candidate = { ts: e.ts, fields: e.id !== undefined || e.index !== undefined ? { ...fields, _id: e.id, _index: e.index } : fields };
        if (!sub.matches(candidate)) continue;
        hits.push(toHit(e, keys, i));
      }
      if (hits.length > 0) {
        try {
          sub.deliver(hits);
        } catch {
          // A subscriber's failure is its own (a closed socket); the write goes on.
        }
      }
    }
  }
}

function toHit(e: LogEvent, keys: RowKeys, i: number): Hit {
  const hit = Object.create(null) as Hit;
  hit._id = e.id ?? keys.id(i);
  hit['@timestamp'] = microsToIso(e.ts);
  if (e.index !== undefined) hit._index = e.index;
  for (const [name, value] of Object.entries(e.fields)) if (value !== null && value !== undefined) hit[name] = value;
  return hit;
}

/** The store, with writes published to `hub` once durable. Every other call goes straight through. */
export function tailing(store: Store, hub: TailHub): Store {
  const write = async (events: LogEvent[], keys?: RowKeys): Promise<void> => {
    if (hub.size === 0) return store.write(events, keys);
    const k = keys ?? new RowKeys(events.length);
    await store.write(events, k);
    hub.publish(events, k);
  };
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'write') return write;
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
