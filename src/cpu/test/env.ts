/**
 * A protected-mode test environment built in RAM: GDT (08 code0, 10 data0, 1B code3, 23 data3,
 * 28 TSS, 30 code16), an IDT whose gates all point at per-vector HLT stubs, a TSS with ESP0, and an
 * optional identity page table. Code runs at CODE; tests hand-encode instruction bytes.
 */
import type { Cpu } from '../cpu.ts';
import { CpuSeg } from '../segments.ts';
import { makeCpu, type TestBus } from './harness.ts';

export const GDT = 0x500;
export const IDT = 0x800;
export const TSS = 0x1000;
export const STUBS = 0x2000; // vector v: HLT at STUBS + v
export const PD = 0x10000;
export const PT = 0x11000;
export const CODE = 0x20000;
export const DATA = 0x30000;

function desc(dv: DataView, sel: number, base: number, limit: number, access: number, flags: number): void {
  const a = GDT + (sel & ~7);
  dv.setUint16(a, limit & 0xffff, true);
  dv.setUint16(a + 2, base & 0xffff, true);
  dv.setUint8(a + 4, (base >>> 16) & 0xff);
  dv.setUint8(a + 5, access);
  dv.setUint8(a + 6, ((limit >>> 16) & 0xf) | flags);
  dv.setUint8(a + 7, base >>> 24);
}

export interface Env {
  cpu: Cpu;
  bus: TestBus;
  dv: DataView;
}

export interface EnvOptions {
  cpl?: number;
  iopl?: number;
  paging?: boolean;
  /** IDT gate DPL (default 3 so INT n works from ring 3). */
  gateDpl?: number;
}

export function pmEnv(code: number[], o: EnvOptions = {}): Env {
  const { cpu, bus } = makeCpu(4 << 20);
  const ram = bus.ram;
  const dv = new DataView(ram.buffer);
  desc(dv, 0x08, 0, 0xfffff, 0x9a, 0xc0);
  desc(dv, 0x10, 0, 0xfffff, 0x92, 0xc0);
  desc(dv, 0x18, 0, 0xfffff, 0xfa, 0xc0);
  desc(dv, 0x20, 0, 0xfffff, 0xf2, 0xc0);
  desc(dv, 0x28, TSS, 0x67, 0x89, 0x00);
  desc(dv, 0x30, 0, 0xffff, 0x9a, 0x00);
  const gdpl = o.gateDpl ?? 3;
  for (let v = 0; v < 256; v++) {
    dv.setUint16(IDT + v * 8, (STUBS + v) & 0xffff, true);
    dv.setUint16(IDT + v * 8 + 2, 0x08, true);
    dv.setUint16(IDT + v * 8 + 4, 0x8e00 | (gdpl << 13), true);
    dv.setUint16(IDT + v * 8 + 6, (STUBS + v) >>> 16, true);
    ram[STUBS + v] = 0xf4;
  }
  dv.setUint32(TSS + 4, 0x9000, true);
  dv.setUint16(TSS + 8, 0x10, true);
  dv.setUint16(TSS + 0x66, 0x68, true);
  dv.setUint32(PD, PT | 7, true);
  for (let i = 0; i < 1024; i++) dv.setUint32(PT + i * 4, (i << 12) | 7, true);
  ram.set(code, CODE);
  cpu.enterProtectedFlat(CODE, { esp: 0x8000 });
  cpu.gdtBase = GDT;
  cpu.gdtLimit = 0x37;
  cpu.idtBase = IDT;
  cpu.idtLimit = 0x7ff;
  cpu.setSeg(7, 0x28, TSS, 0x67, 0x8b);
  cpu.setSeg(1, 0x08, 0, 0xffffffff, CpuSeg.flatAr(true, 0));
  for (const s of [0, 2, 3, 4, 5]) cpu.setSeg(s, 0x10, 0, 0xffffffff, CpuSeg.flatAr(false, 0));
  if (o.iopl) cpu.flags |= o.iopl << 12;
  if (o.cpl === 3) {
    cpu.setCpl(3);
    cpu.setSeg(1, 0x1b, 0, 0xffffffff, CpuSeg.flatAr(true, 3));
    for (const s of [0, 2, 3, 4, 5]) cpu.setSeg(s, 0x23, 0, 0xffffffff, CpuSeg.flatAr(false, 3));
  }
  if (o.paging) {
    cpu.cr3 = PD;
    cpu.cr0 |= 0x80000000;
    cpu.flushTlb(false);
  }
  return { cpu, bus, dv };
}

/** The vector whose HLT stub the CPU stopped in, or -1. */
export function stubVector(cpu: Cpu): number {
  const at = cpu.ip - 1 - STUBS;
  return cpu.halted && at >= 0 && at < 256 && cpu.segSel[1] === 0x08 ? at : -1;
}
