/** Helpers shared by the machine's unit tests: a hand-cranked clock and a port-bus wrapper. */
import { VirtualClock } from './clock.ts';
import { IoPortBus } from './io-bus.ts';

/** A VirtualClock whose "instruction count" the test advances by hand. */
export class ManualClock extends VirtualClock {
  private t = 0;
  constructor() {
    let self: ManualClock | null = null;
    super(() => (self ? self.t : 0));
    self = this;
  }
  /** Advance virtual time by `ticks` and fire timers that became due. */
  advance(ticks: number): void {
    this.t += ticks;
    this.runDue();
  }
  /** Advance to absolute tick `t`. */
  advanceTo(t: number): void {
    this.advance(t - this.now());
  }
}

/** Records the level history of an IRQ line. */
export class IrqProbe {
  level = false;
  rises = 0;
  readonly line = (level: boolean): void => {
    if (level && !this.level) this.rises++;
    this.level = level;
  };
}

export function bus(): IoPortBus {
  return new IoPortBus();
}
