/**
 * What a dashboard is, as stored in a saved object's attributes, and the checks that turn
 * untrusted JSON (an imported file, an object another client wrote) into one. Pure: no DOM.
 */

/** A panel's place on the 12-column grid, in grid cells (x, w in columns; y, h in rows). */
export interface GridBox {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type PanelType = 'histogram' | 'top' | 'metric' | 'events' | 'table';
export type MetricKind = 'count' | 'avg' | 'sum' | 'min' | 'max' | 'percentile';

export interface PanelSpec {
  id: string;
  type: PanelType;
  title: string;
  /** The panel's own query (a filter; for type "table", a piped query). */
  q: string;
  layout: GridBox;
  /** histogram: split by this field (optional). top: the field whose values are counted. metric: the field (not for count). */
  field?: string;
  /** top: how many values; events: how many rows; histogram: how many series. */
  size?: number;
  /** top: drawn as bars or as a pie. */
  chart?: 'bar' | 'pie';
  metric?: MetricKind;
  /** metric "percentile": e.g. 95 or 99.9. */
  percentile?: number;
  /** events: the columns shown beside the time (default: message). */
  columns?: string[];
}

export interface DashboardAttributes {
  from: string;
  to: string;
  refresh: number;
  panels: PanelSpec[];
}

export const GRID_COLUMNS = 12;

export const PANEL_TYPES: { type: PanelType; label: string }[] = [
  { type: 'histogram', label: 'Count over time' },
  { type: 'top', label: 'Top values' },
  { type: 'metric', label: 'Single metric' },
  { type: 'events', label: 'Table of events' },
  { type: 'table', label: 'Table of a piped query' },
];

export const DEFAULT_RANGE = { from: 'now-24h', to: 'now' };

export function emptyDashboard(): DashboardAttributes {
  return { ...DEFAULT_RANGE, refresh: 0, panels: [] };
}

/** A field name as the query language wants it: characters a bare name cannot hold escaped with "\". */
export function queryField(name: string): string {
  let out = '';
  for (const ch of name) out += /^[\p{L}\p{N}_.@-]$/u.test(ch) ? ch : '\\' + ch;
  return out;
}

/** The aggregation a metric panel asks for, e.g. `count()`, `avg(bytes)`, `p95(duration)`. */
export function metricExpression(p: Pick<PanelSpec, 'metric' | 'field' | 'percentile'>): string {
  const metric = p.metric ?? 'count';
  if (metric === 'count') return 'count()';
  const field = queryField(p.field ?? '');
  if (metric === 'percentile') return `p${p.percentile ?? 95}(${field})`;
  return `${metric}(${field})`;
}

/** The piped query a metric panel sends: its filter (or every event) then `| stats …`. */
export function metricQuery(p: PanelSpec): string {
  return `${p.q.trim() || '*'} | stats ${metricExpression(p)}`;
}

export function metricLabel(p: PanelSpec): string {
  const metric = p.metric ?? 'count';
  if (metric === 'count') return 'count';
  if (metric === 'percentile') return `p${p.percentile ?? 95} of ${p.field ?? ''}`;
  return `${metric} of ${p.field ?? ''}`;
}

/** What is wrong with a panel as the form filled it, or null. */
export function panelProblem(p: PanelSpec): string | null {
  if (p.type === 'top' && !p.field) return 'Top values need a field.';
  if (p.type === 'metric' && (p.metric ?? 'count') !== 'count' && !p.field) return `The ${p.metric} metric needs a field.`;
  if (p.type === 'metric' && p.metric === 'percentile') {
    const n = p.percentile;
    if (n === undefined || !(n > 0 && n < 100)) return 'The percentile must be a number between 0 and 100, e.g. 95 or 99.9.';
  }
  if (p.type === 'table' && !p.q.includes('|')) return 'A table of a piped query needs a pipe, e.g. "* | stats count() by host".';
  return null;
}

export function newPanelId(): string {
  return `p${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
}

/** A new panel's size by type: wide charts and tables, small metrics. */
export const DEFAULT_BOX: Record<PanelType, { w: number; h: number }> = {
  histogram: { w: 8, h: 4 },
  top: { w: 4, h: 4 },
  metric: { w: 3, h: 2 },
  events: { w: 12, h: 5 },
  table: { w: 6, h: 4 },
};

function overlap(a: GridBox, b: GridBox): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/** The first free place (top to bottom, left to right) for a box of `w` × `h` among `boxes`. */
export function findSpace(boxes: GridBox[], w: number, h: number): GridBox {
  const width = Math.min(GRID_COLUMNS, Math.max(1, w));
  const bottom = boxes.reduce((m, b) => Math.max(m, b.y + b.h), 0);
  for (let y = 0; y <= bottom; y++) {
    for (let x = 0; x + width <= GRID_COLUMNS; x++) {
      const box = { x, y, w: width, h };
      if (!boxes.some((b) => overlap(b, box))) return box;
    }
  }
  return { x: 0, y: bottom, w: width, h };
}

// ---- Untrusted JSON → a dashboard ----

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function int(v: unknown, min: number, max: number, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : fallback;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

const TYPES = new Set<string>(PANEL_TYPES.map((t) => t.type));
const METRICS = new Set<string>(['count', 'avg', 'sum', 'min', 'max', 'percentile']);

/** One panel from untrusted JSON; throws an Error naming what is wrong. */
export function parsePanel(v: unknown, index: number): PanelSpec {
  const where = `panel ${index + 1}`;
  if (!isObject(v)) throw new Error(`${where} is not an object`);
  const type = str(v.type);
  if (!type || !TYPES.has(type)) throw new Error(`${where} has an unknown type ${JSON.stringify(v.type)} (one of ${[...TYPES].join(', ')})`);
  const layout = isObject(v.layout) ? v.layout : {};
  const w = int(layout.w, 1, GRID_COLUMNS, 6);
  const p: PanelSpec = {
    id: str(v.id) || newPanelId(),
    type: type as PanelType,
    title: str(v.title) ?? '',
    q: str(v.q) ?? '',
    layout: { x: int(layout.x, 0, GRID_COLUMNS - w, 0), y: int(layout.y, 0, 10_000, 0), w, h: int(layout.h, 1, 40, 4) },
  };
  const field = str(v.field);
  if (field) p.field = field;
  if (typeof v.size === 'number') p.size = int(v.size, 1, 1000, 10);
  if (v.chart === 'bar' || v.chart === 'pie') p.chart = v.chart;
  const metric = str(v.metric);
  if (metric !== undefined) {
    if (!METRICS.has(metric)) throw new Error(`${where} has an unknown metric ${JSON.stringify(metric)}`);
    p.metric = metric as MetricKind;
  }
  if (typeof v.percentile === 'number' && Number.isFinite(v.percentile)) p.percentile = v.percentile;
  if (Array.isArray(v.columns)) p.columns = v.columns.filter((c): c is string => typeof c === 'string');
  return p;
}

/** A dashboard's attributes from untrusted JSON; throws an Error naming what is wrong. */
export function parseAttributes(v: unknown): DashboardAttributes {
  if (!isObject(v)) throw new Error('the dashboard has no attributes object');
  const panels = v.panels === undefined ? [] : v.panels;
  if (!Array.isArray(panels)) throw new Error('"panels" is not a list');
  const ids = new Set<string>();
  return {
    from: str(v.from) || DEFAULT_RANGE.from,
    to: str(v.to) || DEFAULT_RANGE.to,
    refresh: int(v.refresh, 0, 86_400, 0),
    panels: panels.map((raw, i) => {
      const p = parsePanel(raw, i);
      // Two panels with one id would move together on the grid: give the second a new one.
      if (ids.has(p.id)) p.id = newPanelId();
      ids.add(p.id);
      return p;
    }),
  };
}

/** The file a dashboard is exported as, and read back by import. */
export interface DashboardExport {
  logmill: 'dashboard';
  version: 1;
  title: string;
  attributes: DashboardAttributes;
}

export function exportDashboard(title: string, attributes: DashboardAttributes): DashboardExport {
  return { logmill: 'dashboard', version: 1, title, attributes };
}

/** Reads an exported file's text; throws an Error saying what is wrong with it. */
export function parseExport(text: string): { title: string; attributes: DashboardAttributes } {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new Error(`the file is not JSON (${(e as Error).message})`);
  }
  if (!isObject(v)) throw new Error('the file does not hold a JSON object');
  // Also accept a saved object as the API returns it ({type: "dashboard", title, attributes}).
  if (v.logmill !== 'dashboard' && v.type !== 'dashboard') throw new Error('the file is not a Logmill dashboard export (no "logmill": "dashboard")');
  const title = str(v.title)?.trim();
  if (!title) throw new Error('the dashboard in the file has no title');
  return { title, attributes: parseAttributes(v.attributes) };
}
