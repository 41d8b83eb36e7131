/** Public surface of the CPU core (see README.md). */

export { SilentKind } from './base.ts';
export type { InterruptLine, IoBus, MemoryBus } from './bus.ts';
export { StopReason } from './constants.ts';
export type { CpuState, RegName, SegState } from './cpu.ts';
export { Cpu } from './cpu.ts';
export type { Monitor, SilentObserver, TrapEvent } from './interrupts.ts';
export { EventKind, MonitorAction } from './interrupts.ts';
