/**
 * The port I/O space: a registry of 65536 ports. Devices claim port ranges with a `PortHandler`.
 * Unclaimed ports read as all ones and ignore writes (an ISA bus with nothing driving it).
 * A 16/32-bit access to a handler that only implements byte access is split into byte accesses to
 * consecutive ports, low byte first (as the bus does for an 8-bit device); each byte goes to
 * whichever handler owns that port.
 */
import type { IoBus } from '../cpu/bus.ts';

export interface PortHandler {
  read8?(port: number): number;
  write8?(port: number, value: number): void;
  read16?(port: number): number;
  write16?(port: number, value: number): void;
  read32?(port: number): number;
  write32?(port: number, value: number): void;
}

export class IoPortBus implements IoBus {
  /**
   * Per port: 0 = unclaimed, else an index into `handlers`/`names` (one entry per register() call).
   * A zero-filled typed array costs nothing to create, where two 64 k-element JS arrays filled with
   * undefined were a large share of creating a Session (one bus per machine and per VM).
   */
  private readonly slot = new Uint16Array(0x10000);
  private readonly handlers: (PortHandler | undefined)[] = [undefined];
  private readonly names: (string | undefined)[] = [undefined];
  /** Accesses to unclaimed ports (reads + writes), for diagnostics. */
  unclaimedAccesses = 0;

  /** Claim `count` ports starting at `base`. Throws if any is already claimed. */
  register(base: number, count: number, handler: PortHandler, name: string): void {
    if (
      !Number.isInteger(base) ||
      !Number.isInteger(count) ||
      base < 0 ||
      count < 1 ||
      base + count > 0x10000
    ) {
      throw new Error(`io-bus: bad port range ${base}+${count} for ${name}`);
    }
    for (let p = base; p < base + count; p++) {
      if (this.slot[p] !== 0) {
        throw new Error(
          `io-bus: port 0x${p.toString(16)} of ${name} already claimed by ${this.names[this.slot[p]]}`,
        );
      }
    }
    if (this.handlers.length > 0xffff) throw new Error(`io-bus: too many port registrations (${name})`);
    const i = this.handlers.length;
    this.handlers.push(handler);
    this.names.push(name);
    this.slot.fill(i, base, base + count);
  }

  unregister(base: number, count: number): void {
    if (count < 1) return;
    this.slot.fill(0, Math.max(base, 0), Math.min(base + count, 0x10000));
  }

  /** Name of the device owning `port`, or undefined. */
  owner(port: number): string | undefined {
    return this.names[this.slot[port & 0xffff]];
  }

  in8(port: number): number {
    port &= 0xffff;
    const h = this.handlers[this.slot[port]];
    if (h?.read8) return h.read8(port) & 0xff;
    this.unclaimedAccesses++;
    return 0xff;
  }

  in16(port: number): number {
    port &= 0xffff;
    const h = this.handlers[this.slot[port]];
    if (h?.read16) return h.read16(port) & 0xffff;
    return this.in8(port) | (this.in8((port + 1) & 0xffff) << 8);
  }

  in32(port: number): number {
    port &= 0xffff;
    const h = this.handlers[this.slot[port]];
    if (h?.read32) return h.read32(port) >>> 0;
    return (this.in16(port) | (this.in16((port + 2) & 0xffff) << 16)) >>> 0;
  }

  out8(port: number, value: number): void {
    port &= 0xffff;
    const h = this.handlers[this.slot[port]];
    if (h?.write8) h.write8(port, value & 0xff);
    else this.unclaimedAccesses++;
  }

  out16(port: number, value: number): void {
    port &= 0xffff;
    const h = this.handlers[this.slot[port]];
    if (h?.write16) {
      h.write16(port, value & 0xffff);
      return;
    }
    this.out8(port, value);
    this.out8((port + 1) & 0xffff, value >>> 8);
  }

  out32(port: number, value: number): void {
    port &= 0xffff;
    const h = this.handlers[this.slot[port]];
    if (h?.write32) {
      h.write32(port, value >>> 0);
      return;
    }
    this.out16(port, value);
    this.out16((port + 2) & 0xffff, value >>> 16);
  }
}
