/**
 * The silent-event observer (SilentKind): every POPF/IRET whose IF bit is ignored, and Robin &
 * Irvine's sensitive-but-unprivileged reads at CPL > 0 (reference/virtualization.md §2). Nothing
 * is reported at CPL 0, where the instructions reveal nothing a deprivileged guest could misread.
 */
import { describe, expect, it } from 'vitest';
import { SilentKind } from './base.ts';
import { CODE, DATA, GDT, IDT, pmEnv, stubVector } from './test/env.ts';

const le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const INT80 = [0xcd, 0x80];

type Seen = [SilentKind, number, number, number, number];

/** Assemble instruction byte arrays; returns the code and each instruction's address. */
function program(insns: number[][]): { code: number[]; at: number[] } {
  const code: number[] = [];
  const at: number[] = [];
  for (const i of insns) {
    at.push(CODE + code.length);
    code.push(...i);
  }
  return { code, at };
}

describe('silent-event observer: ignored IF bits', () => {
  it('reports every POPF at CPL > IOPL, even when the image IF equals the real IF', () => {
    // IF is 0; push 0x002 (IF=0); popf — nothing would change, the IF bit is still ignored.
    const p = program([[0x68, ...le(0x002)], [0x9d], INT80]);
    const { cpu } = pmEnv(p.code, { cpl: 3 });
    const seen: Seen[] = [];
    cpu.observer = (k, eip, cpl, v, x) => seen.push([k, eip, cpl, v, x]);
    cpu.run(100);
    expect(stubVector(cpu)).toBe(0x80);
    expect(seen).toEqual([[SilentKind.PopfIfDropped, p.at[1], 3, 0x002, 0]]);
  });

  it('reports every IRET at CPL > IOPL with the attempted image', () => {
    const target = CODE + 13;
    const p = program([[0x68, ...le(0x002)], [0x6a, 0x1b], [0x68, ...le(target)], [0xcf], INT80]);
    const { cpu } = pmEnv(p.code, { cpl: 3 });
    const seen: Seen[] = [];
    cpu.observer = (k, eip, cpl, v, x) => seen.push([k, eip, cpl, v, x]);
    cpu.run(100);
    expect(stubVector(cpu)).toBe(0x80);
    expect(seen).toEqual([[SilentKind.IretIfDropped, p.at[3], 3, 0x002, 3]]);
  });

  it('reports nothing for POPF/IRET at CPL 0, where IF is loaded', () => {
    const target = CODE + 13;
    const { cpu } = pmEnv([0x68, ...le(0x002), 0x6a, 0x08, 0x68, ...le(target), 0xcf, 0x9c, 0x9d, 0xf4]);
    const seen: Seen[] = [];
    cpu.observer = (k, eip, cpl, v, x) => seen.push([k, eip, cpl, v, x]);
    cpu.run(100);
    expect(cpu.halted).toBe(true);
    expect(seen).toEqual([]);
  });
});

describe('silent-event observer: sensitive reads (Robin & Irvine)', () => {
  const insns = [
    [0x0e], // push cs
    [0x58], // pop eax
    [0x16], // push ss
    [0x58], // pop eax
    [0x8c, 0xcb], // mov ebx, cs
    [0x8c, 0xd9], // mov ecx, ds (reveals nothing: no event)
    [0x0f, 0x01, 0x05, ...le(DATA)], // sgdt [DATA]
    [0x0f, 0x01, 0x0d, ...le(DATA + 8)], // sidt [DATA+8]
    [0x0f, 0x00, 0xc1], // sldt ecx
    [0x0f, 0x00, 0xcb], // str ebx
    [0x0f, 0x01, 0xe0], // smsw eax
    [0xb8, ...le(0x10)], // mov eax, 0x10 (DPL 0 data)
    [0x0f, 0x00, 0xe0], // verr ax
    [0x0f, 0x00, 0xe8], // verw ax
    [0x0f, 0x02, 0xc8], // lar ecx, eax
    [0xb8, ...le(0x23)], // mov eax, 0x23 (DPL 3 data)
    [0x0f, 0x03, 0xc8], // lsl ecx, eax
    [0x9c], // pushf
    [0x58], // pop eax
    INT80,
  ];

  it('reports each at CPL 3 with the value the program got', () => {
    const p = program(insns);
    const { cpu } = pmEnv(p.code, { cpl: 3 });
    const seen: Seen[] = [];
    cpu.observer = (k, eip, cpl, v, x) => seen.push([k, eip, cpl, v, x]);
    const cr0 = cpu.cr0;
    cpu.run(200);
    expect(stubVector(cpu)).toBe(0x80);
    const flags = cpu.regs[0] >>> 0; // what PUSHF pushed
    expect(seen).toEqual([
      [SilentKind.SegmentRead, p.at[0], 3, 0x1b, 0],
      [SilentKind.SegmentRead, p.at[2], 3, 0x23, 0],
      [SilentKind.SegmentRead, p.at[4], 3, 0x1b, 0],
      [SilentKind.TableRead, p.at[6], 3, GDT, 0x37],
      [SilentKind.TableRead, p.at[7], 3, IDT, 0x7ff],
      [SilentKind.SelectorRead, p.at[8], 3, cpu.segSel[6], 0],
      [SilentKind.SelectorRead, p.at[9], 3, 0x28, 0],
      [SilentKind.MswRead, p.at[10], 3, cr0 >>> 0, 0],
      [SilentKind.DescriptorCheck, p.at[12], 3, 0x10, 0],
      [SilentKind.DescriptorCheck, p.at[13], 3, 0x10, 0],
      [SilentKind.DescriptorCheck, p.at[14], 3, 0x10, 0],
      [SilentKind.DescriptorCheck, p.at[16], 3, 0x23, 1],
      [SilentKind.FlagsRead, p.at[17], 3, flags, 0],
    ]);
  });

  it('reports none of them at CPL 0', () => {
    const p = program(insns);
    const { cpu } = pmEnv(p.code);
    const seen: Seen[] = [];
    cpu.observer = (k, eip, cpl, v, x) => seen.push([k, eip, cpl, v, x]);
    cpu.run(200);
    expect(stubVector(cpu)).toBe(0x80);
    expect(seen).toEqual([]);
  });

  it('changes nothing architecturally when an observer is attached', () => {
    const p = program(insns);
    const a = pmEnv(p.code, { cpl: 3 });
    const b = pmEnv(p.code, { cpl: 3 });
    b.cpu.observer = () => {};
    a.cpu.run(200);
    b.cpu.run(200);
    expect(Array.from(b.cpu.regs)).toEqual(Array.from(a.cpu.regs));
    expect(b.cpu.getEflags()).toBe(a.cpu.getEflags());
    expect(b.dv.getUint32(DATA + 2, true)).toBe(GDT);
  });
});
