/**
 * The Bochs/QEMU debug console at port 0xE9: bytes written go to `onByte`; a read returns 0xE9 so
 * guests can detect the port (Bochs "port e9 hack", QEMU -debugcon).
 */
import type { IoPortBus, PortHandler } from '../io-bus.ts';

export class DebugConsole implements PortHandler {
  onByte: (byte: number) => void;
  written = 0;

  constructor(onByte: (byte: number) => void = () => {}) {
    this.onByte = onByte;
  }

  attach(io: IoPortBus, port = 0xe9): void {
    io.register(port, 1, this, 'debugcon');
  }

  read8(): number {
    return 0xe9;
  }

  write8(_port: number, value: number): void {
    this.written++;
    this.onByte(value);
  }
}
