/**
 * The PC's legacy devices wired together on one I/O bus and one clock: the 8259A pair, the 8254
 * and port 0x61, 16550A UARTs (COM1, optional COM2), the CMOS/RTC, the i8042 and port 0x92 (both
 * optional), POST port 0x80, debug console 0xE9 and isa-debug-exit 0xF4.
 *
 * The physical `Pc` builds one around its CPU; the hypervisor builds one per VM on the VM's own
 * `IoPortBus` and `VirtualClock`, so every VM gets the same hardware, and nothing is global.
 * The PIC pair is the INTR line to hand to whichever CPU (real or virtual) sits on top.
 */
import { ByteSink } from './byte-sink.ts';
import type { Clock } from './clock.ts';
import { CmosRtc } from './devices/cmos-rtc.ts';
import { DebugExit } from './devices/debug-exit.ts';
import { DebugConsole } from './devices/debugcon.ts';
import { DualPic } from './devices/dual-pic.ts';
import { I8042 } from './devices/i8042.ts';
import type { PicSnapshot } from './devices/pic8259.ts';
import { Pit8254, type PitChannelSnapshot } from './devices/pit8254.ts';
import { SystemControlPortB } from './devices/port61.ts';
import { Port92 } from './devices/port92.ts';
import { PostCodePort } from './devices/post-codes.ts';
import { Uart16550, type UartSnapshot } from './devices/uart16550.ts';
import type { IoPortBus } from './io-bus.ts';

export interface PlatformSnapshot {
  pic: { master: PicSnapshot; slave: PicSnapshot; spurious: number };
  pit: PitChannelSnapshot[];
  uarts: UartSnapshot[];
  cmos: ReturnType<CmosRtc['snapshot']>;
  kbc: ReturnType<I8042['snapshot']> | null;
  postCodes: number;
  lastPostCode: number;
}

export interface PlatformOptions {
  clock: Clock;
  io: IoPortBus;
  /** RAM size reported in the CMOS memory-size bytes. */
  ramBytes: number;
  /** Add COM2 at 0x2F8 / IRQ 3. */
  com2?: boolean;
  /** RTC date at virtual time 0 (ms since the epoch, UTC). */
  rtcStart?: number;
  /** Include the i8042 keyboard controller and port 0x92 (default true). */
  keyboardController?: boolean;
  /** The guest wrote to isa-debug-exit: `status` = (value << 1) | 1. */
  onExit(status: number): void;
  /** The reset line was pulsed (keyboard controller or port 0x92); `why` names the source. */
  onReset(why: string): void;
  getA20(): boolean;
  setA20(enabled: boolean): void;
}

export class PcPlatform {
  readonly pic = new DualPic();
  readonly pit: Pit8254;
  readonly port61: SystemControlPortB;
  /** COM1 (index 0) and, if enabled, COM2. */
  readonly uarts: Uart16550[];
  /** Transmitted bytes per UART, until taken. */
  readonly serialOut: ByteSink[];
  readonly cmos: CmosRtc;
  readonly kbc: I8042 | null;
  readonly port92: Port92 | null;
  readonly post = new PostCodePort();
  readonly debugconOut = new ByteSink();
  readonly debugcon: DebugConsole;
  readonly debugExit: DebugExit;

  constructor(o: PlatformOptions) {
    const { clock, io } = o;
    this.pit = new Pit8254({ clock, irq0: this.pic.line(0) });
    this.port61 = new SystemControlPortB(clock, this.pit);
    const com = [{ base: 0x3f8, irq: 4, name: 'com1' }];
    if (o.com2) com.push({ base: 0x2f8, irq: 3, name: 'com2' });
    this.serialOut = com.map(() => new ByteSink());
    this.uarts = com.map(
      (c, i) =>
        new Uart16550({
          clock,
          irq: this.pic.line(c.irq),
          base: c.base,
          name: c.name,
          onTransmit: (b) => this.serialOut[i].push(b),
        }),
    );
    this.cmos = new CmosRtc({ clock, irq: this.pic.line(8), ramBytes: o.ramBytes, startTime: o.rtcStart });
    if (o.keyboardController ?? true) {
      const a20 = { getA20: () => o.getA20(), setA20: (on: boolean) => o.setA20(on) };
      this.kbc = new I8042({
        irq1: this.pic.line(1),
        irq12: this.pic.line(12),
        ...a20,
        onReset: () => o.onReset('keyboard controller reset (0xFE)'),
      });
      this.port92 = new Port92({ ...a20, onReset: () => o.onReset('port 0x92 fast reset') });
    } else {
      this.kbc = null;
      this.port92 = null;
    }
    this.debugcon = new DebugConsole((b) => this.debugconOut.push(b));
    this.debugExit = new DebugExit((status) => o.onExit(status));

    this.pic.attach(io);
    this.pit.attach(io);
    this.port61.attach(io);
    for (const u of this.uarts) u.attach(io);
    this.cmos.attach(io);
    this.kbc?.attach(io);
    this.port92?.attach(io);
    this.post.attach(io);
    this.debugcon.attach(io);
    this.debugExit.attach(io);
  }

  /** Plain-data view of every device, for the UI and tests (reading it changes nothing). */
  snapshot(): PlatformSnapshot {
    return {
      pic: {
        master: this.pic.master.snapshot(),
        slave: this.pic.slave.snapshot(),
        spurious: this.pic.spuriousCount,
      },
      pit: this.pit.snapshot(),
      uarts: this.uarts.map((u) => u.snapshot()),
      cmos: this.cmos.snapshot(),
      kbc: this.kbc ? this.kbc.snapshot() : null,
      postCodes: this.post.total,
      lastPostCode: this.post.last,
    };
  }

  /** System reset of every device (CMOS RAM and time persist; host input queues are kept). */
  reset(): void {
    this.pic.reset();
    this.pit.reset();
    this.port61.reset();
    for (const u of this.uarts) u.reset();
    this.cmos.reset();
    this.kbc?.reset();
    this.port92?.reset();
  }
}
