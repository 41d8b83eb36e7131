/**
 * Emulation of the privileged and IOPL-sensitive instructions against the VM's virtual CPU and
 * virtual devices (SDM Vol.2 instruction pages; Vol.3 §2.5 control registers, §2.8 system
 * instructions, §19 I/O). Each handler applies the instruction's architectural effect to the
 * virtual state, adjusts the real state the VMM keeps in sync (shadows, mirrored IF, TLB), steps
 * EIP past the instruction and writes one trap-log record with the details.
 */
import type { Insn } from './decode.ts';
import { GuestFault, Unvirtualizable } from './deliver.ts';
import type { DeprivilegedVmm } from './deprivileged.ts';
import { AR_UNUSABLE, parseDescriptor } from './descriptors.ts';
import { regBit, TrapAction, TrapFlag, TrapKind, TrapOp } from './trap-log.ts';
import type { Vm } from './vm.ts';

const EAX = 0;
const ECX = 1;
const EDX = 2;
const ESI = 6;
const EDI = 7;
const ES = 0;
const DS = 3;
const DF = 0x400;
const CR0_PE = 0x1;
const CR0_TS = 0x8;
const CR0_WP = 0x10000;
const CR0_PG = 0x80000000;
const CR4_PSE = 0x10;
const CR4_TSD = 0x4;
const GPR = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;

function gprBit(i: number): number {
  return regBit(GPR[i]);
}

export function emulatePrivileged(
  te: DeprivilegedVmm,
  vm: Vm,
  insn: Insn,
  eip: number,
  bytes: Uint8Array,
): boolean {
  const cpu = te.cpu;
  const v = vm.v;
  const op = insn.op;
  const PI = TrapKind.PrivilegedInstruction;
  const EIP = regBit('eip');
  const log = (
    kind: TrapKind,
    cost: number,
    flags: number,
    d0: number,
    d1: number,
    d2: number,
    d3: number,
    mask: number,
  ) => te.log(vm, kind, op, cost, eip, bytes, insn, flags, d0, d1, d2, d3, mask | EIP);
  switch (op) {
    case TrapOp.CLI:
    case TrapOp.STI: {
      const old = v.if ? 1 : 0;
      te.advance(insn);
      te.setVirtualIf(vm, op === TrapOp.STI);
      if (op === TrapOp.STI) te.openInterruptWindow(vm);
      log(PI, te.vmm.cost.simple, 0, old, v.if ? 1 : 0, 0, 0, regBit('eflags'));
      return true;
    }
    case TrapOp.HLT: {
      te.advance(insn);
      log(PI, te.vmm.cost.halt, 0, v.if ? 1 : 0, 0, 0, 0, 0);
      if (!v.if) {
        const lost = vm.lostIf;
        if (lost)
          vm.stop(
            'hung',
            'HLT with interrupts disabled (virtual IF = 0): nothing can wake the VM' +
              `; the guest believes they are on: its ${lost.op === TrapOp.IRET ? 'IRET' : 'POPF'} at ` +
              `0x${lost.eip.toString(16)} re-enabled them without a trap (silent event #${lost.seq} in the trap log)`,
          );
        else vm.powerOff('HLT with interrupts disabled (virtual IF = 0), as the guest intended');
        te.vmm.log.setOutcome(TrapAction.Stopped, te.vmm.cost.halt);
      } else if (!vm.devices.pic.hasInterrupt()) {
        vm.state = 'blocked';
        te.vmm.log.setOutcome(TrapAction.Blocked, te.vmm.cost.halt);
        te.vmm.requestStop();
      }
      return true;
    }
    case TrapOp.IN:
    case TrapOp.OUT: {
      const size = (insn.opcode & 1) === 0 ? 1 : insn.opsz32 ? 4 : 2;
      const port =
        insn.opcode === 0xe4 || insn.opcode === 0xe5 || insn.opcode === 0xe6 || insn.opcode === 0xe7
          ? insn.imm
          : cpu.regs[EDX] & 0xffff;
      let value: number;
      te.advance(insn);
      if (op === TrapOp.IN) {
        value = size === 1 ? vm.io.in8(port) : size === 2 ? vm.io.in16(port) : vm.io.in32(port);
        if (size === 1) cpu.r8[0] = value;
        else if (size === 2) cpu.r16[0] = value;
        else cpu.regs[EAX] = value;
      } else {
        value = size === 1 ? cpu.regs[EAX] & 0xff : size === 2 ? cpu.regs[EAX] & 0xffff : cpu.regs[EAX] >>> 0;
        if (size === 1) vm.io.out8(port, value);
        else if (size === 2) vm.io.out16(port, value);
        else vm.io.out32(port, value);
      }
      log(
        TrapKind.PortIo,
        te.vmm.cost.portIo,
        op === TrapOp.OUT ? TrapFlag.Out : 0,
        port,
        size,
        value,
        1,
        op === TrapOp.IN ? regBit('eax') : 0,
      );
      return true;
    }
    case TrapOp.INS:
    case TrapOp.OUTS:
      return stringIo(te, vm, insn, eip, bytes);
    case TrapOp.MOV_TO_CR:
    case TrapOp.MOV_FROM_CR: {
      const n = insn.reg;
      if (n === 1 || n > 4) throw new GuestFault(6, -1);
      if (op === TrapOp.MOV_FROM_CR) {
        const val = [v.cr0, 0, v.cr2, v.cr3, v.cr4][n] >>> 0;
        cpu.regs[insn.rm] = val;
        te.advance(insn);
        log(TrapKind.ControlRegister, te.vmm.cost.register, 0, n, val, val, 0, gprBit(insn.rm));
        return true;
      }
      const val = cpu.regs[insn.rm] >>> 0;
      te.advance(insn);
      const old = writeCr(te, vm, n, val);
      log(TrapKind.ControlRegister, old.cost, 0, n, old.old, val, old.dropped, regBit(`cr${n}` as 'cr0'));
      return true;
    }
    case TrapOp.CLTS: {
      const old = v.cr0;
      v.cr0 = (v.cr0 & ~CR0_TS) >>> 0;
      cpu.cr0 = vm.realCr0() | 0;
      te.advance(insn);
      log(TrapKind.ControlRegister, te.vmm.cost.simple, 0, 0, old, v.cr0, 0, regBit('cr0'));
      return true;
    }
    case TrapOp.LMSW: {
      const src = insn.mod === 3 ? cpu.regs[insn.rm] & 0xffff : vm.mem.read(te.ea(insn), 2);
      // LMSW loads PE, MP, EM, TS; it can set PE but never clear it.
      const nv = ((v.cr0 & ~0xe) | (src & 0xf) | (v.cr0 & CR0_PE)) >>> 0;
      te.advance(insn);
      const r = writeCr(te, vm, 0, nv);
      log(TrapKind.ControlRegister, te.vmm.cost.register, 0, 0, r.old, nv, 0, regBit('cr0'));
      return true;
    }
    case TrapOp.MOV_DR: {
      let n = insn.reg;
      if ((n === 4 || n === 5) && v.cr4 & 0x8) throw new GuestFault(6, -1);
      if (n === 4 || n === 5) n += 2;
      // The guest's debug registers are virtual: the real DR7 stays the VMM's (breakpoints off).
      if (insn.opcode === 0x0f21) {
        cpu.regs[insn.rm] = v.dr[n];
        te.advance(insn);
        log(PI, te.vmm.cost.register, 0, n, v.dr[n] >>> 0, 0, 0, gprBit(insn.rm));
      } else {
        const old = v.dr[n];
        v.dr[n] = cpu.regs[insn.rm] >>> 0;
        te.advance(insn);
        log(PI, te.vmm.cost.register, 0, n, old >>> 0, v.dr[n], 1, regBit('dr'));
      }
      return true;
    }
    case TrapOp.LGDT:
    case TrapOp.LIDT: {
      const a = te.ea(insn);
      const limit = vm.mem.read(a, 2);
      let base = vm.mem.read((a + 2) >>> 0, 4);
      if (!insn.opsz32) base &= 0xffffff;
      te.advance(insn);
      if (op === TrapOp.LIDT) {
        const old = v.idtr.base;
        v.idtr = { base, limit };
        log(PI, te.vmm.cost.lidt, 0, base, limit, old, 0, regBit('idtr'));
        return true;
      }
      const old = v.gdtr.base;
      v.gdtr = { base, limit };
      const t = te.rebuildGdt(vm);
      log(
        PI,
        te.vmm.cost.descriptorTable + te.vmm.cost.perDescriptor * ((limit + 1) >>> 3),
        0,
        base,
        limit,
        old,
        t.compressed,
        regBit('gdtr'),
      );
      return true;
    }
    case TrapOp.LLDT:
    case TrapOp.LTR: {
      const sel = insn.mod === 3 ? cpu.regs[insn.rm] & 0xffff : vm.mem.read(te.ea(insn), 2);
      if (op === TrapOp.LLDT && (sel & 0xfffc) === 0) {
        v.ldtr = { sel, base: 0, limit: 0, ar: AR_UNUSABLE };
        cpu.setSeg(6, sel, 0, 0, AR_UNUSABLE);
        te.advance(insn);
        log(PI, te.vmm.cost.lidt, 0, sel, 0, 0, 0, regBit('ldtr'));
        return true;
      }
      if (sel & 4 || (sel & 0xfffc) === 0) throw new GuestFault(13, sel & 0xfffc);
      const at = (v.gdtr.base + (sel & 0xfff8)) >>> 0;
      if ((sel & 0xfff8) + 7 > v.gdtr.limit) throw new GuestFault(13, sel & 0xfffc);
      const lo = vm.mem.read(at, 4);
      const hi = vm.mem.read((at + 4) >>> 0, 4);
      const d = parseDescriptor(lo, hi);
      if (op === TrapOp.LLDT) {
        if (d.segment || d.type !== 2) throw new GuestFault(13, sel & 0xfffc);
        if (!d.present) throw new GuestFault(11, sel & 0xfffc);
        v.ldtr = { sel, base: d.base, limit: d.limit, ar: d.ar };
        const t = te.rebuildLdt(vm);
        te.advance(insn);
        log(
          PI,
          te.vmm.cost.descriptorTable + te.vmm.cost.perDescriptor * ((d.limit + 1) >>> 3),
          0,
          sel,
          d.base,
          d.limit,
          t.compressed,
          regBit('ldtr'),
        );
        return true;
      }
      if (d.segment || (d.type !== 1 && d.type !== 9)) throw new GuestFault(13, sel & 0xfffc);
      if (!d.present) throw new GuestFault(11, sel & 0xfffc);
      // Mark the guest's TSS descriptor busy, as LTR does (SDM LTR); the real TR stays the VMM's.
      vm.mem.write8((at + 5) >>> 0, ((hi >>> 8) | 2) & 0xff);
      v.tr = { sel, base: d.base, limit: d.limit, ar: d.ar | 2 };
      te.advance(insn);
      log(PI, te.vmm.cost.lidt, 0, sel, d.base, d.limit, 0, regBit('tr'));
      return true;
    }
    case TrapOp.INVLPG: {
      const lin = te.ea(insn);
      const dropped = vm.shadow.invalidate(lin);
      cpu.invlpg(lin);
      te.advance(insn);
      log(PI, te.vmm.cost.invlpg, 0, lin, dropped, 0, 0, 0);
      return true;
    }
    case TrapOp.INVD:
    case TrapOp.WBINVD:
      te.advance(insn);
      log(PI, te.vmm.cost.simple, 0, 0, 0, 0, 0, 0);
      return true;
    case TrapOp.RDMSR:
    case TrapOp.WRMSR: {
      const msr = cpu.regs[ECX] >>> 0;
      const m = v.msr;
      if (op === TrapOp.RDMSR) {
        let val: number;
        if (msr === 0x10) val = cpu.tscNow() + cpu.tscOffset;
        else if (msr === 0x174) val = m.sysenterCs;
        else if (msr === 0x175) val = m.sysenterEsp;
        else if (msr === 0x176) val = m.sysenterEip;
        else throw new GuestFault(13, 0);
        cpu.regs[EAX] = val % 0x100000000;
        cpu.regs[EDX] = Math.floor(val / 0x100000000);
        te.advance(insn);
        log(PI, te.vmm.cost.simple, 0, msr, val >>> 0, 0, 0, regBit('eax') | regBit('edx'));
        return true;
      }
      const val = cpu.regs[EAX] >>> 0;
      if (msr === 0x174) m.sysenterCs = val & 0xffff;
      else if (msr === 0x175) m.sysenterEsp = val;
      else if (msr === 0x176) m.sysenterEip = val;
      else throw new GuestFault(13, 0);
      te.advance(insn);
      log(PI, te.vmm.cost.simple, 0, msr, val, 0, 0, regBit('msr'));
      return true;
    }
    case TrapOp.RDTSC: {
      // Traps only when the guest set CR4.TSD (mirrored): at guest ring 0 it is still allowed.
      const t = cpu.tscNow() + cpu.tscOffset;
      cpu.regs[EAX] = t % 0x100000000;
      cpu.regs[EDX] = Math.floor(t / 0x100000000);
      te.advance(insn);
      log(PI, te.vmm.cost.simple, 0, t >>> 0, 0, 0, 0, regBit('eax') | regBit('edx'));
      return true;
    }
    default:
      return false;
  }
}

/** MOV to CR0/CR3/CR4 (and LMSW): virtual register, shadow coherence, mirrored bits. */
function writeCr(
  te: DeprivilegedVmm,
  vm: Vm,
  n: number,
  val: number,
): { old: number; cost: number; dropped: number } {
  const cpu = te.cpu;
  const v = vm.v;
  if (n === 0) {
    const old = v.cr0;
    if ((val & CR0_PE) === 0)
      throw new Unvirtualizable('the guest left protected mode (CR0.PE = 0): real mode is not virtualized');
    if (val & CR0_PG && (val & CR0_PE) === 0) throw new GuestFault(13, 0);
    v.cr0 = (val | 0x10) >>> 0;
    cpu.cr0 = vm.realCr0() | 0;
    let dropped = 0;
    if ((old ^ v.cr0) & (CR0_PG | CR0_WP)) {
      dropped = vm.shadow.dropAll();
      cpu.flushTlb(false);
      te.vmmSlotCheck(vm);
    }
    return {
      old,
      cost: te.vmm.cost.register + (dropped || (old ^ v.cr0) & CR0_PG ? te.vmm.cost.cr3Write : 0),
      dropped,
    };
  }
  if (n === 2) {
    const old = v.cr2;
    v.cr2 = val;
    return { old, cost: te.vmm.cost.register, dropped: 0 };
  }
  if (n === 3) {
    const old = v.cr3;
    v.cr3 = val;
    // Every shadow built from the old tables is stale (SDM §4.10.4.1: a CR3 write flushes the TLB).
    const dropped = vm.shadow.dropAll();
    cpu.flushTlb(false);
    te.vmmSlotCheck(vm);
    return { old, cost: te.vmm.cost.cr3Write + te.vmm.cost.perShadowTable * dropped, dropped };
  }
  const old = v.cr4;
  v.cr4 = val;
  cpu.cr4 = val & CR4_TSD;
  let dropped = 0;
  if ((old ^ val) & CR4_PSE) {
    dropped = vm.shadow.dropAll();
    cpu.flushTlb(false);
  }
  return { old, cost: te.vmm.cost.register, dropped };
}

/** INS/OUTS (with REP): element by element through the guest's paging, to the VM's device. */
function stringIo(te: DeprivilegedVmm, vm: Vm, insn: Insn, eip: number, bytes: Uint8Array): boolean {
  const cpu = te.cpu;
  const out = insn.op === TrapOp.OUTS;
  const size = (insn.opcode & 1) === 0 ? 1 : insn.opsz32 ? 4 : 2;
  const port = cpu.regs[EDX] & 0xffff;
  const a32 = insn.adsz32;
  const step = cpu.flags & DF ? -size : size;
  const idx = out ? ESI : EDI;
  const seg = out ? (insn.segOv >= 0 ? insn.segOv : DS) : ES;
  const rep = insn.rep !== 0;
  const getCount = () => (a32 ? cpu.regs[ECX] >>> 0 : cpu.regs[ECX] & 0xffff);
  const setReg = (r: number, val: number) => {
    if (a32) cpu.regs[r] = val;
    else cpu.r16[r * 2] = val & 0xffff;
  };
  const getReg = (r: number) => (a32 ? cpu.regs[r] >>> 0 : cpu.regs[r] & 0xffff);
  let n = 0;
  let last = 0;
  // At most one page worth of elements per trap keeps each emulation bounded; the instruction
  // restarts (with the registers advanced) for the rest, exactly like an interrupted REP.
  const max = rep ? Math.min(getCount(), Math.ceil(4096 / size)) : 1;
  for (; n < max; n++) {
    const lin = (cpu.segBase[seg] + getReg(idx)) >>> 0;
    if (out) {
      last = vm.mem.read(lin, size);
      if (size === 1) vm.io.out8(port, last);
      else if (size === 2) vm.io.out16(port, last);
      else vm.io.out32(port, last);
    } else {
      last = size === 1 ? vm.io.in8(port) : size === 2 ? vm.io.in16(port) : vm.io.in32(port);
      vm.mem.write(lin, size, last);
    }
    setReg(idx, getReg(idx) + step);
    if (rep) setReg(ECX, getCount() - 1);
  }
  if (!rep || getCount() === 0) te.advance(insn);
  const flags = TrapFlag.String | (out ? TrapFlag.Out : 0);
  te.log(
    vm,
    TrapKind.PortIo,
    insn.op,
    te.vmm.cost.portIo + te.vmm.cost.portIoElement * n,
    eip,
    bytes,
    insn,
    flags,
    port,
    size,
    last,
    n,
    regBit(GPR[idx]) | (rep ? regBit('ecx') : 0) | regBit('eip'),
  );
  return true;
}
