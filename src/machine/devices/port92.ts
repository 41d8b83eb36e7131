/**
 * System control port A at 0x92 ("fast A20", PS/2 and every chipset since): bit 1 gates A20,
 * bit 0 is the fast-reset line — writing it as 1 (a 0→1 transition) resets the CPU. Reads return
 * the A20 state in bit 1; bit 0 reads as last written.
 */
import type { IoPortBus, PortHandler } from '../io-bus.ts';

export interface Port92Options {
  getA20(): boolean;
  setA20(enabled: boolean): void;
  onReset(): void;
}

export class Port92 implements PortHandler {
  private value = 0;

  constructor(private readonly options: Port92Options) {}

  attach(io: IoPortBus): void {
    io.register(0x92, 1, this, 'port92');
  }

  reset(): void {
    this.value = 0;
  }

  read8(): number {
    return (this.value & ~0x02) | (this.options.getA20() ? 0x02 : 0);
  }

  write8(_port: number, value: number): void {
    const old = this.value;
    this.value = value & 0xff;
    this.options.setA20((value & 0x02) !== 0);
    if (value & 0x01 && !(old & 0x01)) this.options.onReset();
  }
}
