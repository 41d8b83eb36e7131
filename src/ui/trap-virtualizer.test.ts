/**
 * The trap table's adapter between TanStack Virtual and a browser that clamps element heights:
 * the arithmetic of scaled-scroll.ts, and the library driven through the stand-in scroll element
 * (trap-virtualizer.ts) on a fake element, past the clamp.
 */
import { Virtualizer } from '@tanstack/virtual-core';
import { describe, expect, it } from 'vitest';
import { realTop, SLAB_ROWS, scrollGeometry, toReal, toVirtual } from './scaled-scroll.ts';
import {
  MAX_SCROLL_PX,
  observeOffset,
  scrollTo,
  scrollToRow,
  tableRows,
  VirtualScrollElement,
} from './trap-virtualizer.ts';

describe('scaled scroll arithmetic', () => {
  it('is the identity below the height limit', () => {
    const g = scrollGeometry(1000, 24, 240, MAX_SCROLL_PX);
    expect(g).toMatchObject({
      fullH: 24_000,
      spacerH: 24_000,
      scaled: false,
      virtMax: 23_760,
      realMax: 23_760,
    });
    for (const x of [0, 1, 2400, 23_760]) {
      expect(toVirtual(g, x)).toBe(x);
      expect(toReal(g, x)).toBe(x);
    }
    // A stale offset past the end (the table shrank) is clamped.
    expect(toVirtual(g, 99_999)).toBe(23_760);
  });

  it('maps both ends onto both ends past the limit, and round-trips', () => {
    const total = 1_048_576;
    const g = scrollGeometry(total, 32, 480, MAX_SCROLL_PX);
    expect(g.scaled).toBe(true);
    expect(g.spacerH).toBe(MAX_SCROLL_PX);
    expect(g.virtMax).toBe(total * 32 - 480);
    expect(toVirtual(g, 0)).toBe(0);
    expect(toVirtual(g, g.realMax)).toBe(g.virtMax);
    expect(toReal(g, g.virtMax)).toBe(g.realMax);
    for (const r of [1, 777, g.realMax / 3, g.realMax - 1]) {
      expect(toReal(g, toVirtual(g, r))).toBeCloseTo(r, 6);
    }
    // Monotonic: a scrollbar moved down never shows earlier rows.
    let prev = -1;
    for (let r = 0; r <= g.realMax; r += g.realMax / 97) {
      const v = toVirtual(g, r);
      expect(v).toBeGreaterThan(prev);
      prev = v;
    }
  });

  it('draws the last row flush with the bottom of the content and the first with the top', () => {
    const total = 1_500_000;
    for (const rowH of [24, 32]) {
      const g = scrollGeometry(total, rowH, 437, MAX_SCROLL_PX);
      const lastTop = realTop(g.realMax, g.virtMax, (total - 1) * rowH);
      expect(lastTop + rowH).toBeCloseTo(g.spacerH, 6);
      expect(lastTop + rowH).toBeCloseTo(g.realMax + g.viewH, 6);
      expect(realTop(0, 0, 0)).toBe(0);
    }
  });
});

/** An element with just what the adapter touches; scroll events are fired by the test. */
class FakeElement {
  private top = 0;
  listeners = new Map<string, Array<() => void>>();
  constructor(
    public clientHeight: number,
    public scrollHeight: number,
  ) {}
  get scrollTop(): number {
    return this.top;
  }
  set scrollTop(v: number) {
    // Browsers clamp to the scroll range and keep whole pixels at zoom 1.
    this.top = Math.round(Math.min(Math.max(0, v), this.scrollHeight - this.clientHeight));
  }
  clientWidth = 800;
  style = {};
  ownerDocument = {
    defaultView: { requestAnimationFrame: () => 0, cancelAnimationFrame: () => {}, performance },
  };
  addEventListener(type: string, fn: () => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  removeEventListener() {}
  fire(type = 'scroll') {
    for (const f of this.listeners.get(type) ?? []) f();
  }
}

function table(total: number, rowH: number, viewH: number) {
  const g = scrollGeometry(total, rowH, viewH, MAX_SCROLL_PX);
  const el = new FakeElement(viewH, g.spacerH);
  const s = new VirtualScrollElement(el as unknown as HTMLElement);
  s.setGeometry(g, false);
  const v = new Virtualizer<HTMLElement, HTMLDivElement>({
    count: SLAB_ROWS,
    getScrollElement: () => s as unknown as HTMLElement,
    estimateSize: () => rowH,
    overscan: 0,
    initialRect: { width: 800, height: viewH },
    observeElementRect: (_i, cb) => cb({ width: 800, height: viewH }),
    observeElementOffset: observeOffset,
    scrollToFn: scrollTo,
  });
  v._willUpdate();
  /** The rows drawn (below total), each with its top in the real content. */
  const drawn = () => {
    const items = tableRows(v, s);
    const top = realTop(s.targetReal(), s.virt, items[0].start);
    return items.map((it, k) => ({ index: it.index, top: top + k * rowH }));
  };
  return { g, el, s, v, drawn };
}

/** The drawn rows cover the viewport [real, real + viewH] with consecutive rows. */
function expectCovers(rows: { index: number; top: number }[], real: number, viewH: number, rowH: number) {
  for (let k = 1; k < rows.length; k++) expect(rows[k].index).toBe(rows[k - 1].index + 1);
  expect(rows[0].top).toBeLessThanOrEqual(real + 1e-6);
  expect(rows[rows.length - 1].top + rowH).toBeGreaterThanOrEqual(real + viewH - 1e-6);
}

describe('TanStack Virtual through the stand-in scroll element', () => {
  const total = 1_048_576;
  const rowH = 24;
  const viewH = 437;

  it('reaches the last and the first row by index, past the height limit', async () => {
    const { g, el, s, v, drawn } = table(total, rowH, viewH);
    expect(g.scaled).toBe(true);
    scrollToRow(v, s, total - 1, 'end');
    expect(el.scrollTop).toBe(Math.round(g.realMax));
    el.fire();
    expect(v.scrollOffset).toBe(s.rel);
    expect(s.virt).toBe(g.virtMax);
    let rows = drawn();
    expect(rows[rows.length - 1].index).toBe(total - 1);
    // Flush with the bottom of the real content: no row cut off, no gap below.
    expect(rows[rows.length - 1].top + rowH).toBeCloseTo(g.spacerH, 6);
    expectCovers(rows, el.scrollTop, viewH, rowH);

    scrollToRow(v, s, 0, 'start');
    el.fire();
    rows = drawn();
    expect(s.virt).toBe(0);
    expect(rows[0]).toEqual({ index: 0, top: 0 });
    expectCovers(rows, 0, viewH, rowH);
  });

  it('maps a user scroll (a dragged scrollbar) to the proportional rows, with no gap or overlap', () => {
    const { g, el, v, drawn } = table(total, rowH, viewH);
    for (const f of [0, 0.25, 0.5, 0.999, 1]) {
      el.scrollTop = f * g.realMax;
      el.fire();
      const s = v.scrollElement as unknown as VirtualScrollElement;
      expect(s.virt).toBeCloseTo(toVirtual(g, el.scrollTop), 6);
      // The library's offset is from the slab's first row, and the slab holds the view.
      expect(v.scrollOffset).toBeCloseTo(s.virt - s.base * rowH, 6);
      expect(s.base).toBeLessThanOrEqual(Math.floor(s.virt / rowH));
      expect(s.base + SLAB_ROWS).toBeGreaterThanOrEqual(Math.ceil((s.virt + viewH) / rowH));
      const rows = drawn();
      expectCovers(rows, el.scrollTop, viewH, rowH);
      const expectFirst = Math.floor(toVirtual(g, el.scrollTop) / rowH);
      expect(rows[0].index).toBe(expectFirst);
    }
    // At the bottom the last row shows.
    expect(drawn().at(-1)!.index).toBe(total - 1);
  });

  it('slides its slab as the view is scrolled step by step, with no jump at the slide', () => {
    const { el, s, v, drawn } = table(20_000, rowH, viewH);
    const seen = new Set<number>();
    let prevFirst = -1;
    for (let top = 0; top < 20_000 * rowH - viewH; top += 1237) {
      el.scrollTop = top;
      el.fire();
      seen.add(s.base);
      const rows = drawn();
      expectCovers(rows, el.scrollTop, viewH, rowH);
      expect(rows[0].index).toBe(Math.floor(top / rowH));
      expect(rows[0].index).toBeGreaterThan(prevFirst);
      prevFirst = rows[0].index;
    }
    // The slab slid several times, and the library's count never changed.
    expect(seen.size).toBeGreaterThan(3);
    expect(v.options.count).toBe(SLAB_ROWS);
  });

  it('centres a selected row that is not in view, in either space', () => {
    for (const n of [2000, total]) {
      const { el, s, v, drawn } = table(n, rowH, viewH);
      const target = Math.floor(n * 0.7);
      scrollToRow(v, s, target, 'center');
      el.fire();
      const rows = drawn();
      const row = rows.find((r) => r.index === target)!;
      expect(row).toBeDefined();
      expect(row.top).toBeGreaterThanOrEqual(el.scrollTop);
      expect(row.top + rowH).toBeLessThanOrEqual(el.scrollTop + viewH);
    }
  });

  it('keeps the tail in view when following, and the same row when the row height changes', () => {
    const { el, s, drawn } = table(total, rowH, viewH);
    s.setGeometry(scrollGeometry(total, rowH, viewH, MAX_SCROLL_PX), true);
    s.syncElement();
    el.fire();
    const g = scrollGeometry(total, rowH, viewH, MAX_SCROLL_PX);
    expect(s.virt).toBe(g.virtMax);
    expect(el.scrollTop).toBe(Math.round(g.realMax));
    expect(drawn().at(-1)!.index).toBe(total - 1);
    // The row at the top stays when rows grow from 24 to 32 px (classroom mode).
    el.scrollTop = 1_000_000;
    el.fire();
    const topBefore = Math.floor(s.virt / rowH);
    s.setGeometry(scrollGeometry(total, 32, viewH, MAX_SCROLL_PX), false);
    expect(Math.floor(s.virt / 32)).toBe(topBefore);
    expect(drawn().length).toBeGreaterThan(0);
  });
});
