/**
 * Grouping repeated trap records: synthetic sequences pin the rules, and the real trapdemo under
 * trap-and-emulate (whose UART polling alternates "in 0x3FD, out 0x3F8") shows the table shrinking
 * while every record stays reachable, in order.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type TrapColumns, TrapKind } from '../hypervisor/vmm/trap-log.ts';
import { Session } from '../session/session.ts';
import { groupedTable, TrapGroups } from './trap-groups.ts';
import { TrapView } from './traps.ts';

/** One record per letter: the letter is its instruction site (EIP), everything else equal. */
function cols(sites: string): TrapColumns {
  const n = sites.length;
  const z = <T>(C: new (n: number) => T) => new C(n);
  const c = {
    start: 0,
    count: n,
    seq: z(Float64Array),
    timeNs: z(Float64Array),
    vm: z(Uint8Array),
    kind: z(Uint8Array),
    reason: z(Uint16Array),
    cs: z(Uint16Array),
    eip: z(Uint32Array),
    flags: z(Uint8Array),
  } as unknown as TrapColumns;
  for (let i = 0; i < n; i++) c.eip[i] = sites.charCodeAt(i);
  return c;
}

function segments(sites: string, lo = 0): string[] {
  const g = new TrapGroups(0);
  const c = cols(sites);
  for (let i = 0; i < c.count; i++) g.add(c, i);
  const out: string[] = [];
  for (let k = 0; k < g.count(lo); k++) {
    const s = g.segment(k, lo);
    out.push(s.period ? `${sites.slice(s.start, s.start + s.period)}×${s.len}` : sites[s.start]);
  }
  return out;
}

describe('TrapGroups', () => {
  it('groups a cycle of 1–4 records repeated at least three times, and nothing shorter', () => {
    expect(segments('xAAAAAy')).toEqual(['x', 'A×5', 'y']);
    expect(segments('ABABABABC')).toEqual(['AB×8', 'C']);
    expect(segments('ABCDABCDABCDE')).toEqual(['ABCD×12', 'E']);
    // Two repeats are not a group; five-record cycles are not looked for.
    expect(segments('ABAB')).toEqual(['A', 'B', 'A', 'B']);
    expect(segments('ABCDEABCDEABCDE')).toHaveLength(15);
    // A group ends mid-cycle where the pattern breaks; the next one starts fresh.
    expect(segments('ABABABACCCC')).toEqual(['AB×7', 'C×4']);
  });

  it('keeps ordinals stable when the oldest records are dropped (clips the first live group)', () => {
    expect(segments('xAAAAAy', 3)).toEqual(['A×3', 'y']);
    expect(segments('xAAAAAy', 6)).toEqual(['y']);
  });

  it('maps table rows through expanded groups', () => {
    const g = new TrapGroups(0);
    const c = cols('xAAAAAyBBBz');
    for (let i = 0; i < c.count; i++) g.add(c, i);
    // Segments: x, A×5, y, B×3, z.
    const t = groupedTable(g, 0, [3, 1]);
    expect(t.total).toBe(5 + 4 + 2);
    const rows = Array.from({ length: t.total }, (_, r) => t.at(r));
    expect(rows.map((r) => `${r.seg}.${r.off}`)).toEqual([
      '0.0',
      '1.0',
      '1.1',
      '1.2',
      '1.3',
      '1.4',
      '2.0',
      '3.0',
      '3.1',
      '3.2',
      '4.0',
    ]);
  });
});

describe('TrapView grouped slices (trapdemo under trap-and-emulate)', () => {
  const root = join(import.meta.dirname, '../..');
  const s = new Session({
    guest: {
      kind: 'kernel',
      kernel: new Uint8Array(readFileSync(join(root, 'guests/trapdemo/trapdemo.elf'))),
    },
    technique: 'trap-and-emulate',
    vms: 1,
    memMiB: 32,
    noReboot: true,
  });
  for (let i = 0; i < 100 && s.status.state === 'running'; i++) s.run(100_000);
  const view = new TrapView(s.traps);

  it('collapses the polling into a few rows, and every record is in exactly one of them', () => {
    const flat = view.slice(0, 1e9, {});
    const g = view.groupedSlice(0, 1e9, {}, []);
    expect(flat.total).toBeGreaterThan(2000);
    expect(g.total).toBeLessThan(flat.total / 10);
    // Rows' records, each group standing for `len` records from its first: the whole log, in order.
    let next = 0;
    let biggest = 0;
    for (let j = 0; j < g.total; j++) {
      expect(g.rows.index[j]).toBe(next);
      next += Math.max(1, g.groups.len[j]);
      biggest = Math.max(biggest, g.groups.len[j]);
    }
    expect(next).toBe(flat.total);
    // The UART polling: one group of in/out pairs, hundreds of records long.
    const j = g.groups.len.indexOf(biggest);
    expect(biggest).toBeGreaterThan(100);
    expect(g.groups.period[j]).toBe(2);
    expect(g.groups.cycle[j]).toMatch(/^port I\/O .* → port I\/O /);
  });

  it('an expanded group — one holding the selected record — lists its records one by one', () => {
    const g = view.groupedSlice(0, 1e9, {}, []);
    const j = g.groups.len.indexOf(Math.max(...g.groups.len));
    const first = g.rows.index[j];
    const len = g.groups.len[j];
    const inside = first + 7; // e.g. where a "Next trap" stopped
    const e = view.groupedSlice(0, 1e9, {}, [inside]);
    expect(e.total).toBe(g.total + len - 1);
    expect(e.groups.state[j]).toBe(1);
    for (let k = 1; k < len; k++) {
      expect(e.rows.index[j + k]).toBe(first + k);
      expect(e.groups.state[j + k]).toBe(2);
    }
    // Each member repeats the record one cycle before it.
    const flat = view.slice(first, first + len, {});
    const p = g.groups.period[j];
    for (let k = p; k < len; k++) {
      expect([flat.rows.kind[k], flat.rows.eip[k], flat.rows.reason[k]]).toEqual([
        flat.rows.kind[k - p],
        flat.rows.eip[k - p],
        flat.rows.reason[k - p],
      ]);
    }
  });

  it('groups within a filter too', () => {
    const io = view.slice(0, 1e9, { kinds: [TrapKind.PortIo] });
    const g = view.groupedSlice(0, 1e9, { kinds: [TrapKind.PortIo] }, []);
    let n = 0;
    for (let j = 0; j < g.total; j++) n += Math.max(1, g.groups.len[j]);
    expect(n).toBe(io.total);
    expect(g.total).toBeLessThan(io.total);
  });
});
