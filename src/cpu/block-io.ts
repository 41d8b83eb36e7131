/**
 * IN/OUT (E4–E7, EC–EF without prefixes) as records of their own. Through `interpret` the #GP(0)
 * of a deprivileged guest's I/O (CPL > IOPL and the TSS bitmap refusing the port, SDM Vol.1
 * §19.5; V86 mode never builds blocks: its code is 16-bit) unwound portIo ← op_e4/op_ec ←
 * execute ← interpret, and the trap-and-emulate trapdemo faults every ~15 instructions: its
 * blocks tier ran ~1.1× the interpreter warm (PERF.md, "Session 13 — order13"). Here the throw
 * unwinds portIo and the record, as DIV's #DE does (block-div.ts).
 *
 * The predecoder makes them end their block, so the run loop stores EIP/IP before the call as it
 * does for `interpret`: a VM exit's instruction length (vmxIo) and a fault's EIP/IP are the
 * interpreter's. The access itself sets `attention` (CpuCore.ioHappened: a device may have raised
 * INTR or asked for a stop), and the run loop returns to run()'s boundary after it.
 */
import { type Op, S, T } from './block-ops.ts';
import { EDX } from './constants.ts';
import { portIo } from './ops-high.ts';

/** IN AL/EAX, imm8 and OUT imm8, AL/EAX (S: the port, T: the opcode). */
export const ioImm: Op = (c, a, k) => {
  portIo(c, a[k + T], a[k + S]);
};

/** IN AL/EAX, DX and OUT DX, AL/EAX (T: the opcode). */
export const ioDx: Op = (c, a, k) => {
  portIo(c, a[k + T], c.r16[EDX << 1]);
};
