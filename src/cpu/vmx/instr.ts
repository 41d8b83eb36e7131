/**
 * Decoding of the VMX instructions (Intel SDM Vol.3C ch.30) for the interpreter:
 *   0F 01 C1 VMCALL · 0F 01 C2 VMLAUNCH · 0F 01 C3 VMRESUME · 0F 01 C4 VMXOFF
 *   F3 0F C7 /6 VMXON m64 · 66 0F C7 /6 VMCLEAR m64 · 0F C7 /6 VMPTRLD m64 · 0F C7 /7 VMPTRST m64
 *   0F 78 VMREAD r/m32, r32 · 0F 79 VMWRITE r32, r/m32 · 66 0F 38 80 INVEPT r32, m128
 * Each pseudocode starts: #UD outside protected mode or in virtual-8086 mode (and, but for VMXON,
 * outside VMX operation); in VMX non-root operation a VM exit; then #GP(0) if CPL > 0.
 */
import { CR0_PE, UD, VM } from '../constants.ts';
import type { CpuCore } from '../core.ts';
import { R } from './fields.ts';

function udChecks(c: CpuCore, needOn: boolean): void {
  if ((c.cr0 & CR0_PE) === 0 || c.flags & VM || (needOn && !c.vmx.on && !c.vmxNonRoot)) c.raise(UD);
}

/** 0F 01 C1–C4 (ModR/M already fetched). */
export function vmxGroup7(c: CpuCore, m: number): void {
  udChecks(c, true);
  const reason = m === 0xc1 ? R.VMCALL : m === 0xc2 ? R.VMLAUNCH : m === 0xc3 ? R.VMRESUME : R.VMXOFF;
  if (c.vmxNonRoot) c.vmx.instrExit(reason, 0);
  if (m === 0xc1) c.vmx.vmcallRoot();
  else if (m === 0xc2) c.vmx.vmlaunch();
  else if (m === 0xc3) c.vmx.vmresume();
  // Executed as machine code, VMLAUNCH/VMRESUME retire after the entry (the interpreter counts
  // them then): guest-instruction bounds armed at entry start after that count.
  else c.vmx.vmxoff();
  if ((m === 0xc2 || m === 0xc3) && c.vmxNonRoot) c.vmx.entryRetires();
}

/** Instruction information for the memory operand (§27.2.5, Table 27-13): scale, address size, segment, base, index. */
function memInfo(c: CpuCore): number {
  return ((c.adsz32 ? 1 : 0) << 7) | (c.eaSeg << 15);
}

/** 0F C7 /6 and /7 (ModR/M decoded; reg field 6 or 7). */
export function vmxC7(c: CpuCore): void {
  const op = c.regField;
  if (c.modrm >= 0xc0) c.raise(UD); // register operands are #UD (RDRAND/RDSEED not modelled)
  const p66 = c.opsz32 !== c.code32;
  const f3 = c.rep === 3;
  const isVmxon = op === 6 && f3;
  udChecks(c, !isVmxon);
  const reason = op === 7 ? R.VMPTRST : isVmxon ? R.VMXON : p66 ? R.VMCLEAR : R.VMPTRLD;
  if (c.vmxNonRoot) {
    c.vmx.stage(reason, c.eaOff, (c.ip - c.eip) >>> 0);
    c.vmx.stageInfo(memInfo(c), (c.segBase[c.eaSeg] + c.eaOff) | 0, 0);
    c.raise(0x100);
  }
  if (op === 7) {
    if (c.cpl !== 0 && c.vmx.on) c.gp(0);
    c.probeWrite(c.eaSeg, c.eaOff, 8);
    const p = c.vmx.vmptrst();
    c.wr32(c.eaSeg, c.eaOff, p);
    c.wr32(c.eaSeg, (c.eaOff + 4) >>> 0, p === -1 ? -1 : 0);
    return;
  }
  if (c.cpl !== 0 && (c.vmx.on || isVmxon)) c.gp(0);
  const lo = c.rd32(c.eaSeg, c.eaOff);
  const hi = c.rd32(c.eaSeg, (c.eaOff + 4) >>> 0);
  if (isVmxon) c.vmx.vmxon(lo, hi);
  else if (p66) c.vmx.vmclear(lo, hi);
  else c.vmx.vmptrld(lo, hi);
}

/** 0F 78 VMREAD / 0F 79 VMWRITE. */
export function vmxReadWrite(c: CpuCore, write: boolean): void {
  c.decodeModrm();
  udChecks(c, true);
  if (c.vmxNonRoot) {
    c.vmx.stage(write ? R.VMWRITE : R.VMREAD, c.modrm < 0xc0 ? c.eaOff : 0, (c.ip - c.eip) >>> 0);
    const regOp = c.modrm >= 0xc0 ? (1 << 10) | ((c.modrm & 7) << 3) : 0;
    c.vmx.stageInfo(memInfo(c) | regOp | (c.regField << 28), 0, 0);
    c.raise(0x100);
  }
  if (c.cpl !== 0) c.gp(0);
  const enc = c.regs[c.regField];
  if (write) {
    c.vmx.vmwrite(enc, c.getE32());
    return;
  }
  if (c.modrm < 0xc0) c.probeWrite(c.eaSeg, c.eaOff, 4);
  const v = c.vmx.vmread(enc);
  if (v !== null) c.setE32(v);
}

/** 0F 38 xx: only 66 0F 38 80 (INVEPT) and 66 0F 38 81 (INVVPID) are modelled. */
export function vmx0f38(c: CpuCore): void {
  const b = c.fetch8();
  if ((b !== 0x80 && b !== 0x81) || c.opsz32 === c.code32) c.raise(UD);
  c.decodeModrm();
  if (c.modrm >= 0xc0) c.raise(UD);
  udChecks(c, true);
  if (c.vmxNonRoot) {
    c.vmx.stage(b === 0x80 ? R.INVEPT : R.INVVPID, c.eaOff, (c.ip - c.eip) >>> 0);
    c.vmx.stageInfo(memInfo(c) | (c.regField << 28), 0, 0);
    c.raise(0x100);
  }
  if (c.cpl !== 0) c.gp(0);
  const type = c.regs[c.regField];
  const lo = c.rd32(c.eaSeg, c.eaOff);
  if (b === 0x80) c.vmx.invept(type, lo);
  else c.vmx.invvpid(type, lo);
}
