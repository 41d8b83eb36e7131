/**
 * What the VMM does at the callouts that trap-and-emulate has no emulation for — the sensitive
 * instructions that never trap at ring 1 (Robin & Irvine 2000) and the control flow a translator
 * must redirect (far JMP/CALL/RET are shared with trap-and-emulate: ../vmm/far-transfer.ts). Each works on the guest's state at the guest instruction (the caller has put the
 * guest EIP in the CPU) and leaves it as the bare machine would after the instruction (SDM Vol.2
 * instruction pages). Faults are thrown (GuestPageFault / GuestFault) before any state changes.
 */
import type { Cpu } from '../../cpu/index.ts';
import type { Insn } from '../vmm/decode.ts';
import { guestCpl, readGuestDescriptor, virtualEflags } from '../vmm/deliver.ts';
import { AR_CODE, AR_DC, AR_RW } from '../vmm/descriptors.ts';
import { setSp, sp, stackLin } from '../vmm/far-transfer.ts';
import type { Vm } from '../vmm/vm.ts';

const IF = 0x200;
const VM_FLAG = 0x20000;
const RF = 0x10000;
const ZF = 0x40;
/** Bits POPF may change at guest CPL 0 besides IF/IOPL (CF PF AF ZF SF TF DF OF NT AC ID). */
const POPF_MASK = 0x254fd5;

/** Push `size` bytes on the guest stack (all or nothing). */
export function push(cpu: Cpu, vm: Vm, size: number, v: number): void {
  const n = sp(cpu) - size;
  vm.mem.write(stackLin(cpu, n), size, v >>> 0);
  setSp(cpu, n);
}

/** Read `size` bytes at the top of the guest stack + `k` bytes (no state change). */
export function peekStack(cpu: Cpu, vm: Vm, size: number, k = 0): number {
  return vm.mem.read(stackLin(cpu, sp(cpu) + k), size);
}

/** The top of the guest stack with one guest page walk when it does not cross a page. */
export function readStack(cpu: Cpu, vm: Vm, size: number): number {
  const lin = stackLin(cpu, sp(cpu));
  if ((lin & 0xfff) > 0x1000 - size) return vm.mem.read(lin, size);
  const r = vm.mem.walk(lin, false, false, true);
  if (r !== true) return vm.mem.read(lin, size); // throws the guest's #PF
  const g = vm.mem.info.gpa;
  const lo = vm.mem.readPhys8(g) | (vm.mem.readPhys8(g + 1) << 8);
  return size === 2 ? lo : (lo | (vm.mem.readPhys8(g + 2) << 16) | (vm.mem.readPhys8(g + 3) << 24)) >>> 0;
}

/** The `k`-th `size`-byte word from the top of the guest stack (no state change). */
export function readStackAt(cpu: Cpu, vm: Vm, size: number, k: number): number {
  return vm.mem.read(stackLin(cpu, sp(cpu) + k * size), size);
}

export function popBytes(cpu: Cpu, n: number): void {
  setSp(cpu, sp(cpu) + n);
}

/** PUSHF: the image the guest would push natively (virtual IF/IOPL; VM and RF read as 0). */
export function pushf(cpu: Cpu, vm: Vm, op32: boolean): number {
  const img = virtualEflags(cpu, vm) & ~(VM_FLAG | RF);
  push(cpu, vm, op32 ? 4 : 2, op32 ? img : img & 0xffff);
  return img >>> 0;
}

/**
 * POPF at guest CPL 0: every flag loads, IF and IOPL into the virtual CPU (the real IF stays the
 * VMM's). Returns the image popped.
 */
export function popf(cpu: Cpu, vm: Vm, op32: boolean, setIf: (on: boolean) => void): number {
  const size = op32 ? 4 : 2;
  const img = peekStack(cpu, vm, size);
  popBytes(cpu, size);
  const mask = op32 ? POPF_MASK : POPF_MASK & 0xffff;
  cpu.setFlagBits(img, mask);
  if (guestCpl(cpu) <= vm.v.iopl) setIf((img & IF) !== 0);
  if (guestCpl(cpu) === 0) vm.v.iopl = (img >>> 12) & 3;
  return img >>> 0;
}

/** Target of a near JMP/CALL r/m (FF /2, /4). */
export function indirectTarget(vm: Vm, cpu: Cpu, insn: Insn): number {
  if (insn.mod === 3) return insn.opsz32 ? cpu.regs[insn.rm] >>> 0 : cpu.regs[insn.rm] & 0xffff;
  return vm.mem.read((cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0, insn.opsz32 ? 4 : 2);
}

/** Store a 16-bit value to r/m16 (a 32-bit register destination gets it zero-extended). */
export function storeRm16(vm: Vm, cpu: Cpu, insn: Insn, v: number): void {
  if (insn.mod === 3) {
    if (insn.opsz32) cpu.regs[insn.rm] = v & 0xffff;
    else cpu.r16[insn.rm * 2] = v & 0xffff;
  } else vm.mem.write((cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0, 2, v & 0xffff);
}

/** SGDT/SIDT: limit then base, as the guest set them (its virtual GDTR/IDTR). */
export function storeTable(vm: Vm, cpu: Cpu, insn: Insn, t: { base: number; limit: number }): void {
  const a = (cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0;
  const base = insn.opsz32 ? t.base >>> 0 : t.base & 0xffffff;
  vm.mem.write(a, 2, t.limit & 0xffff);
  vm.mem.write((a + 2) >>> 0, 4, base);
}

/**
 * LAR/LSL/VERR/VERW against the guest's own descriptor at the guest's CPL (SDM Vol.2 LAR/LSL/VERR):
 * ZF = 1 and the result when the descriptor is visible, else ZF = 0. Returns [zf, value].
 */
export function descriptorCheck(
  vm: Vm,
  cpu: Cpu,
  which: 'lar' | 'lsl' | 'verr' | 'verw',
  sel: number,
): [boolean, number] {
  if ((sel & 0xfffc) === 0) return [false, 0];
  const d = readGuestDescriptor(vm, sel);
  if (!d) return [false, 0];
  const cpl = guestCpl(cpu);
  const conforming = d.segment && (d.ar & (AR_CODE | AR_DC)) === (AR_CODE | AR_DC);
  if (!conforming && (d.dpl < cpl || d.dpl < (sel & 3))) return [false, 0];
  if (which === 'verr' || which === 'verw') {
    if (!d.segment) return [false, 0];
    if (which === 'verw') return [(d.ar & AR_CODE) === 0 && (d.ar & AR_RW) !== 0, 0];
    return [(d.ar & AR_CODE) === 0 || (d.ar & AR_RW) !== 0, 0];
  }
  if (!d.segment) {
    // System descriptors LAR/LSL accept: TSS (1, 3, 9, 11), LDT (2); LAR also call/task gates.
    const t = d.type;
    const ok = [1, 2, 3, 9, 11].includes(t) || (which === 'lar' && [4, 5, 12].includes(t));
    if (!ok) return [false, 0];
  }
  if (which === 'lsl') return [true, d.limit >>> 0];
  // Masked as the CPU's own LAR does (src/cpu/system.ts): bits 19:16 (limit 19:16) read as 0.
  return [true, d.hi & 0x00f0ff00];
}

export { ZF };
