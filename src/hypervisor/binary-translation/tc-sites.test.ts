/**
 * The TC's callout-site index (SiteTable): two TC offsets share a slot, only the exact offset of a
 * site finds it (a one-byte TC instruction may sit right before an `int 0xBB`), and a flush forgets all.
 */
import { describe, expect, it } from 'vitest';
import { Co } from './classify.ts';
import { type Site, SiteTable, type Unit } from './tc.ts';

const site = (guestEip: number): Site => ({
  co: Co.Exit,
  op: 0,
  guestEip,
  len: 0,
  resume: 0,
  ends: true,
  bytes: new Uint8Array(0),
  unit: {} as Unit,
  exit: null,
  count: 0,
});

describe('SiteTable', () => {
  it('finds a site only at its own TC offset', () => {
    const t = new SiteTable(4096);
    const a = site(0x1000);
    const b = site(0x2000);
    t.set(0x11, a); // odd: the slot of 0x10 and 0x11
    t.set(0x20, b);
    expect(t.get(0x11)).toBe(a);
    expect(t.get(0x10)).toBeUndefined(); // a one-byte instruction before the site
    expect(t.get(0x20)).toBe(b);
    expect(t.get(0x21)).toBeUndefined();
    expect(t.get(0x4000)).toBeUndefined(); // beyond the TC
    expect([...t.values()]).toEqual([a, b]);
    const c = site(0x3000);
    t.set(0x20, c); // the same offset again replaces it
    expect(t.get(0x20)).toBe(c);
    expect(t.size).toBe(2);
  });

  it('grows past its first capacity and forgets everything on clear', () => {
    const t = new SiteTable(1 << 20);
    const all = Array.from({ length: 10_000 }, (_, i) => site(i));
    for (let i = 0; i < all.length; i++) t.set(i * 2 + 6, all[i]);
    expect(t.get(6)).toBe(all[0]);
    expect(t.get(9_999 * 2 + 6)).toBe(all[9_999]);
    t.clear();
    expect(t.get(6)).toBeUndefined();
    expect(t.size).toBe(0);
  });

  it("finds sites on both sides of an index chunk boundary and at the TC's last slot", () => {
    const t = new SiteTable(1 << 20);
    const at = [0x1ffe, 0x1fff, 0x2000, 0x2001, 0x4000, (1 << 20) - 2];
    const sites = at.map((off) => site(off));
    // 0x1ffe and 0x1fff share a slot: the later set wins the slot, the earlier one is no longer found.
    for (let i = 0; i < at.length; i++) t.set(at[i]!, sites[i]!);
    expect(t.get(0x1ffe)).toBeUndefined();
    expect(t.get(0x1fff)).toBe(sites[1]);
    expect(t.get(0x2000)).toBeUndefined();
    expect(t.get(0x2001)).toBe(sites[3]);
    expect(t.get(0x4000)).toBe(sites[4]);
    expect(t.get((1 << 20) - 2)).toBe(sites[5]);
    expect(t.get(0x6000)).toBeUndefined(); // a chunk never written
    expect(t.get(1 << 20)).toBeUndefined(); // past the TC
    t.clear();
    expect(at.map((off) => t.get(off))).toEqual(at.map(() => undefined));
  });
});
