/**
 * The trap table's virtual list: TanStack Virtual (`@tanstack/react-virtual`) decides which rows to
 * draw and where a row must scroll to, in its own coordinates; this adapter gives it those
 * coordinates past the browser's element-height clamp (scaled-scroll.ts). TanStack treats the clamp
 * as out of scope (TanStack/virtual #616, #460), so the library is handed a stand-in scroll element
 * whose scrollTop / scrollHeight are the unclamped (virtual) ones, and its reads and writes are
 * mapped onto the real element. The library is reached through its documented options
 * (getScrollElement, observeElementRect, observeElementOffset, scrollToFn) and its public
 * `scrollOffset`, set in render when new rows move the view (follow-tail, a rescale). It is given a
 * slab of SLAB_ROWS rows that slides with the view, so a growing log never changes its count.
 *
 * Nothing here reads layout from the DOM outside a scroll event or a ResizeObserver callback: the
 * stand-in answers from the geometry it holds, so following the tail never forces a layout.
 */
import { type Rect, useVirtualizer, type Virtualizer } from '@tanstack/react-virtual';
import { useCallback, useLayoutEffect, useReducer, useRef, useState } from 'react';
import {
  realTop,
  type ScrollGeometry,
  SLAB_ROWS,
  scrollGeometry,
  toReal,
  toVirtual,
} from './scaled-scroll.ts';

/** Real content height past which the scrollbar is scaled (under Chromium's ~33.5 M px clamp). */
export const MAX_SCROLL_PX = 12_000_000;

type OffsetCallback = (offset: number, isScrolling: boolean) => void;

/**
 * What the library takes for its scroll element. `virt` is the truth for which rows show; the real
 * element follows it (or, when the user scrolls, it follows the real element). The library sees the
 * slab of SLAB_ROWS rows from row `base` on (scaled-scroll.ts: `SLAB_ROWS`), slid along with the
 * view: its offsets are relative to the slab's first row.
 */
export class VirtualScrollElement {
  /** Offset from the table's first row. */
  virt = 0;
  /** The slab's first row. */
  base = 0;
  /** The element's scrollTop as last read in a scroll event or written by us. */
  real = 0;
  /** Our last write, until its scroll event arrives (-1: none pending). */
  private wrote = -1;
  g: ScrollGeometry = scrollGeometry(0, 24, 0, MAX_SCROLL_PX);
  report: OffsetCallback | null = null;
  /** The rows must be drawn again: the offsets moved other than by our own write. */
  redraw: () => void = () => {};
  /** The user scrolled the element (not our write). */
  onUser: () => void = () => {};

  constructor(readonly el: HTMLElement) {}

  // The properties TanStack Virtual reads from a scroll element.
  get scrollTop(): number {
    return this.rel;
  }
  get scrollLeft(): number {
    return 0;
  }
  get scrollHeight(): number {
    return Math.min(SLAB_ROWS, this.g.total - this.base) * this.g.rowH;
  }
  get clientHeight(): number {
    return this.g.viewH;
  }
  get scrollWidth(): number {
    return 0;
  }
  get clientWidth(): number {
    return 0;
  }
  get ownerDocument(): Document {
    return this.el.ownerDocument;
  }
  get style(): CSSStyleDeclaration {
    return this.el.style;
  }
  addEventListener(type: string, fn: EventListener, opts?: AddEventListenerOptions): void {
    this.el.addEventListener(type, fn, opts);
  }
  removeEventListener(type: string, fn: EventListener): void {
    this.el.removeEventListener(type, fn);
  }
  scrollTo(o: { top?: number }): void {
    if (o.top !== undefined) this.moveTo(o.top);
  }

  /** The library's offset: from the slab's first row. */
  get rel(): number {
    return this.virt - this.base * this.g.rowH;
  }

  /** Where the element must be for `virt` (rows are drawn relative to it). */
  targetReal(): number {
    return toReal(this.g, this.virt);
  }

  /** Go to a library (slab) offset; false when the element stays put (no scroll event comes). */
  moveTo(rel: number): boolean {
    this.virt = Math.min(Math.max(0, rel + this.base * this.g.rowH), this.g.virtMax);
    return this.syncElement();
  }

  /**
   * Slide the slab so the view (or row `around`) sits well inside it: re-centred once the view
   * comes within a quarter slab of an end the table goes on past. All rows are the same height,
   * so sliding changes no size the library holds.
   */
  rebase(around?: number): void {
    const { total, rowH, viewH } = this.g;
    const maxBase = Math.max(0, total - SLAB_ROWS);
    const first = around ?? Math.floor(this.virt / rowH);
    const last = around ?? Math.ceil((this.virt + viewH) / rowH);
    const margin = SLAB_ROWS / 4;
    const low = first < this.base + margin && this.base > 0;
    const high = last > this.base + SLAB_ROWS - margin && this.base < maxBase;
    if (low || high || this.base > maxBase) {
      this.base = Math.min(maxBase, Math.max(0, first - SLAB_ROWS / 2));
    }
  }

  /** Write the element's scrollTop when it is not where `virt` puts it. */
  syncElement(): boolean {
    const real = this.targetReal();
    if (Math.abs(real - this.real) < 0.5) return false;
    this.real = real;
    this.wrote = real;
    this.el.scrollTop = real;
    return true;
  }

  /** A scroll event. Our own write keeps the exact virtual offset; anything else maps the real one. */
  scrolled(real: number): boolean {
    const ours = this.wrote >= 0 && Math.abs(real - this.wrote) < 1;
    this.wrote = -1;
    this.real = real;
    if (!ours) this.virt = toVirtual(this.g, real);
    this.rebase();
    return ours;
  }

  /** New rows, row height or viewport: keep the rows in view (the tail, when following). */
  setGeometry(g: ScrollGeometry, follow: boolean): void {
    const old = this.g;
    // Classroom mode changes the row height: the same row stays at the top.
    if (old.rowH !== g.rowH) this.virt = (this.virt / old.rowH) * g.rowH;
    this.g = g;
    this.virt = follow ? g.virtMax : Math.min(Math.max(0, this.virt), g.virtMax);
    this.rebase();
  }
}

function stand(instance: Virtualizer<HTMLElement, HTMLDivElement>): VirtualScrollElement {
  return instance.scrollElement as unknown as VirtualScrollElement;
}

function observeRect(
  instance: Virtualizer<HTMLElement, HTMLDivElement>,
  cb: (rect: Rect) => void,
): (() => void) | undefined {
  const s = stand(instance);
  if (!s) return;
  const read = () => cb({ width: s.el.clientWidth, height: s.el.clientHeight });
  read();
  const ro = new ResizeObserver(read);
  ro.observe(s.el);
  return () => ro.disconnect();
}

export function observeOffset(
  instance: Virtualizer<HTMLElement, HTMLDivElement>,
  cb: OffsetCallback,
): (() => void) | undefined {
  const s = stand(instance);
  if (!s) return;
  s.report = cb;
  const onScroll = () => {
    // Our own write (follow-tail, a row height change) was drawn for already: reported at rest,
    // it changes neither the library's range nor its isScrolling, so nothing renders again.
    const ours = s.scrolled(s.el.scrollTop);
    cb(s.rel, !ours);
    if (!ours) {
      s.redraw();
      s.onUser();
    }
  };
  const onEnd = () => cb(s.rel, false);
  s.el.addEventListener('scroll', onScroll, { passive: true });
  s.el.addEventListener('scrollend', onEnd, { passive: true });
  return () => {
    s.report = null;
    s.el.removeEventListener('scroll', onScroll);
    s.el.removeEventListener('scrollend', onEnd);
  };
}

export function scrollTo(
  offset: number,
  o: { adjustments?: number },
  instance: Virtualizer<HTMLElement, HTMLDivElement>,
) {
  const s = stand(instance);
  if (!s) return;
  // A write that does not move the element (scaled: under one real pixel) gets no scroll event:
  // report the new offset ourselves so the library sees its command land.
  if (!s.moveTo(offset + (o.adjustments ?? 0))) {
    queueMicrotask(() => {
      s.report?.(s.rel, false);
      s.redraw();
    });
  }
}

export interface TableRow {
  index: number;
  start: number;
}

/**
 * Bring table row `pos` into view through the library: slide the slab around it first (the library
 * knows only the slab's rows), then let the library work out the offset for the alignment.
 */
export function scrollToRow(
  v: Virtualizer<HTMLElement, HTMLDivElement>,
  s: VirtualScrollElement,
  pos: number,
  align: 'start' | 'center' | 'end' | 'auto',
): void {
  if (s.g.total === 0) return;
  const row = Math.min(Math.max(0, pos), s.g.total - 1);
  s.rebase(row);
  v.scrollOffset = s.rel;
  v.scrollToIndex(row - s.base, { align });
}

/** The slab's rows the library lists, as table rows with their start in the whole table. */
export function tableRows(v: Virtualizer<HTMLElement, HTMLDivElement>, s: VirtualScrollElement): TableRow[] {
  const out: TableRow[] = [];
  const off = s.base * s.g.rowH;
  for (const it of v.getVirtualItems()) {
    const index = s.base + it.index;
    if (index < s.g.total) out.push({ index, start: off + it.start });
  }
  return out;
}

export interface TrapVirtualRows {
  scrollerRef: React.RefObject<HTMLDivElement | null>;
  virtualizer: Virtualizer<HTMLElement, HTMLDivElement>;
  geometry: ScrollGeometry;
  /** The rows to draw (overscan included), all below `total`: table row and virtual start. */
  items: TableRow[];
  /** Where the first item is drawn in the real content. */
  rowsTop: number;
  /** Rows that fit in the viewport (plus one partly visible). */
  visible: number;
  /** Bring table row `pos` into view; the element moves, the library's range follows. */
  scrollToRow(pos: number, align: 'start' | 'center' | 'end' | 'auto'): void;
}

/**
 * `onUserScroll(atBottom)` is called when the user (not our own write) scrolled the table: the
 * trap log switches follow-tail off and on with it.
 */
export function useTrapVirtualizer(opts: {
  total: number;
  rowH: number;
  follow: boolean;
  overscan: number;
  onUserScroll(atBottom: boolean): void;
}): TrapVirtualRows {
  const { total, rowH, follow } = opts;
  const scrollerRef = useRef<HTMLDivElement>(null);
  const standIn = useRef<VirtualScrollElement | null>(null);
  const [viewH, setViewH] = useState(0);
  const [, redraw] = useReducer((x: number) => x + 1, 0);
  const onUserScroll = useRef(opts.onUserScroll);
  onUserScroll.current = opts.onUserScroll;

  const getScrollElement = useCallback(() => {
    const el = scrollerRef.current;
    if (!el) return null;
    if (standIn.current?.el !== el) {
      const s = new VirtualScrollElement(el);
      if (standIn.current) s.g = standIn.current.g;
      // The rows are drawn relative to the element's position.
      s.redraw = redraw;
      // Read from the element (layout is clean in a scroll event): a viewport that grew with the
      // classroom toggle clamps scrollTop before the new geometry reaches us.
      s.onUser = () => onUserScroll.current(s.real + s.el.clientHeight >= s.el.scrollHeight - 2);
      standIn.current = s;
    }
    return standIn.current as unknown as HTMLElement;
  }, []);

  const geometry = scrollGeometry(total, rowH, viewH, MAX_SCROLL_PX);
  // Rendering is where the new total / row height arrive: set the offset the rows are computed
  // for now, and move the element to match in the layout effect below (before paint).
  getScrollElement();
  const s = standIn.current;
  s?.setGeometry(geometry, follow);

  // The row height is a size estimate; a new key function makes the library rebuild its offsets
  // in this same render (its measurements are memoised on the key function, not on the estimate).
  // biome-ignore lint/correctness/useExhaustiveDependencies: rowH is the trigger
  const getItemKey = useCallback((i: number) => i, [rowH]);
  const virtualizer = useVirtualizer<HTMLElement, HTMLDivElement>({
    // A constant count: the library rebuilds its row offsets (O(count)) whenever the count changes,
    // and a growing log changes it every frame.
    count: SLAB_ROWS,
    getScrollElement,
    estimateSize: () => rowH,
    getItemKey,
    overscan: opts.overscan,
    initialOffset: () => standIn.current?.rel ?? 0,
    initialRect: { width: 0, height: viewH },
    observeElementRect: (instance, cb) =>
      observeRect(instance, (rect) => {
        setViewH(rect.height);
        cb(rect);
      }),
    observeElementOffset: observeOffset,
    scrollToFn: scrollTo,
    // Row positions are ours (rowsTop); scroll reports re-render through `redraw`.
    useFlushSync: false,
  });
  // The offset this render's range is computed for (a public field of the virtualizer; the
  // library's own scroll reports write it the same way).
  if (s && virtualizer.scrollOffset !== s.rel) virtualizer.scrollOffset = s.rel;

  // Move the element to where the rows were computed for (follow-tail, a rescale, a row height
  // change). Our write's scroll event is recognised as ours, not as the user leaving the tail.
  useLayoutEffect(() => {
    standIn.current?.syncElement();
  });

  const items = s ? tableRows(virtualizer, s) : [];
  const first = items[0];
  const rowsTop = s && first ? realTop(s.targetReal(), s.virt, first.start) : 0;
  return {
    scrollerRef,
    virtualizer,
    geometry,
    items,
    rowsTop,
    visible: Math.ceil(viewH / rowH) + 1,
    scrollToRow: (pos, align) => {
      if (s) scrollToRow(virtualizer, s, pos, align);
    },
  };
}
