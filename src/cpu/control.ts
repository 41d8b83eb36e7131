/**
 * CpuCtl: far control transfers in every mode — JMP/CALL far (direct, call gate, task gate,
 * TSS) and RET far, with the checks of the SDM CALL/JMP/RET pages and §5.8.
 */
import { AR_CODE, AR_DC, AR_P, AR_S, CR0_PE, CS, ESP, GP, NP, SS, VM } from './constants.ts';
import { CpuInt } from './interrupts.ts';
import { CpuSeg } from './segments.ts';
import { TASK_CALL, TASK_JMP } from './tasks.ts';

export class CpuCtl extends CpuInt {
  private pm(): boolean {
    return (this.cr0 & CR0_PE) !== 0 && (this.flags & VM) === 0;
  }

  /** Check a direct code-segment target for JMP/CALL (SDM §5.8.1). Leaves descriptor in dLo/dHi. */
  private checkDirectCode(sel: number): void {
    const ar = CpuSeg.descAr(this.dHi);
    const dpl = (ar >> 5) & 3;
    if (ar & AR_DC) {
      if (dpl > this.cpl) this.gp(sel & 0xfffc);
    } else if ((sel & 3) > this.cpl || dpl !== this.cpl) this.gp(sel & 0xfffc);
    if ((ar & AR_P) === 0) this.raise(NP, sel & 0xfffc);
  }

  private loadCsHere(sel: number, off: number): void {
    if (off > CpuSeg.descLimit(this.dLo, this.dHi)) this.gp(0);
    this.markAccessed();
    this.setSegFromDesc(CS, (sel & 0xfffc) | this.cpl);
    this.ip = off;
  }

  farJump(sel: number, off: number): void {
    sel &= 0xffff;
    if (!this.pm()) {
      if (off > this.segLim[CS] && (this.cr0 & CR0_PE) === 0) this.gp(0);
      this.loadSegReal(CS, sel);
      this.ip = off;
      return;
    }
    if ((sel & 0xfffc) === 0) this.gp(0);
    this.readDesc(sel, GP);
    const ar = CpuSeg.descAr(this.dHi);
    if (ar & AR_S) {
      if ((ar & AR_CODE) === 0) this.gp(sel & 0xfffc);
      this.checkDirectCode(sel);
      this.loadCsHere(sel, off);
      return;
    }
    const type = ar & 0x1f;
    const dpl = (ar >> 5) & 3;
    if (dpl < this.cpl || dpl < (sel & 3)) this.gp(sel & 0xfffc);
    if ((ar & AR_P) === 0) this.raise(NP, sel & 0xfffc);
    switch (type) {
      case 0x1:
      case 0x9:
        this.taskSwitch(sel, TASK_JMP, this.ip, 0);
        return;
      case 0x5:
        this.taskSwitch(this.dLo >>> 16, TASK_JMP, this.ip, 0);
        return;
      case 0x4:
      case 0xc: {
        const gLo = this.dLo;
        const gHi = this.dHi;
        const tsel = gLo >>> 16;
        const toff = type === 0xc ? ((gHi & 0xffff0000) | (gLo & 0xffff)) >>> 0 : gLo & 0xffff;
        if ((tsel & 0xfffc) === 0) this.gp(0);
        this.readDesc(tsel, GP);
        const tar = CpuSeg.descAr(this.dHi);
        const tdpl = (tar >> 5) & 3;
        if ((tar & (AR_S | AR_CODE)) !== (AR_S | AR_CODE)) this.gp(tsel & 0xfffc);
        if (tar & AR_DC ? tdpl > this.cpl : tdpl !== this.cpl) this.gp(tsel & 0xfffc);
        if ((tar & AR_P) === 0) this.raise(NP, tsel & 0xfffc);
        this.loadCsHere(tsel, toff);
        return;
      }
      default:
        this.gp(sel & 0xfffc);
    }
  }

  farCall(sel: number, off: number): void {
    sel &= 0xffff;
    const op32 = this.opsz32;
    if (!this.pm()) {
      const sp = this.spAdd(op32 ? -8 : -4);
      this.probeWrite(SS, sp, op32 ? 8 : 4);
      this.push(this.segSel[CS]);
      this.push(this.ip);
      this.loadSegReal(CS, sel);
      this.ip = off;
      return;
    }
    if ((sel & 0xfffc) === 0) this.gp(0);
    this.readDesc(sel, GP);
    const ar = CpuSeg.descAr(this.dHi);
    if (ar & AR_S) {
      if ((ar & AR_CODE) === 0) this.gp(sel & 0xfffc);
      this.checkDirectCode(sel);
      if (off > CpuSeg.descLimit(this.dLo, this.dHi)) this.gp(0);
      const n = op32 ? 8 : 4;
      this.probeWrite(SS, this.spAdd(-n), n);
      this.push(this.segSel[CS]);
      this.push(this.ip);
      this.loadCsHere(sel, off);
      return;
    }
    const type = ar & 0x1f;
    const dpl = (ar >> 5) & 3;
    if (dpl < this.cpl || dpl < (sel & 3)) this.gp(sel & 0xfffc);
    if ((ar & AR_P) === 0) this.raise(NP, sel & 0xfffc);
    switch (type) {
      case 0x1:
      case 0x9:
        this.taskSwitch(sel, TASK_CALL, this.ip, 0);
        return;
      case 0x5:
        this.taskSwitch(this.dLo >>> 16, TASK_CALL, this.ip, 0);
        return;
      case 0x4:
      case 0xc:
        this.callGate(this.dLo, this.dHi, type === 0xc);
        return;
      default:
        this.gp(sel & 0xfffc);
    }
  }

  /** CALL through a call gate (SDM §5.8.5, CALL pseudocode "CALL-GATE"). */
  private callGate(gLo: number, gHi: number, gate32: boolean): void {
    const tsel = gLo >>> 16;
    const toff = gate32 ? ((gHi & 0xffff0000) | (gLo & 0xffff)) >>> 0 : gLo & 0xffff;
    const params = gHi & 0x1f;
    if ((tsel & 0xfffc) === 0) this.gp(0);
    this.readDesc(tsel, GP);
    const tar = CpuSeg.descAr(this.dHi);
    const tdpl = (tar >> 5) & 3;
    if ((tar & (AR_S | AR_CODE)) !== (AR_S | AR_CODE) || tdpl > this.cpl) this.gp(tsel & 0xfffc);
    if ((tar & AR_P) === 0) this.raise(NP, tsel & 0xfffc);
    const cLo = this.dLo;
    const cHi = this.dHi;
    const cAddr = this.dAddr;
    const lim = CpuSeg.descLimit(cLo, cHi);
    const size = gate32 ? 4 : 2;
    if ((tar & AR_DC) === 0 && tdpl < this.cpl) {
      // More privileged: switch stacks, copy `params` parameters.
      this.tssStack(tdpl, 0);
      const nss = this.tssSs;
      const nesp = this.tssEsp;
      this.checkInnerSs(nss, tdpl, 0);
      const ssLo = this.dLo;
      const ssHi = this.dHi;
      const ssAddr = this.dAddr;
      const ssBase = CpuSeg.descBase(ssLo, ssHi);
      const ssLim = CpuSeg.descLimit(ssLo, ssHi);
      const ssBig = (ssHi & 0x400000) !== 0;
      const vals = this.frameVals;
      const copy = new Int32Array(params);
      for (let i = params - 1; i >= 0; i--) {
        const o = this.spAdd(i * size);
        copy[params - 1 - i] = size === 4 ? this.rd32(SS, o) : this.rd16(SS, o);
      }
      const total = 4 + params;
      let sp = ssBig ? nesp >>> 0 : nesp & 0xffff;
      // Frame: SS, ESP, params..., CS, EIP.
      vals[0] = this.segSel[SS];
      vals[1] = this.regs[ESP];
      for (let o = sp, i = 0; i < total; i++) {
        o = ssBig ? (o - size) >>> 0 : (o - size) & 0xffff;
        if (o + size - 1 > ssLim) this.raise(0x0c, nss & 0xfffc);
      }
      if (toff > lim) this.gp(0);
      const pushv = (v: number): void => {
        sp = ssBig ? (sp - size) >>> 0 : (sp - size) & 0xffff;
        const a = (ssBase + sp) | 0;
        if (size === 4) this.swr32(a, v);
        else this.swr16(a, v & 0xffff);
      };
      pushv(vals[0]);
      pushv(vals[1]);
      for (let i = 0; i < params; i++) pushv(copy[i]);
      pushv(this.segSel[CS]);
      pushv(this.ip);
      this.dLo = ssLo;
      this.dHi = ssHi;
      this.dAddr = ssAddr;
      this.markAccessed();
      this.setCpl(tdpl);
      this.setSegFromDesc(SS, nss);
      if (ssBig) this.regs[ESP] = sp;
      else this.r16[ESP * 2] = sp;
    } else {
      if (toff > lim) this.gp(0);
      this.probeWrite(SS, this.spAdd(-2 * size), 2 * size);
      if (gate32) {
        this.push32(this.segSel[CS]);
        this.push32(this.ip);
      } else {
        this.push16(this.segSel[CS]);
        this.push16(this.ip);
      }
    }
    this.dLo = cLo;
    this.dHi = cHi;
    this.dAddr = cAddr;
    this.markAccessed();
    this.setSegFromDesc(CS, (tsel & 0xfffc) | this.cpl);
    this.ip = toff;
  }

  /** RET far [imm16] (SDM RET "PROTECTED-MODE" / "RETURN-TO-OUTER-PRIVILEGE-LEVEL"). */
  farRet(imm: number): void {
    const op32 = this.opsz32;
    const s = op32 ? 4 : 2;
    const eip = op32 ? this.rd32(SS, this.spAdd(0)) >>> 0 : this.rd16(SS, this.spAdd(0));
    const csSel = (op32 ? this.rd32(SS, this.spAdd(s)) : this.rd16(SS, this.spAdd(s))) & 0xffff;
    if (!this.pm()) {
      if (eip > this.segLim[CS] && (this.cr0 & CR0_PE) === 0) this.gp(0);
      this.setSp(this.spAdd(2 * s + imm));
      this.loadSegReal(CS, csSel);
      this.ip = eip;
      return;
    }
    const rpl = csSel & 3;
    this.checkReturnCs(csSel);
    const cLo = this.dLo;
    const cHi = this.dHi;
    const cAddr = this.dAddr;
    const lim = CpuSeg.descLimit(cLo, cHi);
    if (rpl === this.cpl) {
      if (eip > lim) this.gp(0);
      this.setSp(this.spAdd(2 * s + imm));
      this.markAccessed();
      this.setSegFromDesc(CS, csSel);
      this.ip = eip;
      return;
    }
    const nesp = op32 ? this.rd32(SS, this.spAdd(2 * s + imm)) : this.rd16(SS, this.spAdd(2 * s + imm));
    const nss =
      (op32 ? this.rd32(SS, this.spAdd(3 * s + imm)) : this.rd16(SS, this.spAdd(3 * s + imm))) & 0xffff;
    if ((nss & 0xfffc) === 0) this.gp(0);
    this.readDesc(nss, GP);
    const sar = CpuSeg.descAr(this.dHi);
    if ((nss & 3) !== rpl || ((sar >> 5) & 3) !== rpl || (sar & (AR_S | AR_CODE | 2)) !== (AR_S | 2))
      this.gp(nss & 0xfffc);
    if ((sar & AR_P) === 0) this.raise(0x0c, nss & 0xfffc);
    if (eip > lim) this.gp(0);
    const sLo = this.dLo;
    const sHi = this.dHi;
    const sAddr = this.dAddr;
    this.dLo = cLo;
    this.dHi = cHi;
    this.dAddr = cAddr;
    this.markAccessed();
    this.setCpl(rpl);
    this.setSegFromDesc(CS, csSel);
    this.dLo = sLo;
    this.dHi = sHi;
    this.dAddr = sAddr;
    this.markAccessed();
    this.setSegFromDesc(SS, nss);
    this.setSp(this.ss32 ? (nesp + imm) >>> 0 : (nesp + imm) & 0xffff);
    this.ip = eip;
    this.nullInvalidSegs();
  }
}
