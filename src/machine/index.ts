/** Public surface of the physical machine (see README.md). Loaders: ./loaders/index.ts. */
export { ByteSink } from './byte-sink.ts';
export {
  type Clock,
  cyclesToTicks,
  NS_PER_TICK,
  TICKS_PER_SECOND,
  Timer,
  ticksToCycles,
  VirtualClock,
} from './clock.ts';
export { CmosRtc, DEFAULT_RTC_START } from './devices/cmos-rtc.ts';
export { DebugExit } from './devices/debug-exit.ts';
export { DebugConsole } from './devices/debugcon.ts';
export { DualPic } from './devices/dual-pic.ts';
export { I8042 } from './devices/i8042.ts';
export type { IrqLine } from './devices/irq.ts';
export { Pic8259, type PicSnapshot } from './devices/pic8259.ts';
export { PIT_HZ, Pit8254, type PitChannelSnapshot } from './devices/pit8254.ts';
export { SystemControlPortB } from './devices/port61.ts';
export { Port92 } from './devices/port92.ts';
export { PostCodePort } from './devices/post-codes.ts';
export { Uart16550, type UartSnapshot } from './devices/uart16550.ts';
export { IoPortBus, type PortHandler } from './io-bus.ts';
export { type MmioHandler, PhysicalMemory } from './memory.ts';
export {
  type CpuFactory,
  type MachineCpu,
  type MachineState,
  Pc,
  type PcOptions,
  type RunResult,
} from './pc.ts';
export { PcPlatform, type PlatformOptions, type PlatformSnapshot } from './platform.ts';
