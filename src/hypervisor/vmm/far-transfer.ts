/**
 * Far JMP/CALL/RET for a deprivileged guest kernel, on the guest's own descriptors (SDM Vol. 2
 * CALL, JMP, RET; Vol. 3A §5.8.4–5.8.6 call gates). The real GDT/LDT are shadows without gates
 * (descriptors.ts), so a guest's far transfer through a call gate faults (#GP, trap-and-emulate)
 * or is a callout (binary translation), and the VMM performs it here: the gate and target checks
 * with the guest's CPL, the stack switch through the guest's TSS with the parameters copied, and a
 * frame holding the guest's own selectors (its kernel's CS with RPL 0, not the real ring 1).
 * A task gate or TSS (a hardware task switch, §7.3) stops the VM with a sentence saying why.
 * Faults are thrown (GuestFault / GuestPageFault) before any state changes.
 */
import type { Cpu } from '../../cpu/index.ts';
import { type Insn, SS } from './decode.ts';
import { GuestFault, guestCpl, loadShadowSeg, readGuestDescriptor, Unvirtualizable } from './deliver.ts';
import { AR_CODE, AR_DC, AR_RW, AR_UNUSABLE, type Descriptor, realRing } from './descriptors.ts';
import type { Vm } from './vm.ts';

const ESP = 4;
const CS = 1;
const GP = 13;
const NP = 11;
const TS = 10;
const SSF = 12;

export function sp(cpu: Cpu): number {
  return cpu.ss32 ? cpu.regs[ESP] >>> 0 : cpu.regs[ESP] & 0xffff;
}
export function setSp(cpu: Cpu, v: number): void {
  if (cpu.ss32) cpu.regs[ESP] = v;
  else cpu.r16[ESP * 2] = v & 0xffff;
}
export function stackLin(cpu: Cpu, off: number): number {
  return (cpu.segBase[SS] + (cpu.ss32 ? off >>> 0 : off & 0xffff)) >>> 0;
}

/** The guest's view of a segment register's selector (ring 1 read as 0). */
export function virtualSelector(cpu: Cpu, seg: number): number {
  const s = cpu.segSel[seg] & 0xffff;
  return (s & 3) === 1 ? s & ~3 : s;
}

/** True for the far transfers this file performs: JMP/CALL ptr16:xx, m16:xx, RETF (imm16). */
export function isFarTransfer(insn: Insn): boolean {
  const o = insn.opcode;
  return (
    o === 0x9a || o === 0xea || o === 0xcb || o === 0xca || (o === 0xff && (insn.reg === 3 || insn.reg === 5))
  );
}

/**
 * The far pointer a JMP/CALL names and the instruction's full length (`decode` stops after the
 * opcode of 9A/EA: their immediates follow). `bytes` start at the instruction.
 */
export function farOperand(
  cpu: Cpu,
  vm: Vm,
  insn: Insn,
  bytes: Uint8Array,
): { sel: number; off: number; len: number } {
  const op32 = insn.opsz32;
  if (insn.opcode === 0x9a || insn.opcode === 0xea) {
    const p = insn.len;
    const off = op32
      ? (bytes[p] | (bytes[p + 1] << 8) | (bytes[p + 2] << 16) | (bytes[p + 3] << 24)) >>> 0
      : bytes[p] | (bytes[p + 1] << 8);
    const q = p + (op32 ? 4 : 2);
    return { sel: bytes[q] | (bytes[q + 1] << 8), off, len: q + 2 };
  }
  if (insn.mod === 3) throw new GuestFault(6, -1);
  const a = (cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0;
  const off = vm.mem.read(a, op32 ? 4 : 2);
  const sel = vm.mem.read((a + (op32 ? 4 : 2)) >>> 0, 2);
  return { sel, off, len: insn.len };
}

/** Far JMP/CALL from the guest's current CPL to `sel:off` (a code segment or a call gate). */
export function farTransfer(
  cpu: Cpu,
  vm: Vm,
  sel: number,
  off: number,
  call: boolean,
  op32: boolean,
  next: number,
): void {
  if ((sel & 0xfffc) === 0) throw new GuestFault(GP, 0);
  const d = readGuestDescriptor(vm, sel);
  if (!d) throw new GuestFault(GP, sel & 0xfffc);
  if (!d.segment) {
    gateTransfer(cpu, vm, sel, d, call, next);
    return;
  }
  if ((d.ar & AR_CODE) === 0) throw new GuestFault(GP, sel & 0xfffc);
  const cpl = guestCpl(cpu);
  const conforming = (d.ar & AR_DC) !== 0;
  if (conforming ? d.dpl > cpl : d.dpl !== cpl || (sel & 3) > cpl) throw new GuestFault(GP, sel & 0xfffc);
  if (!d.present) throw new GuestFault(NP, sel & 0xfffc);
  if (off > d.limit) throw new GuestFault(GP, 0);
  if (call) {
    const size = op32 ? 4 : 2;
    // Both pushes are checked before anything changes (all or nothing).
    const top = sp(cpu);
    vm.mem.write(stackLin(cpu, top - 2 * size), size, next);
    vm.mem.write(stackLin(cpu, top - size), size, virtualSelector(cpu, CS));
    setSp(cpu, top - 2 * size);
  }
  loadShadowSeg(cpu, CS, (sel & ~3) | cpl, d, realRing(cpl));
  cpu.ip = op32 ? off >>> 0 : off & 0xffff;
  cpu.eip = cpu.ip;
}

/** JMP/CALL through a system descriptor: a call gate, or a task switch the VMM does not model. */
function gateTransfer(cpu: Cpu, vm: Vm, sel: number, g: Descriptor, call: boolean, next: number): void {
  const cpl = guestCpl(cpu);
  const what = call ? 'CALL' : 'JMP';
  const type = g.type;
  const isTask = type === 5 || type === 1 || type === 9;
  if (type !== 4 && type !== 12 && !isTask) throw new GuestFault(GP, sel & 0xfffc);
  if (g.dpl < cpl || g.dpl < (sel & 3)) throw new GuestFault(GP, sel & 0xfffc);
  if (!g.present) throw new GuestFault(NP, sel & 0xfffc);
  if (isTask) {
    throw new Unvirtualizable(
      `far ${what} to ${type === 5 ? 'a task gate' : 'a TSS'} (selector 0x${sel.toString(16)}) asks the CPU for a hardware ` +
        'task switch (SDM Vol. 3A §7.3): save every register in the current TSS, load the next task’s — CR3 and LDT ' +
        'included — and link the two. This VMM does not virtualize task switches (a real one would have to shadow ' +
        'both TSSs and switch its shadow page tables), so the VM stops here; Linux and minikernel never use them',
    );
  }
  // A call gate (§5.8.4): the target code segment and offset come from the gate.
  const gate32 = type === 12;
  const size = gate32 ? 4 : 2;
  const tsel = g.lo >>> 16;
  const off = gate32 ? ((g.hi & 0xffff0000) | (g.lo & 0xffff)) >>> 0 : g.lo & 0xffff;
  if ((tsel & 0xfffc) === 0) throw new GuestFault(GP, 0);
  const t = readGuestDescriptor(vm, tsel);
  if (!t?.segment || (t.ar & AR_CODE) === 0 || t.dpl > cpl) throw new GuestFault(GP, tsel & 0xfffc);
  const conforming = (t.ar & AR_DC) !== 0;
  if (!call && !conforming && t.dpl !== cpl) throw new GuestFault(GP, tsel & 0xfffc);
  if (!t.present) throw new GuestFault(NP, tsel & 0xfffc);
  if (off > t.limit) throw new GuestFault(GP, 0);
  if (call && !conforming && t.dpl < cpl) {
    innerCall(cpu, vm, g, t, tsel, off, size, next);
    return;
  }
  if (call) {
    // Same privilege: CS:EIP of the caller, gate-sized; the parameter count is ignored (§5.8.5).
    const top = sp(cpu);
    vm.mem.write(stackLin(cpu, top - 2 * size), size, next);
    vm.mem.write(stackLin(cpu, top - size), size, virtualSelector(cpu, CS));
    setSp(cpu, top - 2 * size);
  }
  loadShadowSeg(cpu, CS, (tsel & ~3) | cpl, t, realRing(cpl));
  cpu.ip = off;
  cpu.eip = off;
}

/**
 * CALL through a gate to a more privileged, non-conforming segment (§5.8.5, Figure 5-13): the new
 * stack from the guest's TSS, then the caller's SS, ESP, `count` parameters copied from its
 * stack, CS and EIP — the guest's own selectors throughout.
 */
function innerCall(
  cpu: Cpu,
  vm: Vm,
  g: Descriptor,
  t: Descriptor,
  tsel: number,
  off: number,
  size: number,
  next: number,
): void {
  const ring = t.dpl;
  const tr = vm.v.tr;
  if (tr.ar & AR_UNUSABLE || (tr.sel & 0xfffc) === 0) throw new GuestFault(TS, tr.sel & 0xfffc);
  const tss32 = (tr.ar & 8) !== 0;
  const at = tss32 ? 4 + ring * 8 : 2 + ring * 4;
  if (at + (tss32 ? 5 : 3) > tr.limit) throw new GuestFault(TS, tr.sel & 0xfffc);
  const nesp = vm.mem.read((tr.base + at) >>> 0, tss32 ? 4 : 2);
  const nss = vm.mem.read((tr.base + at + (tss32 ? 4 : 2)) >>> 0, 2);
  if ((nss & 0xfffc) === 0) throw new GuestFault(TS, 0);
  const sd = readGuestDescriptor(vm, nss);
  if (!sd || (nss & 3) !== ring || sd.dpl !== ring || !sd.segment || sd.ar & AR_CODE || (sd.ar & AR_RW) === 0)
    throw new GuestFault(TS, nss & 0xfffc);
  if (!sd.present) throw new GuestFault(SSF, nss & 0xfffc);
  const count = g.hi & 0x1f;
  // The parameters, read from the caller's stack before anything changes.
  const oldSp = sp(cpu);
  const params: number[] = [];
  for (let i = 0; i < count; i++) params.push(vm.mem.read(stackLin(cpu, oldSp + i * size), size));
  const big = (sd.ar & 0x4000) !== 0;
  const mask = big ? 0xffffffff : 0xffff;
  const frame = (4 + count) * size;
  const top = big ? nesp >>> 0 : nesp & 0xffff;
  const at0 = ((top - frame) & mask) >>> 0;
  const lin = (k: number) => (sd.base + (((at0 + k * size) & mask) >>> 0)) >>> 0;
  // Lowest to highest address: EIP, CS, the parameters (the last pushed lowest), ESP, SS.
  const words = [next, virtualSelector(cpu, CS)];
  for (let i = 0; i < count; i++) words.push(params[i]);
  words.push(cpu.regs[ESP] >>> 0, virtualSelector(cpu, SS));
  // Probe both ends first (all or nothing), then write.
  vm.mem.write(lin(0), size, words[0]);
  vm.mem.write(lin(words.length - 1), size, words[words.length - 1]);
  for (let k = 0; k < words.length; k++)
    vm.mem.write(lin(k), size, size === 2 ? words[k] & 0xffff : words[k]);
  cpu.setCpl(realRing(ring));
  loadShadowSeg(cpu, SS, nss, sd, realRing(ring));
  if (big) cpu.regs[ESP] = at0;
  else cpu.r16[ESP * 2] = at0;
  loadShadowSeg(cpu, CS, (tsel & ~3) | ring, t, realRing(ring));
  cpu.ip = off;
  cpu.eip = off;
}

/**
 * Far RET to the same privilege (RETF imm16 pops `extra` more bytes). Returns false for a return
 * to an outer ring (RPL > CPL): the real RETF does that itself, at real ring 1, on the shadow GDT.
 */
export function farReturn(cpu: Cpu, vm: Vm, op32: boolean, extra: number): boolean {
  const size = op32 ? 4 : 2;
  const off = vm.mem.read(stackLin(cpu, sp(cpu)), size);
  const sel = vm.mem.read(stackLin(cpu, sp(cpu) + size), size) & 0xffff;
  const cpl = guestCpl(cpu);
  if ((sel & 3) > cpl) return false;
  if ((sel & 0xfffc) === 0) throw new GuestFault(GP, 0);
  if ((sel & 3) < cpl) throw new GuestFault(GP, sel & 0xfffc);
  const d = readGuestDescriptor(vm, sel);
  if (!d?.segment || (d.ar & AR_CODE) === 0) throw new GuestFault(GP, sel & 0xfffc);
  if ((d.ar & AR_DC) === 0 ? d.dpl !== cpl : d.dpl > cpl) throw new GuestFault(GP, sel & 0xfffc);
  if (!d.present) throw new GuestFault(NP, sel & 0xfffc);
  if (off > d.limit) throw new GuestFault(GP, 0);
  setSp(cpu, sp(cpu) + 2 * size + extra);
  loadShadowSeg(cpu, CS, sel, d, realRing(cpl));
  cpu.ip = op32 ? off >>> 0 : off & 0xffff;
  cpu.eip = cpu.ip;
  return true;
}
