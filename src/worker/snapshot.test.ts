import { describe, expect, it } from 'vitest';
import { toCpuView, toRegSnapshot } from './snapshot.ts';

const seg = (selector: number, base: number, limit: number, access: number) => ({
  selector,
  base,
  limit,
  access,
});

/** Shaped like src/session/types.ts CpuSnapshot. */
function snapshot(over: Record<string, unknown> = {}) {
  return {
    eax: 0x2badb002,
    ecx: 1,
    edx: 2,
    ebx: 0x9500,
    esp: 0x7000,
    ebp: 0,
    esi: 3,
    edi: 4,
    eip: 0x100010,
    eflags: 0x202,
    cpl: 0,
    mode: 'protected',
    cr0: 0x11,
    cr2: 0,
    cr3: 0x1000,
    cr4: 0,
    es: seg(0x18, 0, 0xffffffff, 0xcf93),
    cs: seg(0x10, 0, 0xffffffff, 0xcf9b),
    ss: seg(0x18, 0, 0xffffffff, 0xcf93),
    ds: seg(0x18, 0, 0xffffffff, 0xcf93),
    fs: seg(0, 0, 0, 0x10000),
    gs: seg(0x18, 0, 0xffffffff, 0xcf93),
    ldtr: seg(0, 0, 0xffff, 0x82),
    tr: seg(0x28, 0x5000, 0x67, 0x8b),
    gdtr: { base: 0x9000, limit: 0x2f },
    idtr: { base: 0, limit: 0x3ff },
    dr: [0, 0, 0, 0, 0, 0, 0x400],
    halted: false,
    instructions: 42,
    vm: 0,
    ...over,
  };
}

describe('toRegSnapshot', () => {
  it('converts the session CpuSnapshot: registers, descriptor caches, control registers', () => {
    const r = toRegSnapshot(snapshot())!;
    expect(r.virtual).toBeUndefined();
    expect(r.real.gpr).toEqual({
      eax: 0x2badb002,
      ebx: 0x9500,
      ecx: 1,
      edx: 2,
      esi: 3,
      edi: 4,
      ebp: 0,
      esp: 0x7000,
    });
    expect(r.real.eip).toBe(0x100010);
    expect(r.real.mode).toBe('protected');
    const cs = r.real.segs.find((s) => s.name === 'cs')!;
    // The limit 19:16 nibble (bits 8–11 of the access field) is not an attribute.
    expect(cs).toEqual({
      name: 'cs',
      selector: 0x10,
      base: 0,
      limit: 0xffffffff,
      attrs: 0xc09b,
      valid: true,
    });
    expect(r.real.segs.find((s) => s.name === 'fs')!.valid).toBe(false);
    expect(r.real.cr).toEqual({ cr0: 0x11, cr2: 0, cr3: 0x1000, cr4: 0 });
    expect(r.real.gdtr).toEqual({ base: 0x9000, limit: 0x2f });
    expect(r.real.tr).toBe(0x28);
  });

  it('puts the VMM-reported virtual CPU beside the real one', () => {
    const r = toRegSnapshot(snapshot({ cpl: 1, vm: 2, virtual: snapshot({ cpl: 0, eflags: 0x2, vm: 2 }) }))!;
    expect(r.vm).toBe(2);
    expect(r.real.cpl).toBe(1);
    expect(r.real.eflags & 0x200).toBe(0x200);
    expect(r.virtual?.cpl).toBe(0);
    expect(r.virtual!.eflags & 0x200).toBe(0);
    expect(r.virtual?.label).toBe('VM 2 virtual CPU');
  });

  it('also reads a CPU state with register arrays (encoding order)', () => {
    const v = toCpuView(
      {
        regs: Int32Array.from([1, 2, 3, 4, 5, 6, 7, -1]),
        eip: 9,
        flags: 2,
        cr0: 0,
        segSel: [0, 0xf000, 0, 0, 0, 0, 0, 0],
      },
      'x',
    )!;
    expect(v.gpr).toMatchObject({ eax: 1, ecx: 2, edx: 3, ebx: 4, esp: 5, ebp: 6, esi: 7, edi: 0xffffffff });
    expect(v.mode).toBe('real');
    expect(v.segs[1]).toMatchObject({ name: 'cs', selector: 0xf000 });
  });

  it('returns null for something that is not a snapshot', () => {
    expect(toRegSnapshot(null)).toBeNull();
    expect(toRegSnapshot(7)).toBeNull();
  });
});
