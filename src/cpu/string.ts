/**
 * String instructions MOVS CMPS STOS LODS SCAS INS OUTS with REP/REPE/REPNE (SDM Vol.1 §7.3.9).
 * A long REP is split into chunks: after CHUNK iterations the instruction restarts (EIP stays),
 * so interrupts and the run budget are honoured; registers are always architecturally exact.
 * In VMX non-root operation with a monitor-trap-flag exit pending, a chunk is one iteration.
 */

import { CHK_EXPDOWN, CHK_FLAT_R, CHK_FLAT_W, CHK_R, CHK_UNUSABLE, CHK_W } from './access.ts';
import { DF, DS, ECX, EDI, ES, ESI } from './constants.ts';
import type { CpuCore } from './core.ts';
import { fastPaths } from './fastpaths.ts';
import { vmxIo, vmxRepChunk } from './vmx/nonroot.ts';

const CHUNK = 4096;

export { fastPaths };

/** Element size: byte forms have an even opcode. */
function sizeOf(c: CpuCore, b: number): number {
  return (b & 1) === 0 ? 1 : c.opsz32 ? 4 : 2;
}

/** Elements to do: ECX (CX with 16-bit addressing) under REP, else one. */
function countOf(c: CpuCore, a32: boolean): number {
  return c.rep ? (a32 ? c.regs[ECX] >>> 0 : c.r16[ECX << 1]) : 1;
}

/** Elements before the instruction restarts (EIP stays) so interrupts and the budget are seen. */
function chunkOf(c: CpuCore, n: number): number {
  return Math.min(n, c.rep !== 0 && c.vmxNonRoot ? vmxRepChunk(c, CHUNK) : CHUNK);
}

/** Index register `reg` (ESI/EDI) set to `v` in the address size. */
function setIndex(c: CpuCore, a32: boolean, reg: number, v: number): void {
  if (a32) c.regs[reg] = v | 0;
  else c.r16[reg << 1] = v;
}

/** REP MOVS/STOS may take the page-sized path (bulkRun). */
function bulkOk(c: CpuCore, a32: boolean, delta: number): boolean {
  const on = fastPaths.bulkStrings;
  const fwd = delta > 0;
  return c.rep !== 0 && on && a32 && fwd;
}

/** A bulk run of `k` elements done: registers as the element loop leaves them. */
function bulkDone(c: CpuCore, k: number, size: number, n: number, si: boolean): void {
  const r = c.regs;
  r[ECX] = n;
  if (si) r[ESI] = (r[ESI] + k * size) | 0;
  r[EDI] = (r[EDI] + k * size) | 0;
}

/** I/O permission once per INS/OUTS instruction, and a VMM's I/O exit. */
function ioCheck(c: CpuCore, b: number, size: number): void {
  c.checkIoPerm(c.r16[4], size);
  if (c.vmxNonRoot) vmxIo(c, c.r16[4], size, b <= 0x6d, true, c.rep !== 0, false);
}

function movs(c: CpuCore, b: number): void {
  const size = sizeOf(c, b);
  const a32 = c.adsz32;
  const src = c.segOv >= 0 ? c.segOv : DS;
  const delta = c.flags & DF ? -size : size;
  const rep = c.rep;
  let n = countOf(c, a32);
  if (n === 0) return;
  let chunk = chunkOf(c, n);
  const bulk = bulkOk(c, a32, delta);
  for (;;) {
    if (bulk) {
      const k = bulkRun(c, b, size, src, chunk);
      if (k > 0) {
        n -= k;
        chunk -= k;
        bulkDone(c, k, size, n, true);
        if (n === 0) return;
        if (chunk === 0) {
          c.ip = c.eip;
          return;
        }
        continue;
      }
    }
    const si = a32 ? c.regs[ESI] >>> 0 : c.r16[ESI << 1];
    const di = a32 ? c.regs[EDI] >>> 0 : c.r16[EDI << 1];
    if (size === 1) c.wr8(ES, di, c.rd8(src, si));
    else if (size === 4) c.wr32(ES, di, c.rd32(src, si));
    else c.wr16(ES, di, c.rd16(src, si));
    setIndex(c, a32, ESI, si + delta);
    setIndex(c, a32, EDI, di + delta);
    if (!rep) return;
    n--;
    setIndex(c, a32, ECX, n);
    if (n === 0) return;
    if (--chunk === 0) {
      c.ip = c.eip; // restart the instruction to continue the REP later
      return;
    }
  }
}

function stos(c: CpuCore, b: number): void {
  const size = sizeOf(c, b);
  const a32 = c.adsz32;
  const src = c.segOv >= 0 ? c.segOv : DS;
  const delta = c.flags & DF ? -size : size;
  const rep = c.rep;
  let n = countOf(c, a32);
  if (n === 0) return;
  let chunk = chunkOf(c, n);
  const bulk = bulkOk(c, a32, delta);
  for (;;) {
    if (bulk) {
      const k = bulkRun(c, b, size, src, chunk);
      if (k > 0) {
        n -= k;
        chunk -= k;
        bulkDone(c, k, size, n, false);
        if (n === 0) return;
        if (chunk === 0) {
          c.ip = c.eip;
          return;
        }
        continue;
      }
    }
    const di = a32 ? c.regs[EDI] >>> 0 : c.r16[EDI << 1];
    if (size === 1) c.wr8(ES, di, c.r8[0]);
    else if (size === 4) c.wr32(ES, di, c.regs[0]);
    else c.wr16(ES, di, c.r16[0]);
    setIndex(c, a32, EDI, di + delta);
    if (!rep) return;
    n--;
    setIndex(c, a32, ECX, n);
    if (n === 0) return;
    if (--chunk === 0) {
      c.ip = c.eip;
      return;
    }
  }
}

/** One element read at `off` in segment `s`. */
function rdElem(c: CpuCore, s: number, off: number, size: number): number {
  return size === 1 ? c.rd8(s, off) : size === 2 ? c.rd16(s, off) : c.rd32(s, off);
}

/** CMPS/SCAS: REPE stops on ZF = 0, REPNE on ZF = 1. */
function repStops(c: CpuCore, rep: number): boolean {
  return rep === 3 ? !c.getZF() : rep === 2 ? c.getZF() : false;
}

function cmps(c: CpuCore, b: number): void {
  const size = sizeOf(c, b);
  const a32 = c.adsz32;
  const src = c.segOv >= 0 ? c.segOv : DS;
  const delta = c.flags & DF ? -size : size;
  const rep = c.rep;
  let n = countOf(c, a32);
  if (n === 0) return;
  let chunk = chunkOf(c, n);
  for (;;) {
    const si = a32 ? c.regs[ESI] >>> 0 : c.r16[ESI << 1];
    const di = a32 ? c.regs[EDI] >>> 0 : c.r16[EDI << 1];
    const x = rdElem(c, src, si, size);
    const y = rdElem(c, ES, di, size);
    c.alu(7, x, y, size * 8);
    const stop = repStops(c, rep);
    setIndex(c, a32, ESI, si + delta);
    setIndex(c, a32, EDI, di + delta);
    if (!rep) return;
    n--;
    setIndex(c, a32, ECX, n);
    if (n === 0 || stop) return;
    if (--chunk === 0) {
      c.ip = c.eip;
      return;
    }
  }
}

function lods(c: CpuCore, b: number): void {
  const size = sizeOf(c, b);
  const a32 = c.adsz32;
  const src = c.segOv >= 0 ? c.segOv : DS;
  const delta = c.flags & DF ? -size : size;
  const rep = c.rep;
  let n = countOf(c, a32);
  if (n === 0) return;
  let chunk = chunkOf(c, n);
  for (;;) {
    const si = a32 ? c.regs[ESI] >>> 0 : c.r16[ESI << 1];
    if (size === 1) c.r8[0] = c.rd8(src, si);
    else if (size === 4) c.regs[0] = c.rd32(src, si);
    else c.r16[0] = c.rd16(src, si);
    setIndex(c, a32, ESI, si + delta);
    if (!rep) return;
    n--;
    setIndex(c, a32, ECX, n);
    if (n === 0) return;
    if (--chunk === 0) {
      c.ip = c.eip;
      return;
    }
  }
}

function scas(c: CpuCore, b: number): void {
  const size = sizeOf(c, b);
  const a32 = c.adsz32;
  const delta = c.flags & DF ? -size : size;
  const rep = c.rep;
  let n = countOf(c, a32);
  if (n === 0) return;
  let chunk = chunkOf(c, n);
  for (;;) {
    const di = a32 ? c.regs[EDI] >>> 0 : c.r16[EDI << 1];
    const y = rdElem(c, ES, di, size);
    const x = size === 1 ? c.r8[0] : size === 2 ? c.r16[0] : c.regs[0];
    c.alu(7, x, y, size * 8);
    const stop = repStops(c, rep);
    setIndex(c, a32, EDI, di + delta);
    if (!rep) return;
    n--;
    setIndex(c, a32, ECX, n);
    if (n === 0 || stop) return;
    if (--chunk === 0) {
      c.ip = c.eip;
      return;
    }
  }
}

function ins(c: CpuCore, b: number): void {
  const size = sizeOf(c, b);
  const a32 = c.adsz32;
  const delta = c.flags & DF ? -size : size;
  const rep = c.rep;
  ioCheck(c, b, size);
  let n = countOf(c, a32);
  if (n === 0) return;
  let chunk = chunkOf(c, n);
  for (;;) {
    const di = a32 ? c.regs[EDI] >>> 0 : c.r16[EDI << 1];
    // The destination is probed before the port is read (no lost input on a fault).
    c.probeWrite(ES, di, size);
    const port = c.r16[4];
    const v = size === 1 ? c.io.in8(port) : size === 2 ? c.io.in16(port) : c.io.in32(port);
    if (size === 1) c.wr8(ES, di, v);
    else if (size === 2) c.wr16(ES, di, v);
    else c.wr32(ES, di, v);
    c.ioHappened = true;
    if (c.timing !== null) c.chargedCycles += c.timing.portIo;
    setIndex(c, a32, EDI, di + delta);
    if (!rep) return;
    n--;
    setIndex(c, a32, ECX, n);
    if (n === 0) return;
    if (--chunk === 0) {
      c.ip = c.eip;
      return;
    }
  }
}

function outs(c: CpuCore, b: number): void {
  const size = sizeOf(c, b);
  const a32 = c.adsz32;
  const src = c.segOv >= 0 ? c.segOv : DS;
  const delta = c.flags & DF ? -size : size;
  const rep = c.rep;
  ioCheck(c, b, size);
  let n = countOf(c, a32);
  if (n === 0) return;
  let chunk = chunkOf(c, n);
  for (;;) {
    const si = a32 ? c.regs[ESI] >>> 0 : c.r16[ESI << 1];
    const port = c.r16[4];
    const v = rdElem(c, src, si, size);
    if (size === 1) c.io.out8(port, v);
    else if (size === 2) c.io.out16(port, v);
    else c.io.out32(port, v);
    c.ioHappened = true;
    if (c.timing !== null) c.chargedCycles += c.timing.portIo;
    setIndex(c, a32, ESI, si + delta);
    if (!rep) return;
    n--;
    setIndex(c, a32, ECX, n);
    if (n === 0) return;
    if (--chunk === 0) {
      c.ip = c.eip;
      return;
    }
  }
}

/**
 * One function per family, each its own entry in the opcode table (ops-main.ts OPS): the
 * table's call is megamorphic, so V8 compiles each family alone and a family first met late (the
 * kernel's first REP STOSB, CMPSB, a 16-bit REP in setup code, then the bulk path) recompiles only
 * that family's small function, not one function with all seven and their inlined memory accessors
 * (5 TurboFan jobs per cold Linux boot, the largest recompile bill; PERF.md, "Session 13 — cold13").
 * A dispatcher in front of the families was tried: V8 inlined them all back into it (cold12).
 * Each family runs exactly the steps of the one switch it replaced (`stringOp`); the shared steps
 * are small helpers V8 inlines.
 * Indexed by opcode: INS 6C/6D, OUTS 6E/6F, MOVS … SCAS A4–AF.
 */
export const STRING_OPS: Array<(c: CpuCore, b: number) => void> = [];
for (const [ops, f] of [
  [[0x6c, 0x6d], ins],
  [[0x6e, 0x6f], outs],
  [[0xa4, 0xa5], movs],
  [[0xa6, 0xa7], cmps],
  [[0xaa, 0xab], stos],
  [[0xac, 0xad], lods],
  [[0xae, 0xaf], scas],
] as const)
  for (const op of ops) STRING_OPS[op] = f;

/**
 * How many of `k` whole elements of `size` bytes from offset `off` segment `s` allows (SDM Vol.3
 * §5.3): all on a flat segment; on an expand-up one (e.g. a VMM's truncated segment) those that end
 * at or below its limit; 0 when anything else must be checked element by element (expand-down,
 * unusable, wrong type, alignment checking).
 */
function segRoom(
  c: CpuCore,
  s: number,
  off: number,
  size: number,
  k: number,
  need: number,
  flat: number,
): number {
  const chk = c.segChk[s];
  if (chk & flat) return k;
  if ((chk & need) === 0 || chk & (CHK_EXPDOWN | CHK_UNUSABLE) || c.acOn) return 0;
  const o = off >>> 0;
  const lim = c.segLim[s] >>> 0;
  if (o > lim) return 0;
  const room = Math.floor((lim - o + 1) / size);
  return Math.min(room, k);
}

/**
 * Fast REP MOVS/STOS (32-bit addressing, DF = 0) over flat segments (or within an expand-up limit): as many whole elements as
 * fit before the source or destination crosses a page, when both pages are direct RAM already in
 * the TLB with the needed rights (so no fault, A/D update, MMIO or data breakpoint can occur —
 * watched pages and MMIO have slow TLB entries). Returns the element count done (0: take the
 * one-element path, which fills the TLB or raises the architectural fault).
 */
function bulkRun(c: CpuCore, b: number, size: number, src: number, max: number): number {
  const dl = (c.segBase[ES] + c.regs[EDI]) | 0;
  const de = ~c.tlbW[dl >>> 12];
  if ((de & 0xfff) !== 0) return 0;
  let k = ((4096 - (dl & 0xfff)) / size) | 0;
  if (k > max) k = max;
  k = segRoom(c, ES, c.regs[EDI], size, k, CHK_W, CHK_FLAT_W);
  const pd = de ^ dl;
  const ram = c.ram;
  if (b >= 0xaa) {
    if (k === 0) return 0;
    const len = k * size;
    const v = c.regs[0]; // one load for every form (a form first met late found it unprofiled)
    if (size === 1) ram.fill(v & 0xff, pd, pd + len);
    else if (size === 4 && (pd & 3) === 0 && c.ram32 !== null) c.ram32.fill(v, pd >>> 2, (pd + len) >>> 2);
    else for (let i = 0; i < len; i++) ram[pd + i] = v >>> (8 * (i % size));
    return k;
  }
  const sl = (c.segBase[src] + c.regs[ESI]) | 0;
  const se = ~c.tlbR[sl >>> 12];
  if ((se & 0xfff) !== 0) return 0;
  const ks = ((4096 - (sl & 0xfff)) / size) | 0;
  if (ks < k) k = ks;
  k = segRoom(c, src, c.regs[ESI], size, k, CHK_R, CHK_FLAT_R);
  if (k === 0) return 0;
  const ps = se ^ sl;
  const len = k * size;
  // Element-by-element forward copying equals memmove unless the destination starts inside the
  // source run (the pattern-replicating case): leave that to the one-element path.
  if (pd > ps && pd < ps + len) return 0;
  ram.copyWithin(pd, ps, ps + len);
  return k;
}
