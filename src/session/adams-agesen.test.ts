/**
 * Adams & Agesen (ASPLOS 2006) reproduced: minikernel's own `bench` under every technique with each
 * CPU-generation preset. Asserts the paper's qualitative findings with the Pentium 4 preset, that
 * the `?view=adams-agesen` page's data file is what these runs give today, and that without a
 * preset the guest's TSC still counts instructions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../hypervisor/trap-and-emulate/test-guests.ts';
import { CPU_MODELS, type CpuModelId } from '../hypervisor/vmm/cost-model.ts';
import {
  AA_BENCHMARKS,
  AA_COLUMNS,
  type AaBenchmark,
  type AaColumnId,
  type AaKernels,
  type AaRun,
  parseBenchLine,
  runAaColumn,
} from './adams-agesen.ts';

const kernels: AaKernels = {
  minikernel: new Uint8Array(readFileSync(join(ROOT, 'guests/minikernel/minikernel.elf'))),
  'minikernel-pv': new Uint8Array(readFileSync(join(ROOT, 'guests/minikernel/minikernel-pv.elf'))),
};

const runs = new Map<CpuModelId, AaRun[]>();

beforeAll(() => {
  for (const m of CPU_MODELS)
    runs.set(
      m,
      AA_COLUMNS.map((c) => runAaColumn(c, m, kernels)),
    );
}, 900_000);

function col(m: CpuModelId, id: AaColumnId): AaRun {
  const r = runs.get(m)?.find((x) => x.column === id);
  if (!r) throw new Error(`no ${id} run for ${m}`);
  return r;
}
const cycles = (m: CpuModelId, id: AaColumnId, b: AaBenchmark): number => {
  const v = col(m, id).results[b]?.cyclesPerOp;
  if (v === undefined || v === null) throw new Error(`${id} printed no cycles for ${b} (${m})`);
  return v;
};

describe('Adams & Agesen nanobenchmarks, Pentium 4 preset', () => {
  it('every technique but trap-and-emulate boots minikernel and prints all seven benchmarks', () => {
    for (const c of AA_COLUMNS) {
      const r = col('p4', c.id);
      if (c.id === 'trap-and-emulate') {
        // Robin & Irvine's POPF: the guest re-enables interrupts without a trap and halts forever.
        expect(r.status).toBe('failed');
        expect(r.reason).toMatch(/POPF/);
        continue;
      }
      expect(r.status, r.reason).toBe('ok');
      for (const b of AA_BENCHMARKS) expect(cycles('p4', c.id, b)).toBeGreaterThan(0);
    }
  });

  it('VT-x runs syscall and divzero at native speed (no exit: the guest handles them at ring 0)', () => {
    for (const b of ['syscall', 'divzero'] as const) {
      const native = cycles('p4', 'native', b);
      for (const v of ['vtx-shadow', 'vtx-ept'] as const) {
        expect(cycles('p4', v, b)).toBeLessThan(native * 1.1);
        expect(col('p4', v).results[b]?.exitsPerOp).toBeLessThan(0.2);
      }
      // …while binary translation pays a reflected trap plus an IRET callout.
      expect(cycles('p4', 'binary-translation', b)).toBeGreaterThan(native * 1.5);
    }
  });

  it('VT-x (first generation, shadow paging) is the slowest on in, pgfault and ptemod', () => {
    for (const b of ['in', 'pgfault', 'ptemod'] as const) {
      const vtx = cycles('p4', 'vtx-shadow', b);
      for (const other of ['native', 'binary-translation', 'paravirtual'] as const)
        expect(vtx, `${b}: VT-x vs ${other}`).toBeGreaterThan(cycles('p4', other, b));
      expect(col('p4', 'vtx-shadow').results[b]?.exitsPerOp).toBeGreaterThanOrEqual(1);
    }
  });

  it('binary translation is the slowest on call/ret (its inline RET lookup)', () => {
    const bt = cycles('p4', 'binary-translation', 'call/ret');
    for (const other of ['native', 'vtx-shadow', 'vtx-ept', 'paravirtual'] as const)
      expect(bt).toBeGreaterThan(cycles('p4', other, 'call/ret'));
    // No VMM record per call: the lookup runs inside the translation cache.
    expect(col('p4', 'binary-translation').results['call/ret']?.recordsPerOp).toBeLessThan(0.1);
  });

  it('EPT removes the ptemod exits (and the pgfault ones): native cost again', () => {
    const shadow = col('p4', 'vtx-shadow').results;
    const ept = col('p4', 'vtx-ept').results;
    for (const b of ['ptemod', 'pgfault'] as const) {
      expect(shadow[b]?.exitsPerOp).toBeGreaterThanOrEqual(1);
      expect(ept[b]?.exitsPerOp).toBeLessThan(0.2);
      expect(cycles('p4', 'vtx-ept', b)).toBeLessThan(cycles('p4', 'native', b) * 1.1);
    }
  });

  it('the modelled VT-x in matches the paper; native divzero and pgfault are near its native column', () => {
    expect(Math.abs(cycles('p4', 'vtx-shadow', 'in') - 15_826) / 15_826).toBeLessThan(0.05);
    expect(Math.abs(cycles('p4', 'native', 'divzero') - 889) / 889).toBeLessThan(0.1);
    expect(Math.abs(cycles('p4', 'native', 'pgfault') - 1_093) / 1_093).toBeLessThan(0.1);
  });
});

describe('CPU generations', () => {
  it('exits get cheaper from the Pentium 4 to Nehalem to a modern part', () => {
    for (const b of ['in', 'pgfault', 'ptemod'] as const) {
      expect(cycles('nehalem', 'vtx-shadow', b)).toBeLessThan(cycles('p4', 'vtx-shadow', b));
      expect(cycles('modern', 'vtx-shadow', b)).toBeLessThan(cycles('nehalem', 'vtx-shadow', b));
    }
  });

  it("the page's data file is what these runs give today (regenerate: npm run aa-data)", () => {
    const doc = JSON.parse(readFileSync(join(ROOT, 'src/ui/adams-agesen/aa-data.json'), 'utf8')) as {
      presets: Record<string, { runs: AaRun[] }>;
    };
    for (const m of CPU_MODELS) expect(doc.presets[m]?.runs, `preset ${m}`).toEqual(runs.get(m));
  });
});

describe('without a preset', () => {
  it('the TSC counts instructions, as before presets existed', () => {
    const r = runAaColumn(AA_COLUMNS[0], undefined, kernels, ['divzero', 'in']);
    expect(r.status).toBe('ok');
    // A #DE round trip is a few dozen instructions; one IN is one.
    expect(r.results.divzero?.cyclesPerOp).toBeLessThan(100);
    expect(r.results.in?.cyclesPerOp).toBeLessThan(10);
  });

  it('parses the guest lines, failures included', () => {
    expect(parseBenchLine('  divzero        852.0 cycles/op  (1000 ops: div by 0)')).toEqual({
      name: 'divzero',
      cyclesPerOp: 852,
      ops: 1000,
    });
    expect(parseBenchLine('  in        failed (-1)')).toEqual({ name: 'in', cyclesPerOp: null, ops: 0 });
    expect(parseBenchLine('mini$ ')).toBeNull();
  });
});
