/**
 * National Semiconductor PC16550D UART (datasheet "PC16550D Universal Asynchronous Receiver/
 * Transmitter with FIFOs"), eight registers at `base` (0x3F8 COM1 / IRQ 4, 0x2F8 COM2 / IRQ 3).
 *
 * - Transmit is instantaneous in virtual time: a byte written to THR goes straight to `onTransmit`
 *   (or, in loopback, to the receiver), so THR and the shift register are always empty (LSR bits 5
 *   and 6 read 1). Writing THR clears the THRE interrupt and the transmission completing sets it
 *   again; the IRQ line is pulsed low→high so an edge-triggered PIC sees a fresh request each time.
 * - Receive: the host appends to an input queue (`enqueueInput`); bytes move into the RX FIFO (16
 *   bytes, or the 1-byte holding register with FIFOs off) only while it has room, so nothing is
 *   ever overrun from the host side. With FIFOs on, a character-timeout interrupt (IIR 0x0C) fires
 *   4 character times after the last FIFO activity when data sits below the trigger level.
 * - Interrupt identification priority (datasheet Table IV): receiver line status (0x06) >
 *   received data available (0x04) / character timeout (0x0C) > THR empty (0x02) > modem status
 *   (0x00). IIR bits 7:6 read 11 with FIFOs enabled.
 * - On a PC the INTR pin reaches the PIC through the MCR OUT2 gate: the IRQ line is asserted only
 *   while OUT2 = 1 and not in loopback (where OUT2 is looped internally to DCD instead).
 * - Modem lines from the host side: CTS, DSR and DCD asserted, RI not.
 */
import { settleFields } from '../../cpu/field-reps.ts';
import { type Clock, TICKS_PER_SECOND, type Timer } from '../clock.ts';
import type { IoPortBus, PortHandler } from '../io-bus.ts';
import type { IrqLine } from './irq.ts';

const FIFO_SIZE = 16;
const TRIGGER_LEVELS = [1, 4, 8, 14];
/** Baud-rate generator input: 1.8432 MHz / 16. */
const BAUD_BASE = 115_200;

// LSR bits
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_ERRORS = 0x1e; // OE PE FE BI
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;

export interface UartSnapshot {
  name: string;
  base: number;
  ier: number;
  iir: number;
  lcr: number;
  mcr: number;
  lsr: number;
  msr: number;
  scr: number;
  divisor: number;
  fifoEnabled: boolean;
  rxTrigger: number;
  rxCount: number;
  pendingInput: number;
  transmitted: number;
  /** Level of the IRQ line (after the OUT2 gate). */
  irq: boolean;
}

export interface UartOptions {
  clock: Clock;
  irq: IrqLine;
  /** I/O base (0x3F8 for COM1). */
  base: number;
  name?: string;
  /** Where transmitted bytes go. Can be replaced later through `onTransmit`. */
  onTransmit?: (byte: number) => void;
}

export class Uart16550 implements PortHandler {
  readonly base: number;
  readonly name: string;
  onTransmit: (byte: number) => void;
  private readonly clock: Clock;
  private readonly irq: IrqLine;
  private readonly timeoutTimer: Timer;

  // Registers
  ier = 0;
  lcr = 0;
  mcr = 0;
  scr = 0;
  dll = 0x0c; // 9600 baud, the usual BIOS default
  dlm = 0;
  fifoEnabled = false;
  rxTrigger = 1;
  private lsrErrors = 0;
  private msrDelta = 0;
  private thriPending = false;
  private timeoutPending = false;
  private readonly rx: number[] = [];
  private readonly input: number[] = [];
  private inputHead = 0;
  private irqLevel = false;
  /** Bytes transmitted so far (diagnostics). */
  transmitted = 0;

  constructor(options: UartOptions) {
    this.clock = options.clock;
    this.irq = options.irq;
    this.base = options.base;
    this.name = options.name ?? `uart@${options.base.toString(16)}`;
    this.onTransmit = options.onTransmit ?? (() => {});
    this.timeoutTimer = this.clock.createTimer(`${this.name}-timeout`, () => {
      if (this.fifoEnabled && this.rx.length > 0) this.timeoutPending = true;
      this.updateIrq();
    });
    settleFields(this);
  }

  attach(io: IoPortBus): void {
    io.register(this.base, 8, this, this.name);
  }

  /** Master reset (the input queue, owned by the host, is kept). */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.scr = 0;
    this.dll = 0x0c;
    this.dlm = 0;
    this.fifoEnabled = false;
    this.rxTrigger = 1;
    this.lsrErrors = 0;
    this.msrDelta = 0;
    this.thriPending = false;
    this.timeoutPending = false;
    this.rx.length = 0;
    this.timeoutTimer.clear();
    this.updateIrq();
    this.pump();
  }

  /** Plain-data view of the registers (no side effects: IIR/LSR/MSR are computed, not read). */
  snapshot(): UartSnapshot {
    return {
      name: this.name,
      base: this.base,
      ier: this.ier,
      iir: this.identify(),
      lcr: this.lcr,
      mcr: this.mcr,
      lsr: (this.rx.length > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT,
      msr: this.modemStatus() | this.msrDelta,
      scr: this.scr,
      divisor: (this.dlm << 8) | this.dll,
      fifoEnabled: this.fifoEnabled,
      rxTrigger: this.rxTrigger,
      rxCount: this.rx.length,
      pendingInput: this.pendingInput,
      transmitted: this.transmitted,
      irq: this.irqLevel,
    };
  }

  /** Host → guest: queue bytes for the receiver. They enter the RX FIFO as it has room. */
  enqueueInput(bytes: Uint8Array | readonly number[] | string): void {
    if (typeof bytes === 'string') for (const b of new TextEncoder().encode(bytes)) this.input.push(b);
    else for (const b of bytes) this.input.push(b & 0xff);
    this.pump();
  }

  /** Bytes the host queued that the guest has not yet received into the FIFO. */
  get pendingInput(): number {
    return this.input.length - this.inputHead;
  }

  /** Bytes waiting in the RX FIFO. */
  get rxCount(): number {
    return this.rx.length;
  }

  private get loop(): boolean {
    return (this.mcr & 0x10) !== 0;
  }

  private get rxCapacity(): number {
    return this.fifoEnabled ? FIFO_SIZE : 1;
  }

  /** Move host input into the receiver while it has room (not in loopback: the input is cut off). */
  private pump(): void {
    if (this.loop) return;
    let moved = false;
    while (this.inputHead < this.input.length && this.rx.length < this.rxCapacity) {
      this.rx.push(this.input[this.inputHead++]);
      moved = true;
    }
    if (this.inputHead > 4096 && this.inputHead * 2 > this.input.length) {
      this.input.splice(0, this.inputHead);
      this.inputHead = 0;
    }
    if (moved) this.rxActivity();
  }

  /** Character time in ticks at the current divisor (10 bits per character). */
  private charTicks(): number {
    const divisor = (this.dlm << 8) | this.dll || 0x10000;
    return Math.ceil((10 * divisor * TICKS_PER_SECOND) / BAUD_BASE);
  }

  /** The FIFO changed: restart the character-timeout countdown. */
  private rxActivity(): void {
    this.timeoutPending = false;
    if (this.fifoEnabled && this.rx.length > 0)
      this.timeoutTimer.set(this.clock.now() + 4 * this.charTicks());
    else this.timeoutTimer.clear();
    this.updateIrq();
  }

  private receive(byte: number): void {
    if (this.rx.length >= this.rxCapacity) {
      this.lsrErrors |= LSR_OE; // overrun: the new character is lost (FIFO) / overwrites (16450)
      if (!this.fifoEnabled) this.rx[0] = byte;
    } else {
      this.rx.push(byte);
    }
    this.rxActivity();
  }

  /** IIR value: the highest-priority pending interrupt (datasheet Table IV). */
  private identify(): number {
    const fifoBits = this.fifoEnabled ? 0xc0 : 0;
    const ier = this.ier;
    if (ier & 0x04 && this.lsrErrors & LSR_ERRORS) return fifoBits | 0x06;
    if (ier & 0x01) {
      const ready = this.fifoEnabled ? this.rx.length >= this.rxTrigger : this.rx.length > 0;
      if (ready) return fifoBits | 0x04;
      if (this.timeoutPending && this.rx.length > 0) return fifoBits | 0x0c;
    }
    if (ier & 0x02 && this.thriPending) return fifoBits | 0x02;
    if (ier & 0x08 && this.msrDelta & 0x0f) return fifoBits | 0x00;
    return fifoBits | 0x01;
  }

  private updateIrq(): void {
    const level = (this.identify() & 1) === 0 && (this.mcr & 0x08) !== 0 && !this.loop;
    if (level !== this.irqLevel) {
      this.irqLevel = level;
      this.irq(level);
    }
  }

  /** CTS DSR RI DCD (MSR bits 4–7) as currently seen. */
  private modemStatus(): number {
    if (this.loop) {
      const m = this.mcr;
      return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4);
    }
    return 0x10 | 0x20 | 0x80;
  }

  private setMcr(value: number): void {
    const before = this.modemStatus();
    const wasLoop = this.loop;
    this.mcr = value & 0x1f;
    const after = this.modemStatus();
    const changed = before ^ after;
    if (changed & 0x10) this.msrDelta |= 0x01; // DCTS
    if (changed & 0x20) this.msrDelta |= 0x02; // DDSR
    if (before & 0x40 && !(after & 0x40)) this.msrDelta |= 0x04; // TERI: trailing edge of RI
    if (changed & 0x80) this.msrDelta |= 0x08; // DDCD
    if (wasLoop && !this.loop) this.pump();
    this.updateIrq();
  }

  read8(port: number): number {
    const dlab = (this.lcr & 0x80) !== 0;
    switch ((port - this.base) & 7) {
      case 0: {
        if (dlab) return this.dll;
        const v = this.rx.length > 0 ? (this.rx.shift() as number) : 0;
        this.pump();
        this.rxActivity();
        return v;
      }
      case 1:
        return dlab ? this.dlm : this.ier;
      case 2: {
        const id = this.identify();
        if ((id & 0x0f) === 0x02) {
          this.thriPending = false; // reading IIR with THRE as the source clears it
          this.updateIrq();
        }
        return id;
      }
      case 3:
        return this.lcr;
      case 4:
        return this.mcr;
      case 5: {
        const v = (this.rx.length > 0 ? LSR_DR : 0) | this.lsrErrors | LSR_THRE | LSR_TEMT;
        if (this.lsrErrors) {
          this.lsrErrors = 0; // reading LSR clears the error bits and the line-status interrupt
          this.updateIrq();
        }
        return v;
      }
      case 6: {
        const v = this.modemStatus() | this.msrDelta;
        if (this.msrDelta) {
          this.msrDelta = 0;
          this.updateIrq();
        }
        return v;
      }
      default:
        return this.scr;
    }
  }

  write8(port: number, value: number): void {
    const dlab = (this.lcr & 0x80) !== 0;
    switch ((port - this.base) & 7) {
      case 0:
        if (dlab) {
          this.dll = value;
          return;
        }
        this.transmit(value);
        return;
      case 1:
        if (dlab) {
          this.dlm = value;
          return;
        }
        // Enabling ETBEI while THR is empty raises the THRE interrupt at once.
        if (value & 0x02 && !(this.ier & 0x02)) this.thriPending = true;
        this.ier = value & 0x0f;
        this.updateIrq();
        return;
      case 2:
        this.writeFcr(value);
        return;
      case 3:
        this.lcr = value;
        return;
      case 4:
        this.setMcr(value);
        return;
      case 5:
      case 6:
        return; // LSR/MSR writes: factory test only
      default:
        this.scr = value;
    }
  }

  private transmit(byte: number): void {
    this.thriPending = false;
    if (this.irqLevel) {
      // THR write clears THRE: the line drops before transmission completes and raises it again.
      this.irqLevel = false;
      this.irq(false);
    }
    this.transmitted++;
    if (this.loop) this.receive(byte);
    else this.onTransmit(byte);
    this.thriPending = true; // transmission is instantaneous: THR is empty again
    this.updateIrq();
  }

  private writeFcr(value: number): void {
    const enable = (value & 0x01) !== 0;
    if (enable !== this.fifoEnabled) {
      this.rx.length = 0; // changing the FIFO enable clears both FIFOs
      this.fifoEnabled = enable;
    }
    if (enable) {
      if (value & 0x02) {
        this.rx.length = 0;
        this.lsrErrors &= ~LSR_OE;
      }
      this.rxTrigger = TRIGGER_LEVELS[value >> 6];
    }
    this.pump();
    this.rxActivity();
  }
}
