/**
 * System control port B at 0x61 (IBM PC/AT): bit 0 drives the 8254 channel 2 GATE, bit 1 enables
 * the speaker, bits 2–3 are the parity/channel-check enables (stored only). Reads add bit 4, the
 * DRAM refresh toggle (flips every 15.085 µs of virtual time, so delay loops that count its edges
 * work), and bit 5, channel 2's OUT. Bits 6–7 (parity / channel-check errors) read as 0.
 */
import { type Clock, TICKS_PER_SECOND } from '../clock.ts';
import type { IoPortBus, PortHandler } from '../io-bus.ts';
import type { Pit8254 } from './pit8254.ts';

/** Refresh toggle half-period: 15.085 µs (the PC/AT's refresh request rate). */
const REFRESH_HALF_PERIOD_NS = 15_085;

export class SystemControlPortB implements PortHandler {
  private value = 0;

  constructor(
    private readonly clock: Clock,
    private readonly pit: Pit8254,
  ) {}

  attach(io: IoPortBus): void {
    io.register(0x61, 1, this, 'port61');
  }

  reset(): void {
    this.value = 0;
    this.pit.setGate(2, false);
  }

  read8(): number {
    const ns = Math.floor((this.clock.now() * 1e9) / TICKS_PER_SECOND);
    const refresh = Math.floor(ns / REFRESH_HALF_PERIOD_NS) & 1;
    return (this.value & 0x0f) | (refresh << 4) | (this.pit.out(2) ? 0x20 : 0);
  }

  write8(_port: number, value: number): void {
    this.value = value & 0x0f;
    this.pit.setGate(2, (value & 1) !== 0);
  }
}
