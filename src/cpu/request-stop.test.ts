import { describe, expect, it } from 'vitest';
import { StopReason } from './constants.ts';
import { Cpu } from './cpu.ts';
import { TestBus } from './test/harness.ts';

/** A bus whose port 0xF4 asks the CPU to stop, as the real machine's debug-exit device does. */
class StoppingBus extends TestBus {
  cpu: Cpu | null = null;
  override out8(port: number, v: number): void {
    super.out8(port, v);
    if (port === 0xf4) this.cpu?.requestStop();
  }
}

function setup(code: number[]): { cpu: Cpu; bus: StoppingBus } {
  const bus = new StoppingBus(1 << 20);
  const cpu = new Cpu(bus, bus, bus);
  bus.cpu = cpu;
  bus.ram.set(code, 0x1000);
  cpu.enterProtectedFlat(0x1000, { esp: 0x8000 });
  return { cpu, bus };
}

// inc eax; inc eax; mov al, 7; out 0xf4, al; inc ebx; inc ebx; jmp $-2 (loops on inc ebx; inc ebx)
const CODE = [0x40, 0x40, 0xb0, 0x07, 0xe6, 0xf4, 0x43, 0x43, 0xeb, 0xfc];

describe('stopRun (requestStop)', () => {
  it('ends run() right after the instruction that requested it', () => {
    const { cpu, bus } = setup(CODE);
    expect(cpu.run(1000)).toBe(StopReason.Budget);
    expect(bus.exitCode).toBe(7);
    expect(cpu.instructions).toBe(4);
    expect(cpu.getState().eip).toBe(0x1006);
    expect(cpu.regs[3]).toBe(0);
    // The next run continues normally (the request does not persist).
    expect(cpu.run(10)).toBe(StopReason.Budget);
    expect(cpu.instructions).toBe(14);
  });

  it('a request made outside run() is forgotten by the next run()', () => {
    const { cpu } = setup([0x43, 0xeb, 0xfd]);
    cpu.requestStop();
    expect(cpu.run(50)).toBe(StopReason.Budget);
    expect(cpu.instructions).toBe(50);
  });

  it('stops the same way in the single-step (slow) path', () => {
    const { cpu, bus } = setup(CODE);
    cpu.breakLinear = 0x2000; // never hit, but forces the per-instruction path
    expect(cpu.run(1000)).toBe(StopReason.Budget);
    expect(bus.exitCode).toBe(7);
    expect(cpu.instructions).toBe(4);
  });
});
