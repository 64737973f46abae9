/**
 * Bulk requests as the elasticsearch output makes them: one action line and one source line per
 * event, bodies cut at 20 MiB (Logstash's target), and each item's answer sorted into done, dropped
 * (a mistake in the document that no retry can fix) or to retry.
 */
import type { PipelineEvent } from '../../event.js';

export const TARGET_BULK_BYTES = 20 * 1024 * 1024;

export type Action = 'index' | 'create' | 'update' | 'delete';
export const ACTIONS: readonly Action[] = ['index', 'create', 'update', 'delete'];

export interface BulkItem {
  readonly event: PipelineEvent;
  readonly action: Action;
  readonly index: string;
  readonly id: string | null;
  readonly lines: string;
}

export interface ItemParams {
  readonly docAsUpsert: boolean;
  readonly retryOnConflict: number;
}

export function bulkItem(event: PipelineEvent, action: Action, index: string, id: string | null, params: ItemParams, pipeline: string | null = null): BulkItem {
  const meta: Record<string, string | number> = { _index: index };
  if (id !== null) meta._id = id;
  if (pipeline !== null && action !== 'delete' && action !== 'update') meta.pipeline = pipeline;
  if (action === 'update' && params.retryOnConflict > 0) meta.retry_on_conflict = params.retryOnConflict;
  const head = JSON.stringify({ [action]: meta });
  const source = JSON.stringify(event.toJSON());
  const lines =
    action === 'delete' ? `${head}\n` : action === 'update' ? `${head}\n{"doc":${source},"doc_as_upsert":${params.docAsUpsert}}\n` : `${head}\n${source}\n`;
  return { event, action, index, id, lines };
}

/** Groups items into bodies of at most TARGET_BULK_BYTES (an item larger than that goes alone). */
export function bodies(items: readonly BulkItem[]): BulkItem[][] {
  const groups: BulkItem[][] = [];
  let group: BulkItem[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(item.lines);
    if (group.length > 0 && bytes + size > TARGET_BULK_BYTES) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(item);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

export type Verdict = { readonly kind: 'done' } | { readonly kind: 'retry'; readonly reason: string } | { readonly kind: 'dropped'; readonly reason: string; readonly status: number };

interface ItemAnswer {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

/** Reads a 200 answer to a bulk request: one verdict per item, in order. */
export function verdicts(body: string, count: number): Verdict[] | null {
  let answer: { errors?: boolean; items?: Array<Record<string, ItemAnswer>> };
  try {
    answer = JSON.parse(body) as typeof answer;
  } catch {
    return null;
  }
  if (answer.errors === false && answer.items === undefined) return Array.from({ length: count }, () => ({ kind: 'done' }));
  if (!Array.isArray(answer.items) || answer.items.length !== count) return null;
  return answer.items.map((entry) => {
    const item = Object.values(entry)[0] ?? {};
    const status = item.status ?? 0;
    if (status >= 200 && status < 300) return { kind: 'done' };
    const reason = describe(item.error, status);
    // As Logstash: a conflict or a document the cluster refuses is dropped and logged; anything
    // else (429 too many requests, 503 unavailable, …) may succeed later and is retried.
    if (status === 409 || status === 400 || status === 404) return { kind: 'dropped', reason, status };
    return { kind: 'retry', reason };
  });
}

function describe(error: ItemAnswer['error'], status: number): string {
  if (typeof error === 'string') return `${status} ${error}`;
  if (error && (error.type || error.reason)) return `${status} ${error.type ?? 'error'}: ${error.reason ?? ''}`.trim();
  return `status ${status}`;
}
