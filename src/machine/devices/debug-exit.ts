/**
 * QEMU's isa-debug-exit device (iobase 0xF4, iosize 1): writing V asks the machine to exit with
 * status (V << 1) | 1, so a guest can report success or failure without a real power-off path.
 * Wider accesses are split by the I/O bus, so `out dx, ax` exits with the low byte, as in QEMU.
 * Reads return all ones.
 */
import type { IoPortBus, PortHandler } from '../io-bus.ts';

export class DebugExit implements PortHandler {
  constructor(private readonly onExit: (status: number) => void) {}

  attach(io: IoPortBus, port = 0xf4): void {
    io.register(port, 1, this, 'isa-debug-exit');
  }

  read8(): number {
    return 0xff;
  }

  write8(_port: number, value: number): void {
    this.onExit(((value & 0xff) << 1) | 1);
  }
}
