/**
 * CpuSeg: descriptor-table access and segment-register loads with the protection checks of
 * SDM Vol.3 §5 (and the MOV/POP Sreg, LDS/LES, LLDT/LTR instruction pages).
 */

import { CpuAccess } from './access.ts';
import {
  AR_ACCESSED,
  AR_CODE,
  AR_DB,
  AR_DC,
  AR_G,
  AR_P,
  AR_RW,
  AR_S,
  AR_UNUSABLE,
  CR0_PE,
  GP,
  LDTR,
  NP,
  SS,
  SSF,
  VM,
} from './constants.ts';

export class CpuSeg extends CpuAccess {
  /** Last descriptor read by readDesc(). */
  dLo = 0;
  dHi = 0;
  /** Linear address of that descriptor (to set the accessed bit). */
  dAddr = 0;

  get protectedMode(): boolean {
    return (this.cr0 & CR0_PE) !== 0;
  }
  get v86(): boolean {
    return (this.flags & VM) !== 0;
  }

  setCpl(n: number): void {
    if (this.cpl !== n) {
      this.cpl = n;
      this.updateTlbViews();
      this.refreshAc();
    }
  }

  /**
   * The checks on the CS a far RET or IRET returns to (SDM Vol.2 RET and IRET, "return from
   * procedure/interrupt"): non-null, a code segment, RPL ≥ CPL, DPL = RPL for non-conforming or
   * DPL ≤ RPL for conforming code, present. Leaves the descriptor in dLo/dHi/dAddr.
   */
  checkReturnCs(csSel: number): void {
    if ((csSel & 0xfffc) === 0) this.gp(0);
    this.readDesc(csSel, GP);
    const ar = CpuSeg.descAr(this.dHi);
    const dpl = (ar >> 5) & 3;
    const rpl = csSel & 3;
    if ((ar & (AR_S | AR_CODE)) !== (AR_S | AR_CODE)) this.gp(csSel & 0xfffc);
    if (rpl < this.cpl) this.gp(csSel & 0xfffc);
    if (ar & AR_DC ? dpl > rpl : dpl !== rpl) this.gp(csSel & 0xfffc);
    if ((ar & AR_P) === 0) this.raise(NP, csSel & 0xfffc);
  }

  /**
   * Read the descriptor for `sel` into dLo/dHi. Raises `vec` (#GP or #TS) with error code
   * sel & 0xFFFC when the selector lies outside the GDT/LDT limit.
   */
  readDesc(sel: number, vec: number): void {
    const idx = sel & 0xfff8;
    let base: number;
    let limit: number;
    if (sel & 4) {
      if (this.segAr[LDTR] & AR_UNUSABLE) this.raise(vec, sel & 0xfffc);
      base = this.segBase[LDTR];
      limit = this.segLim[LDTR];
    } else {
      base = this.gdtBase;
      limit = this.gdtLimit;
    }
    if (idx + 7 > limit) this.raise(vec, sel & 0xfffc);
    const a = (base + idx) | 0;
    this.dAddr = a;
    this.dLo = this.srd32(a);
    this.dHi = this.srd32((a + 4) | 0);
  }

  static descBase(lo: number, hi: number): number {
    return (lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000) | 0;
  }
  static descLimit(lo: number, hi: number): number {
    const l = (lo & 0xffff) | (hi & 0xf0000);
    return hi & 0x800000 ? ((l << 12) | 0xfff) >>> 0 : l;
  }
  static descAr(hi: number): number {
    return (hi >>> 8) & 0xf0ff;
  }

  /** Set the accessed bit of the descriptor last read (SDM §3.4.5.1). */
  markAccessed(): void {
    if ((this.dHi & 0x100) === 0) {
      this.dHi |= 0x100;
      this.swr8((this.dAddr + 5) | 0, (this.dHi >>> 8) & 0xff);
    }
  }

  setSeg(s: number, sel: number, base: number, limit: number, ar: number): void {
    this.segSel[s] = sel & 0xffff;
    this.segBase[s] = base | 0;
    this.segLim[s] = limit >>> 0;
    this.segAr[s] = ar;
    this.updateSegChk(s);
  }

  /** Load a cache from the descriptor in dLo/dHi. */
  setSegFromDesc(s: number, sel: number): void {
    this.setSeg(
      s,
      sel,
      CpuSeg.descBase(this.dLo, this.dHi),
      CpuSeg.descLimit(this.dLo, this.dHi),
      CpuSeg.descAr(this.dHi) | AR_ACCESSED,
    );
  }

  /** Real-mode / V86 segment load: base = sel·16 (SDM §20.1.1). */
  loadSegReal(s: number, sel: number): void {
    sel &= 0xffff;
    if (this.flags & VM) {
      // V86: every segment is a 64 KiB, DPL 3, read/write segment (SDM §20.2.1).
      const ar = AR_P | (3 << 5) | AR_S | AR_RW | AR_ACCESSED;
      this.setSeg(s, sel, sel << 4, 0xffff, ar);
      return;
    }
    this.segSel[s] = sel;
    this.segBase[s] = sel << 4;
    // Limits and attributes survive (unreal mode), but a real-mode segment is always usable.
    if (this.segAr[s] & AR_UNUSABLE) {
      this.segAr[s] = AR_P | AR_S | AR_RW | AR_ACCESSED;
      this.segLim[s] = 0xffff;
    }
    this.updateSegChk(s);
  }

  /** MOV/POP/LxS to a data segment register or SS, any mode. */
  loadSeg(s: number, sel: number): void {
    sel &= 0xffff;
    if ((this.cr0 & CR0_PE) === 0 || this.flags & VM) {
      this.loadSegReal(s, sel);
      return;
    }
    if (s === SS) {
      // SDM MOV: SS must be a writable data segment with RPL = DPL = CPL.
      if ((sel & 0xfffc) === 0) this.gp(0);
      this.readDesc(sel, GP);
      const ar = CpuSeg.descAr(this.dHi);
      const dpl = (ar >> 5) & 3;
      if ((sel & 3) !== this.cpl || (ar & (AR_S | AR_CODE | AR_RW)) !== (AR_S | AR_RW) || dpl !== this.cpl)
        this.gp(sel & 0xfffc);
      if ((ar & AR_P) === 0) this.raise(SSF, sel & 0xfffc);
      this.markAccessed();
      this.setSegFromDesc(SS, sel);
      return;
    }
    if ((sel & 0xfffc) === 0) {
      // A null selector loads an unusable segment; the fault comes on use.
      this.setSeg(s, sel, 0, 0, AR_UNUSABLE);
      return;
    }
    this.readDesc(sel, GP);
    const ar = CpuSeg.descAr(this.dHi);
    const dpl = (ar >> 5) & 3;
    if ((ar & AR_S) === 0) this.gp(sel & 0xfffc);
    if ((ar & (AR_CODE | AR_RW)) === AR_CODE) this.gp(sel & 0xfffc); // execute-only code
    // Data and non-conforming code: DPL >= max(CPL, RPL).
    if ((ar & (AR_CODE | AR_DC)) !== (AR_CODE | AR_DC)) {
      if ((sel & 3) > dpl || this.cpl > dpl) this.gp(sel & 0xfffc);
    }
    if ((ar & AR_P) === 0) this.raise(NP, sel & 0xfffc);
    this.markAccessed();
    this.setSegFromDesc(s, sel);
  }

  /**
   * After a return to an outer level: a data segment (or non-conforming code) not accessible at
   * the new CPL is nulled (SDM RET/IRET "FOR each SegReg in (ES, FS, GS, and DS)").
   */
  nullInvalidSegs(): void {
    for (const s of [0, 3, 4, 5]) {
      const ar = this.segAr[s];
      if (ar & AR_UNUSABLE) continue;
      const dpl = (ar >> 5) & 3;
      const confCode = (ar & (AR_CODE | AR_DC)) === (AR_CODE | AR_DC);
      if (!confCode && dpl < this.cpl) this.setSeg(s, 0, 0, 0, AR_UNUSABLE);
    }
  }

  /** Descriptor attributes for a flat 4 GiB segment. */
  static flatAr(code: boolean, dpl: number): number {
    return AR_P | (dpl << 5) | AR_S | AR_RW | AR_ACCESSED | AR_DB | AR_G | (code ? AR_CODE : 0);
  }
}
