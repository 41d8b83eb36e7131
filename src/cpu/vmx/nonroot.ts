/**
 * Instructions in VMX non-root operation (Intel SDM Vol.3C ch.25): the VM-execution controls
 * decide which ones cause VM exits and what CR0/CR4 reads return. The interpreter calls these
 * only when `c.vmxNonRoot` is set; each either returns (the instruction executes normally,
 * possibly with a changed value) or unwinds the instruction with a VM exit.
 * Exit qualifications per §27.2.1 (Tables 27-3 CR access, 27-5 I/O).
 */
import type { CpuCore } from '../core.ts';
import { F, PROC, PROC2, R } from './fields.ts';

/** CPUID, INVD and the VMX instructions exit unconditionally (§25.1.2). */
export function vmxUnconditional(c: CpuCore, reason: number): never {
  return c.vmx.instrExit(reason, 0);
}

/**
 * Iterations a REP string instruction may run before it must stop (EIP kept, ECX counted down):
 * with an MTF VM exit pending after this instruction, one — the exit follows each iteration
 * (SDM Vol. 3C §25.5.2: "If the first iteration of the instruction does not cause a fault, an MTF
 * VM exit is pending on the instruction boundary after that iteration"); else `max`.
 */
export function vmxRepChunk(c: CpuCore, max: number): number {
  return c.instructions + 1 >= c.vmx.mtfAt ? 1 : max;
}

export function vmxHlt(c: CpuCore): void {
  if (c.vmx.proc & PROC.HLT) c.vmx.instrExit(R.HLT, 0);
}

export function vmxInvlpg(c: CpuCore, lin: number): void {
  if (c.vmx.proc & PROC.INVLPG) c.vmx.instrExit(R.INVLPG, lin);
}

/** RDTSC: exits with RDTSC exiting; else the TSC offset applies (§25.3). Returns the offset. */
export function vmxRdtsc(c: CpuCore): number {
  const vmx = c.vmx;
  if (vmx.proc & PROC.RDTSC) vmx.instrExit(R.RDTSC, 0);
  if (vmx.proc & PROC.TSC_OFFSET && vmx.current) {
    const v = vmx.current;
    return (v.get(F.TSC_OFFSET + 1) | 0) * 4294967296 + (v.get(F.TSC_OFFSET) >>> 0);
  }
  return 0;
}

/** MOV DR exits with MOV-DR exiting (qualification: DR number, direction, GPR). */
export function vmxMovDr(c: CpuCore, dr: number, toDr: boolean, gpr: number): void {
  if (c.vmx.proc & PROC.MOV_DR) c.vmx.instrExit(R.MOV_DR, dr | (toDr ? 0 : 0x10) | (gpr << 8));
}

/** RDMSR/WRMSR: without MSR bitmaps every access exits (§25.1.3). */
export function vmxMsr(c: CpuCore, msr: number, write: boolean): void {
  const vmx = c.vmx;
  let exits = true;
  if (vmx.proc & PROC.MSR_BITMAPS && vmx.current) {
    const base = vmx.current.get(F.MSR_BITMAP) >>> 0;
    // Read bitmaps at +0 (low MSRs) and +1024 (0xC0000000…), write bitmaps at +2048 and +3072.
    const lowRange = msr <= 0x1fff;
    const highRange = msr >= 0xc0000000 && msr <= 0xc0001fff;
    if (lowRange || highRange) {
      const off = (write ? 2048 : 0) + (highRange ? 1024 : 0) + ((msr & 0x1fff) >>> 3);
      exits = ((c.physRead8(base + off) >>> (msr & 7)) & 1) !== 0;
    }
  }
  if (exits) vmx.instrExit(write ? R.WRMSR : R.RDMSR, 0);
}

/**
 * I/O instructions (§25.1.3): unconditional I/O exiting, or the I/O bitmaps (A: ports 0–7FFF,
 * B: 8000–FFFF; any bit of the access set → exit; wrapping past FFFF exits).
 * Qualification: size−1, IN, string, REP, immediate operand, port (Table 27-5).
 */
export function vmxIo(
  c: CpuCore,
  port: number,
  size: number,
  isIn: boolean,
  string: boolean,
  rep: boolean,
  imm: boolean,
): void {
  const vmx = c.vmx;
  let exits: boolean;
  if (vmx.proc & PROC.IO_BITMAPS && vmx.current) {
    exits = port + size > 0x10000;
    for (let p = port; !exits && p < port + size; p++) {
      const base = vmx.current.get(p < 0x8000 ? F.IO_BITMAP_A : F.IO_BITMAP_B) >>> 0;
      const bit = p & 0x7fff;
      exits = ((c.physRead8(base + (bit >>> 3)) >>> (bit & 7)) & 1) !== 0;
    }
  } else exits = (vmx.proc & PROC.UNCOND_IO) !== 0;
  if (!exits) return;
  const q = (size - 1) | (isIn ? 8 : 0) | (string ? 16 : 0) | (rep ? 32 : 0) | (imm ? 64 : 0) | (port << 16);
  if (string) {
    // Guest-linear address of the string operand (§27.2.1): ES:EDI for INS, DS:ESI (seg. override) for OUTS.
    const seg = isIn ? 0 : c.segOv >= 0 ? c.segOv : 3;
    const off = isIn ? c.regs[7] : c.regs[6];
    const a = c.adsz32 ? off : off & 0xffff;
    vmx.stage(R.IO, q, (c.ip - c.eip) >>> 0);
    // Instruction information (§27.2.5, INS/OUTS): address size (bits 9:7), segment (17:15).
    vmx.stageInfo(((c.adsz32 ? 1 : 0) << 7) | (seg << 15), (c.segBase[seg] + a) | 0, 0);
    c.raise(0x100);
  }
  vmx.instrExit(R.IO, q);
}

/** CR-access qualification: CR number, access type, GPR (Table 27-3). */
function crQual(cr: number, type: number, gpr: number): number {
  return cr | (type << 4) | (gpr << 8);
}

/** MOV from CR0/CR3/CR4 in non-root: the value the guest reads (§25.3), or an exit (CR3 store). */
export function vmxReadCr(c: CpuCore, cr: number, gpr: number, real: number): number {
  const vmx = c.vmx;
  if (cr === 0) return (real & ~vmx.cr0Mask) | (vmx.cr0Shadow & vmx.cr0Mask);
  if (cr === 4) return (real & ~vmx.cr4Mask) | (vmx.cr4Shadow & vmx.cr4Mask);
  if (cr === 3 && vmx.proc & PROC.CR3_STORE) vmx.instrExit(R.CR_ACCESS, crQual(3, 1, gpr));
  return real;
}

/**
 * MOV to CR0/CR3/CR4 in non-root: exit, or the value to load (bits owned by the host keep their
 * real value, §25.3). CR0/CR4 exit when a masked bit would differ from the read shadow; CR3 exits
 * with CR3-load exiting unless the value is one of the CR3-target values (§25.1.3).
 */
export function vmxWriteCr(c: CpuCore, cr: number, gpr: number, v: number, real: number): number {
  const vmx = c.vmx;
  if (cr === 0 || cr === 4) {
    const mask = cr === 0 ? vmx.cr0Mask : vmx.cr4Mask;
    const shadow = cr === 0 ? vmx.cr0Shadow : vmx.cr4Shadow;
    if ((v ^ shadow) & mask) vmx.instrExit(R.CR_ACCESS, crQual(cr, 0, gpr));
    const nv = (v & ~mask) | (real & mask);
    // Bits fixed in VMX operation and not owned by the host: a bad value is #GP (§25.3, §23.8).
    if (cr === 0) {
      const fixed0 = vmx.proc2 & PROC2.UNRESTRICTED ? 0x20 : 0x80000021 | 0;
      if ((nv & fixed0) !== fixed0) c.gp(0);
    } else if ((nv & 0x2000) === 0) c.gp(0);
    return nv;
  }
  if (cr === 3 && vmx.proc & PROC.CR3_LOAD) {
    if (!vmx.cr3Targets.includes(v)) vmx.instrExit(R.CR_ACCESS, crQual(3, 0, gpr));
  }
  return v;
}

/** CLTS: exits if CR0.TS is host-owned and its shadow is 1; else TS is cleared unless host-owned. */
export function vmxClts(c: CpuCore): boolean {
  const vmx = c.vmx;
  if (vmx.cr0Mask & 8) {
    if (vmx.cr0Shadow & 8) vmx.instrExit(R.CR_ACCESS, crQual(0, 2, 0));
    return false;
  }
  return true;
}

/** LMSW: exits if it would change a host-owned bit of CR0[3:0] relative to the shadow (PE can't be cleared). */
export function vmxLmsw(c: CpuCore, src: number, memOperand: boolean, lin: number): number {
  const vmx = c.vmx;
  const mask = vmx.cr0Mask & 0xf;
  const shadow = vmx.cr0Shadow;
  const changes = ((src ^ shadow) & mask & 0xe) | (src & 1 & mask & ~shadow);
  if (changes) {
    vmx.stage(
      R.CR_ACCESS,
      crQual(0, 3, 0) | (memOperand ? 0x40 : 0) | ((src & 0xffff) << 16),
      (c.ip - c.eip) >>> 0,
    );
    if (memOperand) vmx.stageInfo(0, lin, 0);
    c.raise(0x100);
  }
  return (src & ~mask) | (c.cr0 & mask);
}

/** Descriptor-table exiting (secondary control bit 2): LGDT/LIDT/SGDT/SIDT (46), LLDT/LTR/SLDT/STR (47). */
export function vmxDescTable(c: CpuCore, reason: number, op: number): void {
  if (c.vmx.proc2 & PROC2.DESC_TABLE) {
    c.vmx.stage(reason, 0, (c.ip - c.eip) >>> 0);
    // Instruction information bits 29:28 name the instruction (§27.2.5, Tables 27-10/27-11).
    c.vmx.stageInfo((op & 3) << 28, 0, 0);
    c.raise(0x100);
  }
}
