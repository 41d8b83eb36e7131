/**
 * Judging silent events: the CPU's observer (src/cpu SilentKind) reports every sensitive
 * instruction that did not trap — a POPF/IRET whose IF bit the hardware ignored, a PUSH CS, SGDT,
 * SMSW, LAR, PUSHF … executed at CPL > 0 (Robin & Irvine 2000). A real trap-and-emulate VMM never
 * sees them; TrapLab logs one when it broke Popek & Goldberg's equivalence for this guest: the
 * guest's intent was lost (its IF change did not reach the virtual CPU) or it read a value that
 * differs from what it would have read on the bare machine. Everything else is not logged.
 *
 * A verdict carries what the guest got (or attempted) and what it would have seen natively (or
 * what the VMM keeps), in the record's d0/d1; d2 = SilentKind; d3 = kind-specific (see
 * trap-log.ts `silentSummary`).
 */
import { type Cpu, SilentKind } from '../../cpu/index.ts';
import { readGuestDescriptor } from './deliver.ts';
import { AR_CODE, AR_DC, AR_RW } from './descriptors.ts';
import { GuestPageFault } from './guest-mem.ts';
import { TrapOp } from './trap-log.ts';
import type { Vm } from './vm.ts';

const IF = 0x200;
const TF = 0x100;
const IOPL = 0x3000;

export interface SilentVerdict {
  op: number;
  d0: number;
  d1: number;
  d3: number;
}

const PREFIXES = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]);

/** Opcode (one byte, or 0x0F00 | second byte) and ModR/M of the instruction at `b`. */
function opcodeOf(b: Uint8Array, code32: boolean): { opcode: number; modrm: number; opsz32: boolean } {
  let k = 0;
  let opsz32 = code32;
  while (k < b.length && PREFIXES.has(b[k])) {
    if (b[k] === 0x66) opsz32 = !code32;
    k++;
  }
  let opcode = b[k] ?? 0;
  if (opcode === 0x0f) opcode = 0x0f00 | (b[++k] ?? 0);
  return { opcode, modrm: b[k + 1] ?? 0, opsz32 };
}

/**
 * The verdict on a silent event for the running VM, or null when it changed nothing the guest
 * could notice. `fetch` returns the instruction bytes (only called when they are needed).
 */
export function judgeSilent(
  cpu: Cpu,
  vm: Vm,
  kind: SilentKind,
  cpl: number,
  value: number,
  extra: number,
  fetch: () => Uint8Array,
): SilentVerdict | null {
  const v = vm.v;
  const vcpl = cpl === 1 ? 0 : cpl;
  const vIf = v.if ? 1 : 0;
  switch (kind) {
    case SilentKind.PopfIfDropped:
    case SilentKind.IretIfDropped: {
      // Natively the IF bit is ignored too when the guest's CPL > its IOPL: nothing was lost.
      if (vcpl > v.iopl) return null;
      const wanted = (value & IF) !== 0 ? 1 : 0;
      // The VMM runs guest user mode with interrupts on (it cannot disable them at IOPL 0).
      const kept = kind === SilentKind.IretIfDropped && extra === 3 ? 1 : vIf;
      if (wanted === kept) return null;
      return {
        op: kind === SilentKind.PopfIfDropped ? TrapOp.POPF : TrapOp.IRET,
        d0: value >>> 0,
        d1: ((value & ~IF) | (kept ? IF : 0)) >>> 0,
        d3: kept,
      };
    }
    case SilentKind.IoplDropped: {
      if (vcpl !== 0) return null;
      const wanted = (value >>> 12) & 3;
      if (wanted === v.iopl) return null;
      const b = fetch();
      const op = opcodeOf(b, cpu.code32).opcode === 0xcf ? TrapOp.IRET : TrapOp.POPF;
      return { op, d0: value >>> 0, d1: ((value & ~IOPL) | (v.iopl << 12)) >>> 0, d3: v.iopl };
    }
    case SilentKind.FlagsRead: {
      // Natively PUSHF shows the guest's own IF and IOPL, and no TF the VMM set for itself.
      const effIf = v.if || vcpl === 3;
      let native = (value & ~(IF | IOPL)) | (effIf ? IF : 0) | (v.iopl << 12);
      if (vm.vmmOwnsTf) native &= ~TF;
      if (native >>> 0 === value >>> 0) return null;
      return { op: TrapOp.PUSHF, d0: value >>> 0, d1: native >>> 0, d3: effIf ? 1 : 0 };
    }
    case SilentKind.SegmentRead: {
      const native = (value & 3) === 1 ? value & ~3 : value;
      if (native === value) return null;
      const { opcode } = opcodeOf(fetch(), cpu.code32);
      const op = opcode === 0x8c ? TrapOp.MOV_FROM_SEG : TrapOp.PUSH_SEG;
      return { op, d0: value & 0xffff, d1: native & 0xffff, d3: 0 };
    }
    case SilentKind.TableRead: {
      const { modrm } = opcodeOf(fetch(), cpu.code32);
      const idt = ((modrm >> 3) & 7) === 1;
      const t = idt ? v.idtr : v.gdtr;
      if (t.base >>> 0 === value >>> 0 && t.limit === extra) return null;
      return {
        op: idt ? TrapOp.SIDT : TrapOp.SGDT,
        d0: value >>> 0,
        d1: t.base >>> 0,
        d3: (((extra & 0xffff) << 16) | (t.limit & 0xffff)) >>> 0,
      };
    }
    case SilentKind.SelectorRead: {
      const { modrm } = opcodeOf(fetch(), cpu.code32);
      const str = ((modrm >> 3) & 7) === 1;
      const native = (str ? v.tr.sel : v.ldtr.sel) & 0xffff;
      if (native === (value & 0xffff)) return null;
      return { op: str ? TrapOp.STR : TrapOp.SLDT, d0: value & 0xffff, d1: native, d3: 0 };
    }
    case SilentKind.MswRead: {
      const { modrm, opsz32 } = opcodeOf(fetch(), cpu.code32);
      const whole = modrm >= 0xc0 && opsz32;
      const native = whole ? v.cr0 >>> 0 : v.cr0 & 0xffff;
      if (native === value >>> 0) return null;
      return { op: TrapOp.SMSW, d0: value >>> 0, d1: native, d3: 0 };
    }
    case SilentKind.DescriptorCheck:
      return descriptorCheck(cpu, vm, vcpl, value & 0xffff, extra === 1, fetch());
    default:
      return null;
  }
}

/** LAR/LSL/VERR/VERW: what the guest got against what its own descriptor gives natively. */
function descriptorCheck(
  cpu: Cpu,
  vm: Vm,
  vcpl: number,
  sel: number,
  zf: boolean,
  b: Uint8Array,
): SilentVerdict | null {
  const { opcode, modrm, opsz32 } = opcodeOf(b, cpu.code32);
  const reg = (modrm >> 3) & 7;
  const op =
    opcode === 0x0f02 ? TrapOp.LAR : opcode === 0x0f03 ? TrapOp.LSL : reg === 4 ? TrapOp.VERR : TrapOp.VERW;
  const mask = opsz32 ? 0xffffffff : 0xffff;
  const got = op === TrapOp.LAR || op === TrapOp.LSL ? (zf ? (cpu.regs[reg] & mask) >>> 0 : 0) : 0;
  const n = nativeCheck(vm, op, sel, vcpl, opsz32);
  if (n.zf === zf && n.result === got) return null;
  return { op, d0: got, d1: n.result, d3: ((sel << 16) | (zf ? 2 : 0) | (n.zf ? 1 : 0)) >>> 0 };
}

/** SDM LAR/LSL/VERR/VERW against the guest's own GDT/LDT at the guest's CPL. */
function nativeCheck(
  vm: Vm,
  op: number,
  sel: number,
  vcpl: number,
  opsz32: boolean,
): { zf: boolean; result: number } {
  const no = { zf: false, result: 0 };
  if ((sel & 0xfffc) === 0) return no;
  let d: ReturnType<typeof readGuestDescriptor>;
  try {
    d = readGuestDescriptor(vm, sel);
  } catch (e) {
    if (e instanceof GuestPageFault) return no;
    throw e;
  }
  if (!d) return no;
  const rpl = sel & 3;
  const code = (d.ar & AR_CODE) !== 0;
  const conforming = code && (d.ar & AR_DC) !== 0;
  const visible = conforming && d.segment ? true : d.dpl >= vcpl && d.dpl >= rpl;
  if (!visible) return no;
  if (op === TrapOp.VERR || op === TrapOp.VERW) {
    if (!d.segment) return no;
    const ok = op === TrapOp.VERR ? !code || (d.ar & AR_RW) !== 0 : !code && (d.ar & AR_RW) !== 0;
    return { zf: ok, result: 0 };
  }
  if (!d.segment) {
    const valid = op === TrapOp.LAR ? [1, 2, 3, 4, 5, 9, 0xb, 0xc] : [1, 2, 3, 9, 0xb];
    if (!valid.includes(d.type)) return no;
  }
  if (op === TrapOp.LAR) return { zf: true, result: (d.hi & (opsz32 ? 0x00f0ff00 : 0xff00)) >>> 0 };
  return { zf: true, result: opsz32 ? d.limit >>> 0 : d.limit & 0xffff };
}
