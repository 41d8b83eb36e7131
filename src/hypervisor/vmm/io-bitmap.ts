/**
 * The I/O permission bit map in the guest's own TSS (SDM Vol. 1 §19.5.2): at CPL > IOPL an
 * IN/OUT/INS/OUTS is allowed when every bit for its ports is 0. The processor reads two bytes at
 * map base + port / 8; either beyond the TSS limit means #GP. The real TSS is the VMM's (no map),
 * so a guest user program's permitted port access faults and the VMM checks the guest's map.
 */
import type { Cpu } from '../../cpu/index.ts';
import type { Insn } from './decode.ts';
import { AR_UNUSABLE } from './descriptors.ts';
import { GuestPageFault } from './guest-mem.ts';
import type { Vm } from './vm.ts';

const EDX = 2;

/** True when the guest's TSS I/O map allows the port access of this IN/OUT/INS/OUTS. */
export function ioBitmapAllows(cpu: Cpu, vm: Vm, insn: Insn): boolean {
  const o = insn.opcode;
  const port = o >= 0xe4 && o <= 0xe7 ? insn.imm & 0xff : cpu.regs[EDX] & 0xffff;
  const size = (o & 1) === 0 ? 1 : insn.opsz32 ? 4 : 2;
  const tr = vm.v.tr;
  // Only a 32-bit TSS has a map (type 9/11: bit 3 of the type).
  if (tr.ar & AR_UNUSABLE || (tr.sel & 0xfffc) === 0 || (tr.ar & 8) === 0 || tr.limit < 103) return false;
  try {
    const base = vm.mem.read((tr.base + 102) >>> 0, 2);
    const at = base + (port >>> 3);
    if (at + 1 > tr.limit) return false;
    const word = vm.mem.read((tr.base + at) >>> 0, 2);
    return ((word >>> (port & 7)) & ((1 << size) - 1)) === 0;
  } catch (e) {
    if (e instanceof GuestPageFault) return false;
    throw e;
  }
}
