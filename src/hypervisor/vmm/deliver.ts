/**
 * Delivering events into a deprivileged guest the way its hardware would (SDM Vol.3 §6.12):
 * the VMM reads the gate from the guest's *own* IDT, builds the frame the guest expects on the
 * guest's stack (switching to the stack in the guest's TSS when the guest was in ring 3), and
 * enters the handler at real ring 1. The frame carries the guest's *virtual* CS (RPL 0 for its
 * kernel) and EFLAGS (virtual IF and IOPL), so the guest's IRET back to its kernel traps (RPL 0 <
 * CPL 1) and the VMM restores the virtual IF there (`emulateIret`). The real IF stays 1 throughout.
 */
import type { Cpu } from '../../cpu/index.ts';
import {
  AR_CODE,
  AR_DC,
  AR_RW,
  AR_UNUSABLE,
  compressAr,
  type Descriptor,
  parseDescriptor,
  realRing,
} from './descriptors.ts';
import { GuestPageFault } from './guest-mem.ts';
import type { Vm } from './vm.ts';

const CS = 1;
const SS = 2;
const ESP = 4;
const TF = 0x100;
const IF = 0x200;
const IOPL = 0x3000;
const NT = 0x4000;
const RF = 0x10000;
const VM_FLAG = 0x20000;

/** A fault the guest must see while the VMM acts for it (reflected in turn). */
export class GuestFault {
  constructor(
    readonly vector: number,
    readonly errorCode: number,
  ) {}
}

/**
 * The VM cannot go on: something the VMM does not virtualize (the VM stops as 'unsupported'), or
 * with `tripleFault` a triple fault the guest caused itself (it stops as 'shutdown', as a PC would).
 */
export class Unvirtualizable {
  constructor(
    readonly reason: string,
    readonly tripleFault = false,
  ) {}
}

/** The guest's CPL: ring compression maps real ring 1 to guest ring 0. */
export function guestCpl(cpu: Cpu): number {
  return cpu.cpl === 1 ? 0 : cpu.cpl;
}

/** EFLAGS as the guest should see them in a frame: virtual IF and IOPL, no VMM-owned TF. */
export function virtualEflags(cpu: Cpu, vm: Vm): number {
  let f = cpu.getEflags() & ~(IF | IOPL);
  if (vm.vmmOwnsTf) f &= ~TF;
  return (f | (vm.v.if ? IF : 0) | (vm.v.iopl << 12)) >>> 0;
}

/**
 * The real IF belongs to the VMM: it stays 1 while a guest runs (the guest's IF is purely
 * virtual, `vm.v.if`), and the real IOPL stays 0 so CLI/STI/IN/OUT/HLT trap. A POPF/IRET at real
 * ring 1 ignores the IF bit of its image (CPL > IOPL, SDM POPF/IRET) without trapping; the CPU's
 * observer reports every such instruction and the technique compares the image with the virtual IF.
 */
export function keepRealIf(cpu: Cpu): void {
  if ((cpu.flags & IF) === 0) {
    cpu.flags |= IF;
    cpu.interruptCheck();
  }
}

/** Read a descriptor from the guest's GDT or LDT (virtual GDTR/LDTR) through its paging. */
export function readGuestDescriptor(vm: Vm, sel: number): Descriptor | null {
  const v = vm.v;
  const idx = sel & 0xfff8;
  let base: number;
  let limit: number;
  if (sel & 4) {
    if (v.ldtr.ar & AR_UNUSABLE || (v.ldtr.sel & 0xfffc) === 0) return null;
    base = v.ldtr.base;
    limit = v.ldtr.limit;
  } else {
    base = v.gdtr.base;
    limit = v.gdtr.limit;
  }
  if (idx + 7 > limit) return null;
  const lo = vm.mem.read((base + idx) >>> 0, 4);
  const hi = vm.mem.read((base + idx + 4) >>> 0, 4);
  return parseDescriptor(lo, hi);
}

/** Load a real segment register with the ring-compressed shadow of a guest descriptor. */
export function loadShadowSeg(cpu: Cpu, seg: number, sel: number, d: Descriptor, ring: number): void {
  cpu.setSeg(seg, (sel & ~3) | ring, d.base, d.limit, compressAr(d.ar));
}

function push(
  _cpu: Cpu,
  vm: Vm,
  ssBase: number,
  sp: { v: number },
  big: boolean,
  size: number,
  value: number,
): void {
  sp.v = big ? (sp.v - size) >>> 0 : (sp.v - size) & 0xffff;
  vm.mem.write((ssBase + sp.v) >>> 0, size, value >>> 0);
}

const CONTRIBUTORY = new Set([0, 10, 11, 12, 13]);

/**
 * Deliver vector `vec` to the guest (exception, INT n or virtual interrupt) with the double-fault
 * rules of SDM Vol.3 §6.15 for faults raised while delivering. Returns a description of what was
 * delivered; throws Unvirtualizable when the guest needs something the VMM does not model, or
 * a triple fault.
 */
export function deliver(
  cpu: Cpu,
  vm: Vm,
  vec: number,
  code: number,
  retEip: number,
  soft: boolean,
  ext: boolean,
  /** The INT n instruction's own EIP: a fault while delivering it is the instruction's (restarts there). */
  instrEip = retEip,
): { vector: number; errorCode: number } {
  let v = vec;
  let c = code;
  let s = soft;
  let at = retEip;
  for (let guard = 0; guard < 3; guard++) {
    try {
      deliverOnce(cpu, vm, v, c, at, s, ext || !s);
      return { vector: v, errorCode: c };
    } catch (e) {
      let nv: number;
      let nc: number;
      if (e instanceof GuestPageFault) {
        vm.v.cr2 = e.lin;
        nv = 14;
        nc = e.errorCode;
      } else if (e instanceof GuestFault) {
        nv = e.vector;
        nc = e.errorCode;
      } else throw e;
      if (v === 8)
        throw new Unvirtualizable(`triple fault: vector ${nv} while delivering a double fault`, true);
      if (
        (CONTRIBUTORY.has(v) && CONTRIBUTORY.has(nv)) ||
        (v === 14 && (nv === 14 || CONTRIBUTORY.has(nv)))
      ) {
        v = 8;
        c = 0;
      } else {
        v = nv;
        c = nc;
      }
      if (s) at = instrEip; // e.g. INT n through a gate with DPL < CPL: #GP at the INT (SDM §6.12.1.1)
      s = false;
    }
  }
  throw new Unvirtualizable(`triple fault: unresolvable nested exceptions delivering vector ${vec}`, true);
}

function deliverOnce(
  cpu: Cpu,
  vm: Vm,
  vec: number,
  code: number,
  retEip: number,
  soft: boolean,
  ext: boolean,
): void {
  const g = vm.v;
  const e = ext ? 1 : 0;
  if (vec * 8 + 7 > g.idtr.limit) throw new GuestFault(13, vec * 8 + 2 + e);
  const lo = vm.mem.read((g.idtr.base + vec * 8) >>> 0, 4);
  const hi = vm.mem.read((g.idtr.base + vec * 8 + 4) >>> 0, 4);
  const type = (hi >>> 8) & 0x1f;
  if (type === 5) throw new Unvirtualizable(`task gate in the guest IDT (vector ${vec}): not virtualized`);
  if (type !== 6 && type !== 7 && type !== 0xe && type !== 0xf) throw new GuestFault(13, vec * 8 + 2 + e);
  const vcpl = guestCpl(cpu);
  if (soft && ((hi >>> 13) & 3) < vcpl) throw new GuestFault(13, vec * 8 + 2);
  if ((hi & 0x8000) === 0) throw new GuestFault(11, vec * 8 + 2 + e);
  const gate32 = (type & 8) !== 0;
  const sel = lo >>> 16;
  const off = gate32 ? ((hi & 0xffff0000) | (lo & 0xffff)) >>> 0 : lo & 0xffff;
  if ((sel & 0xfffc) === 0) throw new GuestFault(13, e);
  const d = readGuestDescriptor(vm, sel);
  if (!d) throw new GuestFault(13, (sel & 0xfffc) | e);
  if (!d.segment || (d.ar & AR_CODE) === 0 || d.dpl > vcpl) throw new GuestFault(13, (sel & 0xfffc) | e);
  if (!d.present) throw new GuestFault(11, (sel & 0xfffc) | e);
  if (off > d.limit) throw new GuestFault(13, e);
  if (cpu.flags & VM_FLAG) throw new Unvirtualizable('an event in virtual-8086 mode: not virtualized');
  const flags = virtualEflags(cpu, vm);
  const size = gate32 ? 4 : 2;
  const csV = (cpu.segSel[CS] & ~3) | vcpl;
  const conforming = (d.ar & AR_DC) !== 0;
  let newRing = vcpl;
  if (!conforming && d.dpl < vcpl) {
    // Inter-privilege: the stack for ring `dpl` from the guest's TSS (SDM §6.12.1, §7.2.1).
    const tr = g.tr;
    if (tr.ar & AR_UNUSABLE || (tr.sel & 0xfffc) === 0) throw new GuestFault(10, (tr.sel & 0xfffc) | e);
    const tss32 = (tr.ar & 8) !== 0;
    const at = tss32 ? 4 + d.dpl * 8 : 2 + d.dpl * 4;
    if (at + (tss32 ? 5 : 3) > tr.limit) throw new GuestFault(10, (tr.sel & 0xfffc) | e);
    const nesp = tss32 ? vm.mem.read((tr.base + at) >>> 0, 4) : vm.mem.read((tr.base + at) >>> 0, 2);
    const nss = vm.mem.read((tr.base + at + (tss32 ? 4 : 2)) >>> 0, 2);
    if ((nss & 0xfffc) === 0) throw new GuestFault(10, e);
    const sd = readGuestDescriptor(vm, nss);
    if (
      !sd ||
      (nss & 3) !== d.dpl ||
      sd.dpl !== d.dpl ||
      !sd.segment ||
      sd.ar & AR_CODE ||
      (sd.ar & AR_RW) === 0
    )
      throw new GuestFault(10, (nss & 0xfffc) | e);
    if (!sd.present) throw new GuestFault(12, (nss & 0xfffc) | e);
    const big = (sd.ar & 0x4000) !== 0;
    const sp = { v: big ? nesp >>> 0 : nesp & 0xffff };
    // Probe the whole frame before writing (all or nothing).
    const words = 5 + (code >= 0 ? 1 : 0);
    vm.mem.write((sd.base + ((sp.v - words * size) >>> 0)) >>> 0, size, 0);
    vm.mem.write((sd.base + ((sp.v - size) >>> 0)) >>> 0, size, 0);
    push(cpu, vm, sd.base, sp, big, size, cpu.segSel[SS]);
    push(cpu, vm, sd.base, sp, big, size, cpu.regs[ESP]);
    push(cpu, vm, sd.base, sp, big, size, flags);
    push(cpu, vm, sd.base, sp, big, size, csV);
    push(cpu, vm, sd.base, sp, big, size, retEip);
    if (code >= 0) push(cpu, vm, sd.base, sp, big, size, code);
    newRing = d.dpl;
    cpu.setCpl(realRing(newRing));
    loadShadowSeg(cpu, SS, nss, sd, realRing(newRing));
    if (big) cpu.regs[ESP] = sp.v;
    else cpu.r16[ESP * 2] = sp.v;
  } else {
    const ssBase = cpu.segBase[SS] >>> 0;
    const big = cpu.ss32;
    const sp = { v: big ? cpu.regs[ESP] >>> 0 : cpu.regs[ESP] & 0xffff };
    const words = 3 + (code >= 0 ? 1 : 0);
    vm.mem.write((ssBase + ((sp.v - words * size) >>> 0)) >>> 0, size, 0);
    push(cpu, vm, ssBase, sp, big, size, flags);
    push(cpu, vm, ssBase, sp, big, size, csV);
    push(cpu, vm, ssBase, sp, big, size, retEip);
    if (code >= 0) push(cpu, vm, ssBase, sp, big, size, code);
    if (big) cpu.regs[ESP] = sp.v;
    else cpu.r16[ESP * 2] = sp.v;
  }
  loadShadowSeg(cpu, CS, sel, d, realRing(newRing));
  cpu.ip = off;
  cpu.eip = off;
  cpu.flags &= ~(TF | NT | RF | VM_FLAG);
  if (vm.vmmTf) vm.vmmTf = false;
  if ((type & 1) === 0) vm.v.if = false;
  keepRealIf(cpu);
}

/**
 * IRET from the guest kernel (real ring 1) to a frame whose CS has RPL 0 — it faulted because
 * RPL 0 < CPL 1. Emulate the same-privilege return the guest meant, restoring the virtual IF and
 * IOPL from the image. Returns false when the frame is not one the VMM should emulate.
 */
export function emulateIret(cpu: Cpu, vm: Vm, op32: boolean): boolean {
  if (cpu.flags & NT) throw new Unvirtualizable('IRET with NT set (task return): not virtualized');
  const s = op32 ? 4 : 2;
  const ssBase = cpu.segBase[SS] >>> 0;
  const big = cpu.ss32;
  const sp = big ? cpu.regs[ESP] >>> 0 : cpu.regs[ESP] & 0xffff;
  const at = (k: number) => (ssBase + (big ? (sp + k * s) >>> 0 : (sp + k * s) & 0xffff)) >>> 0;
  const eip = vm.mem.read(at(0), s);
  const csSel = vm.mem.read(at(1), s) & 0xffff;
  const fl = vm.mem.read(at(2), s);
  if ((csSel & 3) !== 0 || guestCpl(cpu) !== 0) return false;
  if (op32 && fl & VM_FLAG) throw new Unvirtualizable('IRET to virtual-8086 mode: not virtualized');
  const d = readGuestDescriptor(vm, csSel);
  if (!d?.segment || (d.ar & AR_CODE) === 0) throw new GuestFault(13, csSel & 0xfffc);
  if ((d.ar & AR_DC) === 0 && d.dpl !== 0) throw new GuestFault(13, csSel & 0xfffc);
  if (!d.present) throw new GuestFault(11, csSel & 0xfffc);
  if (eip > d.limit) throw new GuestFault(13, 0);
  const nsp = big ? (sp + 3 * s) >>> 0 : (sp + 3 * s) & 0xffff;
  if (big) cpu.regs[ESP] = nsp;
  else cpu.r16[ESP * 2] = nsp;
  loadShadowSeg(cpu, CS, csSel, d, 1);
  cpu.ip = op32 ? eip >>> 0 : eip & 0xffff;
  cpu.eip = cpu.ip;
  // Ring 0 may change every flag IRET loads (SDM IRET: CPL 0 → IOPL and IF too).
  cpu.materialize();
  const mask = op32 ? 0x257fd5 : 0x7fd5;
  const img = (cpu.flags & ~mask) | (fl & mask) | 2;
  vm.v.if = (fl & IF) !== 0;
  if (vm.v.if) vm.lostIf = null;
  vm.v.iopl = (fl >>> 12) & 3;
  cpu.flags = ((img & ~IOPL) | IF) >>> 0;
  if (vm.vmmTf) vm.vmmTf = false;
  keepRealIf(cpu);
  return true;
}
