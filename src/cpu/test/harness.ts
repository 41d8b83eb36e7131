/**
 * Minimal test machine for CPU tests: flat RAM, a COM1 that collects bytes (LSR always ready),
 * the isa-debug-exit port 0xF4, and a settable INTR line. Not the real machine (src/machine/).
 */
import type { InterruptLine, IoBus, MemoryBus } from '../bus.ts';
import { Cpu } from '../cpu.ts';

export class TestBus implements MemoryBus, IoBus, InterruptLine {
  readonly ram: Uint8Array;
  serial = '';
  exitCode = -1;
  pendingVector = -1;
  /** UART scratch register (0x3FF) and POST port (0x80) latches, for I/O permission tests. */
  scratch = new Uint8Array(0x10000);
  /** Enable the latches (off by default: SST vectors expect every port to read as all ones). */
  latchPorts = false;
  ioLog: Array<[string, number, number]> = [];
  logIo = false;
  constructor(size = 16 << 20) {
    this.ram = new Uint8Array(size);
  }
  isDirect(page: number): boolean {
    return page < this.ram.length >>> 12;
  }
  read8(addr: number): number {
    return addr >>> 0 < this.ram.length ? this.ram[addr >>> 0] : 0xff;
  }
  write8(addr: number, v: number): void {
    if (addr >>> 0 < this.ram.length) this.ram[addr >>> 0] = v;
  }
  in8(port: number): number {
    if (this.logIo) this.ioLog.push(['in8', port, 0]);
    if (port === 0x3fd) return 0x60;
    if (this.latchPorts && (port === 0x3ff || port === 0x80 || port === 0x81)) return this.scratch[port];
    return 0xff;
  }
  in16(port: number): number {
    if (this.logIo) this.ioLog.push(['in16', port, 0]);
    if (this.latchPorts && port === 0x80) return this.scratch[0x80] | (this.scratch[0x81] << 8);
    return 0xffff;
  }
  in32(port: number): number {
    if (this.logIo) this.ioLog.push(['in32', port, 0]);
    return -1;
  }
  out8(port: number, v: number): void {
    if (this.logIo) this.ioLog.push(['out8', port, v]);
    if (port === 0x3f8) this.serial += String.fromCharCode(v);
    if (port === 0x3ff || port === 0x80 || port === 0x81) this.scratch[port] = v;
    if (port === 0xf4) this.exitCode = v;
  }
  out16(port: number, v: number): void {
    if (this.logIo) this.ioLog.push(['out16', port, v]);
    if (port === 0x80) {
      this.scratch[0x80] = v & 0xff;
      this.scratch[0x81] = (v >> 8) & 0xff;
    }
    if (port === 0xf4) this.exitCode = v & 0xff;
  }
  out32(port: number, v: number): void {
    if (this.logIo) this.ioLog.push(['out32', port, v]);
    if (port === 0xf4) this.exitCode = v & 0xff;
  }
  hasInterrupt(): boolean {
    return this.pendingVector >= 0;
  }
  acknowledge(): number {
    const v = this.pendingVector;
    this.pendingVector = -1;
    return v;
  }
}

export function makeCpu(size?: number): { cpu: Cpu; bus: TestBus } {
  const bus = new TestBus(size);
  const cpu = new Cpu(bus, bus, bus);
  return { cpu, bus };
}

/** Load an ELF32 executable's PT_LOAD segments into RAM; returns the entry point. */
export function loadElf(ram: Uint8Array, elf: Uint8Array): number {
  const dv = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (dv.getUint32(0, false) !== 0x7f454c46) throw new Error('not an ELF file');
  const entry = dv.getUint32(24, true);
  const phoff = dv.getUint32(28, true);
  const phentsize = dv.getUint16(42, true);
  const phnum = dv.getUint16(44, true);
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== 1) continue;
    const off = dv.getUint32(p + 4, true);
    const paddr = dv.getUint32(p + 12, true);
    const filesz = dv.getUint32(p + 16, true);
    const memsz = dv.getUint32(p + 20, true);
    ram.set(elf.subarray(off, off + filesz), paddr);
    ram.fill(0, paddr + filesz, paddr + memsz);
  }
  return entry;
}

/** Run until the guest writes port 0xF4, halts with IF=0, shuts down, or `max` instructions. */
export function runToExit(cpu: Cpu, bus: TestBus, max = 50_000_000): number {
  while (cpu.instructions < max && bus.exitCode < 0) {
    const r = cpu.run(Math.min(100_000, max - cpu.instructions));
    if (r === 2 || (r === 1 && !bus.hasInterrupt())) break;
  }
  return bus.exitCode;
}
