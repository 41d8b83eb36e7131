/** Public surface of the CPU core (see README.md). */

export { SilentKind } from './base.ts';
export type { InterruptLine, IoBus, MemoryBus } from './bus.ts';
export { StopReason } from './constants.ts';
export type { CpuState, RegName, SegState } from './cpu.ts';
export { Cpu } from './cpu.ts';
export type { Disassembly } from './disasm.ts';
export { disassemble } from './disasm.ts';
export { instructionLength } from './insn-length.ts';
export type { Monitor, SilentObserver, TrapEvent } from './interrupts.ts';
export { EventKind, MonitorAction } from './interrupts.ts';
/** The block cache's decoder (instruction lengths for binary translation). */
export { predecode } from './predecode.ts';
export type { OpInfo } from './table.ts';
export { lookup as opcodeInfo } from './table.ts';
