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

export function stringOp(c: CpuCore, b: number): void {
  const size = (b & 1) === 0 ? 1 : c.opsz32 ? 4 : 2;
  const a32 = c.adsz32;
  const r = c.regs;
  const src = c.segOv >= 0 ? c.segOv : DS;
  const delta = c.flags & DF ? -size : size;
  const rep = c.rep;
  if (b <= 0x6f) {
    // INS/OUTS: I/O permission once per instruction.
    c.checkIoPerm(c.r16[4], size);
    if (c.vmxNonRoot) vmxIo(c, c.r16[4], size, b <= 0x6d, true, rep !== 0, false);
  }
  let n = rep ? (a32 ? r[ECX] >>> 0 : c.r16[ECX << 1]) : 1;
  if (n === 0) return;
  let chunk = Math.min(n, rep !== 0 && c.vmxNonRoot ? vmxRepChunk(c, CHUNK) : CHUNK);
  const amask = a32 ? -1 : 0xffff;
  const bulk =
    rep !== 0 &&
    fastPaths.bulkStrings &&
    a32 &&
    delta > 0 &&
    (b === 0xa4 || b === 0xa5 || b === 0xaa || b === 0xab);
  for (;;) {
    if (bulk) {
      // Page-sized runs straight on RAM; counts and registers exactly as the loop below.
      const k = bulkRun(c, b, size, src, chunk);
      if (k > 0) {
        n -= k;
        chunk -= k;
        r[ECX] = n;
        if (b <= 0xa5) r[ESI] = (r[ESI] + k * size) | 0;
        r[EDI] = (r[EDI] + k * size) | 0;
        if (n === 0) return;
        if (chunk === 0) {
          c.ip = c.eip;
          return;
        }
        continue;
      }
    }
    const si = a32 ? r[ESI] >>> 0 : c.r16[ESI << 1];
    const di = a32 ? r[EDI] >>> 0 : c.r16[EDI << 1];
    let stop = false;
    switch (b) {
      case 0xa4:
        c.wr8(ES, di, c.rd8(src, si));
        break;
      case 0xa5:
        if (size === 4) c.wr32(ES, di, c.rd32(src, si));
        else c.wr16(ES, di, c.rd16(src, si));
        break;
      case 0xa6:
      case 0xa7: {
        const x = size === 1 ? c.rd8(src, si) : size === 2 ? c.rd16(src, si) : c.rd32(src, si);
        const y = size === 1 ? c.rd8(ES, di) : size === 2 ? c.rd16(ES, di) : c.rd32(ES, di);
        c.alu(7, x, y, size * 8);
        stop = rep === 3 ? !c.getZF() : rep === 2 ? c.getZF() : false;
        break;
      }
      case 0xaa:
        c.wr8(ES, di, c.r8[0]);
        break;
      case 0xab:
        if (size === 4) c.wr32(ES, di, r[0]);
        else c.wr16(ES, di, c.r16[0]);
        break;
      case 0xac:
        c.r8[0] = c.rd8(src, si);
        break;
      case 0xad:
        if (size === 4) r[0] = c.rd32(src, si);
        else c.r16[0] = c.rd16(src, si);
        break;
      case 0xae:
      case 0xaf: {
        const y = size === 1 ? c.rd8(ES, di) : size === 2 ? c.rd16(ES, di) : c.rd32(ES, di);
        const x = size === 1 ? c.r8[0] : size === 2 ? c.r16[0] : r[0];
        c.alu(7, x, y, size * 8);
        stop = rep === 3 ? !c.getZF() : rep === 2 ? c.getZF() : false;
        break;
      }
      case 0x6c:
      case 0x6d: {
        // INS: the destination is probed before the port is read (no lost input on a fault).
        c.probeWrite(ES, di, size);
        const port = c.r16[4];
        const v = size === 1 ? c.io.in8(port) : size === 2 ? c.io.in16(port) : c.io.in32(port);
        if (size === 1) c.wr8(ES, di, v);
        else if (size === 2) c.wr16(ES, di, v);
        else c.wr32(ES, di, v);
        c.ioHappened = true;
        if (c.timing !== null) c.chargedCycles += c.timing.portIo;
        break;
      }
      default: {
        const port = c.r16[4];
        const v = size === 1 ? c.rd8(src, si) : size === 2 ? c.rd16(src, si) : c.rd32(src, si);
        if (size === 1) c.io.out8(port, v);
        else if (size === 2) c.io.out16(port, v);
        else c.io.out32(port, v);
        c.ioHappened = true;
        if (c.timing !== null) c.chargedCycles += c.timing.portIo;
        break;
      }
    }
    // Advance index registers used by this instruction.
    const usesSi =
      b === 0xa4 ||
      b === 0xa5 ||
      b === 0xa6 ||
      b === 0xa7 ||
      b === 0xac ||
      b === 0xad ||
      b === 0x6e ||
      b === 0x6f;
    const usesDi = b !== 0xac && b !== 0xad && b !== 0x6e && b !== 0x6f;
    if (a32) {
      if (usesSi) r[ESI] = (si + delta) & amask;
      if (usesDi) r[EDI] = (di + delta) & amask;
    } else {
      if (usesSi) c.r16[ESI << 1] = si + delta;
      if (usesDi) c.r16[EDI << 1] = di + delta;
    }
    if (!rep) return;
    n--;
    if (a32) r[ECX] = n;
    else c.r16[ECX << 1] = n;
    if (n === 0 || stop) return;
    if (--chunk === 0) {
      c.ip = c.eip; // restart the instruction to continue the REP later
      return;
    }
  }
}

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
    if (size === 1) ram.fill(c.regs[0] & 0xff, pd, pd + len);
    else if (size === 4 && (pd & 3) === 0 && c.ram32 !== null)
      c.ram32.fill(c.regs[0], pd >>> 2, (pd + len) >>> 2);
    else {
      const v = c.regs[0];
      for (let i = 0; i < len; i++) ram[pd + i] = v >>> (8 * (i % size));
    }
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
