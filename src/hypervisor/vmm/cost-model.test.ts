/** The CPU-generation presets: no preset keeps the P4 tables the trap log always showed. */
import { describe, expect, it } from 'vitest';
import { VTX_COST, vtxCosts } from '../hardware-assisted/cost.ts';
import { PV_COST, pvCosts } from '../paravirtual/costs.ts';
import { COST, CPU_MODEL_PRESETS, CPU_MODELS, parseCpuModel, vmmCosts } from './cost-model.ts';

describe('cost-model presets', () => {
  it('without a preset the tables are the documented Pentium 4 figures (README: 1,069 … 6,000)', () => {
    expect([COST.simple, COST.register, COST.iret, COST.hiddenFault, COST.reflectPageFault]).toEqual([
      1_069, 1_159, 1_359, 1_989, 2_439,
    ]);
    expect([COST.portIo, COST.worldSwitch, COST.btCallout, COST.btLookup]).toEqual([3_209, 6_000, 150, 40]);
    expect([VTX_COST.exit, VTX_COST.exit + VTX_COST.portIo]).toEqual([2_600, 15_800]);
    expect(PV_COST.hypercall).toBe(949);
    expect(vmmCosts('p4')).toEqual(COST);
    expect(vtxCosts('p4')).toEqual(VTX_COST);
    expect(pvCosts('p4')).toEqual(PV_COST);
  });

  it('keeps the software VMM ordering in every generation, and exits get cheaper', () => {
    let lastExit = Number.POSITIVE_INFINITY;
    for (const m of CPU_MODELS) {
      const c = vmmCosts(m);
      expect(c.simple).toBeLessThan(c.register);
      expect(c.register).toBeLessThan(c.portIo);
      expect(c.hiddenFault).toBeLessThan(c.reflectPageFault);
      expect(c.btLookup).toBeLessThan(c.btCallout);
      expect(c.btCallout).toBeLessThan(c.simple);
      const p = CPU_MODEL_PRESETS[m];
      expect(p.trapRoundTrip).toBeGreaterThan(p.hw.event + p.hw.iret);
      expect(vtxCosts(m).exit).toBeLessThan(lastExit);
      lastExit = vtxCosts(m).exit;
    }
  });

  it('parses preset names only', () => {
    expect(parseCpuModel('modern')).toBe('modern');
    expect(parseCpuModel('pentium')).toBeNull();
    expect(parseCpuModel(4)).toBeNull();
  });
});
