/**
 * The x87 environment and state images: FNSTENV/FLDENV, FNSAVE/FRSTOR (SDM Vol.1 §8.1.10) and
 * FXSAVE/FXRSTOR (SDM Vol.2 FXSAVE, Table 3-53), in 16- and 32-bit, real and protected formats.
 */
import { CR0_PE, VM } from '../constants.ts';
import type { CpuCore } from '../core.ts';
import { rd80, wr80 } from './exec-util.ts';
import type { F80 } from './f80.ts';
import type { Fpu } from './fpu.ts';

/** FNSTENV/FNSAVE image of the environment (SDM Vol.1 §8.1.10, Figures 8-9 … 8-12). */
export function storeEnv(c: CpuCore, f: Fpu, size: number): void {
  const s = c.eaSeg;
  const o = c.eaOff;
  const w = (k: number, v: number) =>
    size === 28 ? c.wr32(s, c.wideOff(k * 4), v) : c.wr16(s, c.wideOff(k * 2), v);
  const pm = (c.cr0 & CR0_PE) !== 0 && (c.flags & VM) === 0;
  w(0, f.cw | (size === 28 ? 0xffff0000 : 0));
  w(1, f.statusWord | (size === 28 ? 0xffff0000 : 0));
  w(2, f.tagWord | (size === 28 ? 0xffff0000 : 0));
  if (pm) {
    w(3, f.fip);
    w(4, size === 28 ? f.fcs | ((f.fop & 0x7ff) << 16) : f.fcs);
    w(5, f.fdp);
    w(6, f.fds | (size === 28 ? 0xffff0000 : 0));
  } else {
    // Real/V86 format: 20-bit linear pointers (32-bit layout: 32 bits wide, reserved bits 1s).
    const ip = (f.fcs * 16 + f.fip) >>> 0;
    const dp = (f.fds * 16 + f.fdp) >>> 0;
    if (size === 28) {
      w(3, (ip & 0xffff) | 0xffff0000);
      w(4, ((ip >>> 16) << 12) | (f.fop & 0x7ff));
      w(5, (dp & 0xffff) | 0xffff0000);
      w(6, (dp >>> 16) << 12);
    } else {
      w(3, ip & 0xffff);
      w(4, (((ip >>> 16) & 0xf) << 12) | (f.fop & 0x7ff));
      w(5, dp & 0xffff);
      w(6, ((dp >>> 16) & 0xf) << 12);
    }
  }
  void o;
}

export function loadEnv(c: CpuCore, f: Fpu, size: number): void {
  const s = c.eaSeg;
  const r = (k: number) => (size === 28 ? c.rd32(s, c.wideOff(k * 4)) : c.rd16(s, c.wideOff(k * 2)));
  const pm = (c.cr0 & CR0_PE) !== 0 && (c.flags & VM) === 0;
  const cw = r(0) & 0xffff;
  const sw = r(1) & 0xffff;
  const tw = r(2) & 0xffff;
  const a = r(3) >>> 0;
  const b = r(4) >>> 0;
  const d = r(5) >>> 0;
  const e = r(6) >>> 0;
  f.cw = cw | 0x40;
  f.statusWord = sw;
  f.tagWord = tw;
  if (pm) {
    f.fip = a;
    f.fcs = b & 0xffff;
    f.fop = size === 28 ? (b >>> 16) & 0x7ff : 0;
    f.fdp = d;
    f.fds = e & 0xffff;
  } else {
    f.fcs = 0;
    f.fds = 0;
    f.fip = size === 28 ? (a & 0xffff) | ((b >>> 12) << 16) : (a & 0xffff) | (((b >>> 12) & 0xf) << 16);
    f.fop = b & 0x7ff;
    f.fdp = size === 28 ? (d & 0xffff) | ((e >>> 12) << 16) : (d & 0xffff) | (((e >>> 12) & 0xf) << 16);
  }
  f.updateSummary();
}

/** Registers ST(0)..ST(7) in an FSAVE/FRSTOR image start after the environment. */
export function saveRegs(c: CpuCore, f: Fpu, base: number, stride: number): void {
  for (let i = 0; i < 8; i++) wr80(c, c.wideOff(base + i * stride), f.get(i));
}

function fxsave(c: CpuCore, f: Fpu): void {
  const s = c.eaSeg;
  if (((c.segBase[s] + c.eaOff) & 15) !== 0) c.gp(0);
  c.probeWrite(s, c.eaOff, 512);
  const o = (k: number) => c.wideOff(k);
  c.wr16(s, o(0), f.cw);
  c.wr16(s, o(2), f.statusWord);
  c.wr8(s, o(4), f.abridgedTag);
  c.wr8(s, o(5), 0);
  c.wr16(s, o(6), f.fop & 0x7ff);
  c.wr32(s, o(8), f.fip);
  c.wr32(s, o(12), f.fcs);
  c.wr32(s, o(16), f.fdp);
  c.wr32(s, o(20), f.fds);
  c.wr32(s, o(24), 0x1f80); // MXCSR (no SSE: its reset value)
  c.wr32(s, o(28), 0); // MXCSR_MASK 0: the processor does not report one (SDM Vol.1 §11.6.6)
  for (let i = 0; i < 8; i++) {
    wr80(c, o(32 + 16 * i), f.get(i));
    c.wr16(s, o(42 + 16 * i), 0);
    c.wr32(s, o(44 + 16 * i), 0);
  }
}

function fxrstor(c: CpuCore, f: Fpu): void {
  const s = c.eaSeg;
  if (((c.segBase[s] + c.eaOff) & 15) !== 0) c.gp(0);
  c.checkWide(512);
  const o = (k: number) => c.wideOff(k);
  const regs: F80[] = [];
  for (let i = 0; i < 8; i++) regs.push(rd80(c, o(32 + 16 * i)));
  f.cw = c.rd16(s, o(0)) | 0x40;
  f.statusWord = c.rd16(s, o(2));
  const tag = c.rd8(s, o(4));
  f.fop = c.rd16(s, o(6)) & 0x7ff;
  f.fip = c.rd32(s, o(8));
  f.fcs = c.rd16(s, o(12));
  f.fdp = c.rd32(s, o(16));
  f.fds = c.rd16(s, o(20));
  for (let i = 0; i < 8; i++) f.set(i, regs[i]);
  f.abridgedTag = tag;
  f.updateSummary();
}

/** 0F AE /0 FXSAVE and /1 FXRSTOR (CPUID.FXSR). */
export function fxsaveOp(c: CpuCore, f: Fpu, restore: boolean): void {
  if (restore) fxrstor(c, f);
  else fxsave(c, f);
}
