/**
 * The dashboard's grid: 12 columns, rows of fixed height, each item a framed panel that moves
 * when its title bar is dragged and resizes from its lower right corner. Written here (no
 * library): CSS grid places the cells, pointer events move them, and `settle` keeps items from
 * overlapping and lets them fall upward into free space, as dashboard grids usually do.
 */
import type { ComponentChildren, JSX } from 'preact';
import { useRef, useState } from 'preact/hooks';
import { GRID_COLUMNS, type GridBox } from './panel-model.js';
import './grid.css';

export interface GridItem {
  id: string;
  box: GridBox;
  title: ComponentChildren;
  /** Buttons at the right of the title bar (they do not start a drag). */
  actions?: ComponentChildren;
  body: ComponentChildren;
}

export interface GridProps {
  items: GridItem[];
  /** Called once per finished move or resize, with every item's box after settling. */
  onLayout: (boxes: Record<string, GridBox>) => void;
  rowHeight?: number;
}

function overlaps(a: GridBox, b: GridBox): boolean {
  return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

function collider(box: GridBox, placed: GridBox[]): GridBox | undefined {
  return placed.find((p) => overlaps(box, p));
}

/**
 * Boxes without overlaps: `fixedId` (the one being dragged) stays where it is; every other box,
 * from the top, goes to the highest free place at or above where it was (so that dragging a
 * panel below another swaps them), or is pushed down below what it hits.
 */
export function settle(boxes: Record<string, GridBox>, fixedId?: string): Record<string, GridBox> {
  const out: Record<string, GridBox> = {};
  const placed: GridBox[] = [];
  if (fixedId !== undefined && boxes[fixedId]) {
    out[fixedId] = boxes[fixedId];
    placed.push(boxes[fixedId]);
  }
  const others = Object.entries(boxes)
    .filter(([id]) => id !== fixedId)
    .sort(([, a], [, b]) => a.y - b.y || a.x - b.x);
  for (const [id, b] of others) {
    let y = b.y;
    for (let up = 0; up < b.y; up++) {
      if (!collider({ ...b, y: up }, placed)) {
        y = up;
        break;
      }
    }
    let hit: GridBox | undefined;
    while ((hit = collider({ ...b, y }, placed))) y = hit.y + hit.h;
    out[id] = { ...b, y };
    placed.push(out[id]);
  }
  return out;
}

function sameBoxes(a: Record<string, GridBox>, b: Record<string, GridBox>): boolean {
  return Object.keys(a).every((id) => {
    const p = a[id];
    const q = b[id];
    return q !== undefined && p.x === q.x && p.y === q.y && p.w === q.w && p.h === q.h;
  });
}

interface Drag {
  id: string;
  mode: 'move' | 'resize';
  startX: number;
  startY: number;
  start: GridBox;
  cellW: number;
  cellH: number;
  /** Every box as it would be if the pointer were released now. */
  boxes: Record<string, GridBox>;
}

const GAP = 12;

export function Grid(props: GridProps): JSX.Element {
  const rowHeight = props.rowHeight ?? 64;
  const root = useRef<HTMLDivElement>(null);
  const [drag, setDrag] = useState<Drag | null>(null);
  const base: Record<string, GridBox> = Object.fromEntries(props.items.map((i) => [i.id, i.box]));
  const boxes = drag ? drag.boxes : base;

  function begin(e: PointerEvent, id: string, mode: Drag['mode']) {
    if (e.button !== 0 || !root.current) return;
    // Buttons and inputs in the title bar keep their own clicks.
    if (mode === 'move' && (e.target as HTMLElement).closest('button, input, select, a, textarea')) return;
    e.preventDefault();
    (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    const width = root.current.getBoundingClientRect().width;
    setDrag({
      id,
      mode,
      startX: e.clientX,
      startY: e.clientY,
      start: base[id],
      cellW: (width + GAP) / GRID_COLUMNS,
      cellH: rowHeight + GAP,
      boxes: base,
    });
  }

  function move(e: PointerEvent) {
    if (!drag) return;
    const dx = Math.round((e.clientX - drag.startX) / drag.cellW);
    const dy = Math.round((e.clientY - drag.startY) / drag.cellH);
    const s = drag.start;
    const box =
      drag.mode === 'move'
        ? { ...s, x: Math.min(GRID_COLUMNS - s.w, Math.max(0, s.x + dx)), y: Math.max(0, s.y + dy) }
        : { ...s, w: Math.min(GRID_COLUMNS - s.x, Math.max(1, s.w + dx)), h: Math.max(1, s.h + dy) };
    const next = settle({ ...base, [drag.id]: box }, drag.id);
    if (!sameBoxes(next, drag.boxes)) setDrag({ ...drag, boxes: next });
  }

  function end() {
    if (!drag) return;
    const final = settle(drag.boxes);
    setDrag(null);
    if (!sameBoxes(final, base)) props.onLayout(final);
  }

  /** The pointer handlers of a panel's title bar (move) or corner (resize). */
  const dragHandlers = (id: string, mode: Drag['mode']) => ({
    onPointerDown: (e: PointerEvent) => begin(e, id, mode),
    onPointerMove: move,
    onPointerUp: end,
    onPointerCancel: end,
  });

  const rows = Object.values(boxes).reduce((m, b) => Math.max(m, b.y + b.h), 0);
  return (
    <div
      ref={root}
      class={'grid' + (drag ? ' grid-dragging' : '')}
      data-testid="grid"
      style={{ gridAutoRows: `${rowHeight}px`, gap: `${GAP}px`, minHeight: `${rows * (rowHeight + GAP)}px` }}
    >
      {props.items.map((item) => {
        const b = boxes[item.id] ?? item.box;
        const active = drag?.id === item.id;
        return (
          <section
            key={item.id}
            class={'grid-item' + (active ? ' grid-item-active' : '')}
            data-testid="panel"
            data-panel-id={item.id}
            data-box={`${b.x},${b.y},${b.w},${b.h}`}
            style={{ gridColumn: `${b.x + 1} / span ${b.w}`, gridRow: `${b.y + 1} / span ${b.h}` }}
          >
            <header
              class="grid-item-title"
              data-testid="panel-title"
              title="Drag to move"
              {...dragHandlers(item.id, 'move')}
            >
              <h3>{item.title}</h3>
              <div class="grid-item-actions">{item.actions}</div>
            </header>
            <div class="grid-item-body">{item.body}</div>
            <div
              class="grid-item-resize"
              data-testid="panel-resize"
              title="Drag to resize"
              {...dragHandlers(item.id, 'resize')}
            />
          </section>
        );
      })}
    </div>
  );
}
