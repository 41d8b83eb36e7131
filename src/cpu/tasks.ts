/**
 * CpuTask: the TSS — inner-level stack lookup for privilege changes and hardware task switches
 * (SDM Vol.3 §7.3 "Task Switching"), plus the I/O permission bitmap (§19.5.2).
 */
import {
  AR_CODE,
  AR_DC,
  AR_P,
  AR_RW,
  AR_S,
  AR_UNUSABLE,
  CR0_PG,
  CR0_TS,
  CS,
  DS,
  ES,
  FS,
  GP,
  GS,
  LDTR,
  NP,
  NT,
  SS,
  SSF,
  TR,
  TS,
  VM,
} from './constants.ts';
import { CpuSeg } from './segments.ts';

export const TASK_JMP = 0;
export const TASK_CALL = 1;
export const TASK_IRET = 2;
export const TASK_INT = 3;

export class CpuTask extends CpuSeg {
  /** Hook for subclasses: called after EFLAGS or CPL change wholesale. */
  afterFlagsLoad(): void {}

  /** Set EFLAGS wholesale (status bits non-lazy). */
  loadEflags(v: number): void {
    this.lzMask = 0;
    this.flags = (v & 0x3f7fd5) | 2;
    this.refreshAc();
    this.afterFlagsLoad();
  }

  /** Read SS:ESP for privilege level `pl` from the current TSS into tssSs/tssEsp (#TS on limit). */
  tssSs = 0;
  tssEsp = 0;
  tssStack(pl: number, ext: number): void {
    const big = (this.segAr[TR] & 0x8) !== 0; // type 9/11 = 32-bit TSS
    const base = this.segBase[TR];
    if (big) {
      const off = 4 + pl * 8;
      if (off + 5 > this.segLim[TR]) this.raise(TS, (this.segSel[TR] & 0xfffc) | ext);
      this.tssEsp = this.srd32((base + off) | 0);
      this.tssSs = this.srd16((base + off + 4) | 0);
    } else {
      const off = 2 + pl * 4;
      if (off + 3 > this.segLim[TR]) this.raise(TS, (this.segSel[TR] & 0xfffc) | ext);
      this.tssEsp = this.srd16((base + off) | 0);
      this.tssSs = this.srd16((base + off + 2) | 0);
    }
  }

  /**
   * Validate a new inner stack selector for a privilege change to `pl` (SDM CALL / INT n:
   * #TS(sel) for type/RPL/DPL, #SS(sel) when not present). Leaves the descriptor in dLo/dHi.
   */
  checkInnerSs(sel: number, pl: number, ext: number): void {
    if ((sel & 0xfffc) === 0) this.raise(TS, ext);
    this.readDesc(sel, TS);
    const ar = CpuSeg.descAr(this.dHi);
    if ((sel & 3) !== pl || ((ar >> 5) & 3) !== pl || (ar & (AR_S | AR_CODE | AR_RW)) !== (AR_S | AR_RW))
      this.raise(TS, (sel & 0xfffc) | ext);
    if ((ar & AR_P) === 0) this.raise(SSF, (sel & 0xfffc) | ext);
  }

  /** I/O permission check for ports port..port+len-1 (SDM §19.5). Raises #GP(0) if denied. */
  checkIoPerm(port: number, len: number): void {
    if (!this.ioPermitted(port, len)) this.gp(0);
  }

  /**
   * checkIoPerm without the throw: false when the access raises #GP(0). IN/OUT throw at their own
   * call site (ops-high.ts portIo): a deprivileged guest's every IN faults, and a throw unwinding
   * this and three more frames that V8 never optimized (they only ever left by a throw) cost the
   * trapdemo's trap-and-emulate run ~20 % of its warm time (PERF.md, "Session 13 — order13").
   */
  ioPermitted(port: number, len: number): boolean {
    if (this.dr[7] & 0xff && this.cr4 & 0x8) this.ioBpCheck(port, len);
    return this.ioAllowed(port, len);
  }

  /** DR0–DR3 I/O breakpoints (R/W = 10, CR4.DE = 1; SDM §17.2.5): a trap after the instruction. */
  ioBpCheck(port: number, len: number): void {
    const dr7 = this.dr[7];
    for (let i = 0; i < 4; i++) {
      if (((dr7 >> (i * 2)) & 3) === 0 || ((dr7 >>> (16 + i * 4)) & 3) !== 2) continue;
      const l = (dr7 >>> (18 + i * 4)) & 3;
      const blen = l === 0 ? 1 : l === 1 ? 2 : l === 3 ? 4 : 8;
      const start = this.dr[i] & 0xffff & ~(blen - 1);
      if (port <= start + blen - 1 && start <= port + len - 1) {
        this.dataBpHits |= 1 << i;
        this.attention = true;
      }
    }
  }

  /** CPL ≤ IOPL, or the TSS's I/O permission bitmap allows all `len` ports (SDM §19.5.1–2). */
  private ioAllowed(port: number, len: number): boolean {
    if (!this.protectedMode) return true;
    if ((this.flags & VM) === 0 && this.cpl <= ((this.flags >> 12) & 3)) return true;
    const ar = this.segAr[TR];
    if (ar & AR_UNUSABLE || (ar & 0xf) !== 0xb) return false;
    const base = this.segBase[TR];
    const lim = this.segLim[TR];
    if (lim < 0x67) return false;
    const mapBase = this.srd16((base + 0x66) | 0);
    const off = mapBase + (port >>> 3);
    if (off + 1 > lim) return false;
    const bits = this.srd16((base + off) | 0);
    const mask = ((1 << len) - 1) << (port & 7);
    return (bits & mask) === 0;
  }

  /**
   * Hardware task switch to the TSS named by `sel` (SDM §7.3, steps 1–15). `src` is TASK_*.
   * `nextEip` is the EIP saved into the outgoing TSS.
   */
  taskSwitch(sel: number, src: number, nextEip: number, ext: number): void {
    // Steps 1-4: the new TSS descriptor.
    if (sel & 4) this.raise(src === TASK_IRET ? TS : GP, (sel & 0xfffc) | ext);
    this.readDesc(sel, src === TASK_IRET ? TS : GP);
    const nLo = this.dLo;
    const nHi = this.dHi;
    const nAddr = this.dAddr;
    const type = (nHi >>> 8) & 0x1f;
    const busy = type === 0x3 || type === 0xb;
    const avail = type === 0x1 || type === 0x9;
    if (src === TASK_IRET ? !busy : !avail) this.raise(src === TASK_IRET ? TS : GP, (sel & 0xfffc) | ext);
    if ((nHi & 0x8000) === 0) this.raise(NP, (sel & 0xfffc) | ext);
    const nBig = (type & 8) !== 0;
    const nLim = CpuSeg.descLimit(nLo, nHi);
    if (nLim < (nBig ? 0x67 : 0x2b)) this.raise(TS, (sel & 0xfffc) | ext);
    const nBase = CpuSeg.descBase(nLo, nHi);

    // Step 8 first reads (so a page fault on the new TSS happens before any state changes).
    const r = this.regs;
    const oBase = this.segBase[TR];
    const oBig = (this.segAr[TR] & 0x8) !== 0;
    this.materialize();
    let eflags = this.flags | 2;
    if (src === TASK_IRET) eflags &= ~NT;
    // Step 9: save the current state into the old TSS.
    if (oBig) {
      this.sxlate((oBase + 0x20) | 0, true);
      this.sxlate((oBase + 0x5d) | 0, true);
      this.swr32((oBase + 0x20) | 0, nextEip);
      this.swr32((oBase + 0x24) | 0, eflags);
      for (let i = 0; i < 8; i++) this.swr32((oBase + 0x28 + i * 4) | 0, r[i]);
      for (let s = 0; s < 6; s++) this.swr16((oBase + 0x48 + s * 4) | 0, this.segSel[s]);
    } else {
      this.swr16((oBase + 0x0e) | 0, nextEip);
      this.swr16((oBase + 0x10) | 0, eflags);
      for (let i = 0; i < 8; i++) this.swr16((oBase + 0x12 + i * 2) | 0, r[i]);
      for (let s = 0; s < 4; s++) this.swr16((oBase + 0x22 + s * 2) | 0, this.segSel[s]);
    }
    // Read the new task's state.
    let nEip: number;
    let nFlags: number;
    let nCr3 = this.cr3;
    const nRegs = [0, 0, 0, 0, 0, 0, 0, 0];
    const nSel = [0, 0, 0, 0, 0, 0];
    let nLdt: number;
    if (nBig) {
      if (this.cr0 & CR0_PG) nCr3 = this.srd32((nBase + 0x1c) | 0);
      nEip = this.srd32((nBase + 0x20) | 0);
      nFlags = this.srd32((nBase + 0x24) | 0);
      for (let i = 0; i < 8; i++) nRegs[i] = this.srd32((nBase + 0x28 + i * 4) | 0);
      for (let s = 0; s < 6; s++) nSel[s] = this.srd16((nBase + 0x48 + s * 4) | 0);
      nLdt = this.srd16((nBase + 0x60) | 0);
    } else {
      nEip = this.srd16((nBase + 0x0e) | 0);
      nFlags = this.srd16((nBase + 0x10) | 0);
      for (let i = 0; i < 8; i++) nRegs[i] = this.srd16((nBase + 0x12 + i * 2) | 0) | 0xffff0000;
      for (let s = 0; s < 4; s++) nSel[s] = this.srd16((nBase + 0x22 + s * 2) | 0);
      nLdt = this.srd16((nBase + 0x2a) | 0);
    }
    // Steps 10-11: busy bits and the back link.
    if (src === TASK_JMP || src === TASK_IRET) {
      this.readDesc(this.segSel[TR], GP);
      this.dHi &= ~0x200;
      this.swr8((this.dAddr + 5) | 0, (this.dHi >>> 8) & 0xff);
    }
    if (src === TASK_CALL || src === TASK_INT) {
      nFlags |= NT;
      this.swr16(nBase, this.segSel[TR]);
    }
    if (src !== TASK_IRET) this.swr8((nAddr + 5) | 0, ((nHi >>> 8) & 0xff) | 0x2);
    // Step 12: commit TR and CR0.TS; from here faults belong to the new task.
    this.setSeg(TR, sel, nBase, nLim, CpuSeg.descAr(nHi) | 0x2);
    this.cr0 |= CR0_TS;
    if (nBig && this.cr0 & CR0_PG && nCr3 !== this.cr3) {
      this.cr3 = nCr3;
      this.flushTlb(true);
    }
    this.loadEflags(nFlags);
    // A 16-bit TSS holds only the low words; the upper words become FFFF (nRegs above). The SDM
    // does not define them (Vol.3 §7.6); this follows Bochs (tasking.cc), checked by cpu-semantics.
    for (let i = 0; i < 8; i++) r[i] = nRegs[i];
    this.ip = nBig ? nEip >>> 0 : nEip & 0xffff;
    this.eip = this.ip;
    for (let s = 0; s < 6; s++) this.segSel[s] = nSel[s];
    // Step 13: load LDTR and the segment registers, faulting in the new task's context.
    this.taskLoadLdt(nLdt, ext);
    if (nFlags & VM) {
      this.setCpl(3);
      for (const s of [ES, CS, SS, DS, FS, GS]) this.loadSegReal(s, nSel[s]);
    } else {
      this.setCpl(nSel[CS] & 3);
      this.taskLoadCs(nSel[CS], ext);
      this.taskLoadSs(nSel[SS], ext);
      for (const s of [ES, DS, FS, GS]) this.taskLoadData(s, nSel[s], ext);
    }
    if (this.ip > this.segLim[CS]) this.gp(0);
  }

  private taskLoadLdt(sel: number, ext: number): void {
    if ((sel & 0xfffc) === 0) {
      this.setSeg(LDTR, sel, 0, 0, AR_UNUSABLE);
      return;
    }
    if (sel & 4) this.raise(TS, (sel & 0xfffc) | ext);
    this.readDesc(sel, TS);
    if (((this.dHi >>> 8) & 0x1f) !== 0x2) this.raise(TS, (sel & 0xfffc) | ext);
    if ((this.dHi & 0x8000) === 0) this.raise(TS, (sel & 0xfffc) | ext);
    this.setSegFromDesc(LDTR, sel);
  }
  private taskLoadCs(sel: number, ext: number): void {
    if ((sel & 0xfffc) === 0) this.raise(TS, ext);
    this.readDesc(sel, TS);
    const ar = CpuSeg.descAr(this.dHi);
    const dpl = (ar >> 5) & 3;
    if ((ar & (AR_S | AR_CODE)) !== (AR_S | AR_CODE)) this.raise(TS, (sel & 0xfffc) | ext);
    if (ar & AR_DC ? dpl > (sel & 3) : dpl !== (sel & 3)) this.raise(TS, (sel & 0xfffc) | ext);
    if ((ar & AR_P) === 0) this.raise(NP, (sel & 0xfffc) | ext);
    this.markAccessed();
    this.setSegFromDesc(CS, sel);
  }
  private taskLoadSs(sel: number, ext: number): void {
    this.checkInnerSs(sel, this.cpl, ext);
    this.markAccessed();
    this.setSegFromDesc(SS, sel);
  }
  private taskLoadData(s: number, sel: number, ext: number): void {
    if ((sel & 0xfffc) === 0) {
      this.setSeg(s, sel, 0, 0, AR_UNUSABLE);
      return;
    }
    this.readDesc(sel, TS);
    const ar = CpuSeg.descAr(this.dHi);
    const dpl = (ar >> 5) & 3;
    if ((ar & AR_S) === 0 || (ar & (AR_CODE | AR_RW)) === AR_CODE) this.raise(TS, (sel & 0xfffc) | ext);
    if ((ar & (AR_CODE | AR_DC)) !== (AR_CODE | AR_DC) && ((sel & 3) > dpl || this.cpl > dpl))
      this.raise(TS, (sel & 0xfffc) | ext);
    if ((ar & AR_P) === 0) this.raise(NP, (sel & 0xfffc) | ext);
    this.markAccessed();
    this.setSegFromDesc(s, sel);
  }
}
