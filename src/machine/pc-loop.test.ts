/**
 * The run loop against a scripted CPU: exact interrupt timing, HLT skipping, stop reasons.
 * The fake retires one "instruction" per step and runs a script keyed by instruction count.
 */
import { describe, expect, it } from 'vitest';
import type { InterruptLine, IoBus } from '../cpu/bus.ts';
import { StopReason } from '../cpu/index.ts';
import { cyclesToTicks } from './clock.ts';
import { PIT_HZ } from './devices/pit8254.ts';
import { Pc } from './pc.ts';

type Step = (cpu: FakeCpu) => StopReason | undefined;

class FakeCpu {
  instructions = 0;
  halted = false;
  shutdownReason = '';
  eflags = 0x202;
  tscOffset = 0;
  a20: boolean[] = [];
  /** [virtual tick, vector] of every interrupt taken. */
  taken: [number, number][] = [];
  readonly script = new Map<number, Step>();
  now: () => number = () => this.instructions;
  constructor(
    readonly io: IoBus,
    readonly intr: InterruptLine,
  ) {}
  reset(): void {
    this.halted = false;
  }
  setA20(on: boolean): void {
    this.a20.push(on);
  }
  interruptCheck(): void {}
  enterProtectedFlat(): void {}
  enterReal(): void {}
  getEflags(): number {
    return this.eflags;
  }
  private take(): void {
    this.taken.push([this.now(), this.intr.acknowledge()]);
    this.halted = false;
  }
  run(budget: number): StopReason {
    const end = this.instructions + budget;
    for (;;) {
      const ifOn = (this.eflags & 0x200) !== 0;
      if (this.halted) {
        if (ifOn && this.intr.hasInterrupt()) {
          this.take();
          continue;
        }
        return StopReason.Halt;
      }
      if (this.instructions >= end) return StopReason.Budget;
      if (ifOn && this.intr.hasInterrupt()) this.take();
      const step = this.script.get(this.instructions);
      this.instructions++;
      const r = step?.(this);
      if (r !== undefined) return r;
    }
  }
}

function machine(opts: ConstructorParameters<typeof Pc>[0] = {}) {
  let fake: FakeCpu | null = null;
  const pc = new Pc({
    ...opts,
    cpuFactory: (_m, io, intr) => {
      fake = new FakeCpu(io, intr);
      return fake;
    },
  });
  const cpu = fake as unknown as FakeCpu;
  cpu.now = () => pc.virtualTicks;
  return { pc, cpu };
}

/** Guest code: PIC at 0x20/0x28 with only IRQ 0 unmasked, auto-EOI; PIT channel 0 mode 2. */
function programTimer(io: IoBus, count: number): void {
  for (const [p, v] of [
    [0x20, 0x11],
    [0x21, 0x20],
    [0x21, 0x04],
    [0x21, 0x03],
    [0x21, 0xfe],
  ]) {
    io.out8(p, v);
  }
  io.out8(0x43, 0x34);
  io.out8(0x40, count & 0xff);
  io.out8(0x40, count >> 8);
}

describe('Pc run loop (scripted CPU)', () => {
  it('delivers PIT interrupts at their exact deadlines while the CPU is busy', () => {
    const { pc, cpu } = machine();
    cpu.script.set(0, (c) => {
      programTimer(c.io, 11932);
      return undefined;
    });
    while (pc.virtualTicks < 5_100_000) pc.runSlice(123_457);
    // Counting starts at PIT clock 0 (the write happened at tick 1 → PIT clock 0).
    const expected = [1, 2, 3, 4, 5].map((k) => [cyclesToTicks(k * 11932, PIT_HZ), 0x20]);
    expect(cpu.taken).toEqual(expected);
  });

  it('skips virtual time across HLT straight to the next deadline and advances the TSC with it', () => {
    const { pc, cpu } = machine();
    cpu.script.set(0, (c) => {
      programTimer(c.io, 11932);
      return undefined;
    });
    const halt: Step = (c) => {
      c.halted = true;
      return StopReason.Halt;
    };
    cpu.script.set(10, halt);
    cpu.script.set(20, halt);
    pc.runSlice(5_000_000);
    const d = [1, 2, 3, 4].map((k) => cyclesToTicks(k * 11932, PIT_HZ));
    expect(cpu.taken.map((t) => t[0])).toEqual(d);
    // Halted after 11 instructions until d[0]; after 10 more until d[1]; busy from then on.
    expect(pc.clock.idleTicks).toBe(d[1] - 21);
    expect(cpu.tscOffset).toBe(pc.clock.idleTicks);
    expect(pc.virtualTicks).toBe(5_000_000);
    expect(pc.instructions).toBe(5_000_000 - pc.clock.idleTicks);
  });

  it('propagates monitor and breakpoint stops without changing the machine state', () => {
    const { pc, cpu } = machine();
    cpu.script.set(100, () => StopReason.Monitor);
    cpu.script.set(200, () => StopReason.Breakpoint);
    expect(pc.runSlice(1000)).toMatchObject({ state: 'running', stop: 'monitor', instructions: 101 });
    expect(pc.runSlice(1000)).toMatchObject({ state: 'running', stop: 'breakpoint', instructions: 100 });
    expect(pc.runSlice(1000)).toMatchObject({ state: 'running', stop: 'budget', instructions: 1000 });
  });

  it('a write to isa-debug-exit ends the run with (v << 1) | 1', () => {
    const { pc, cpu } = machine();
    cpu.script.set(5, (c) => {
      c.io.out8(0xf4, 3);
      return undefined;
    });
    const r = pc.runSlice(10_000);
    expect(r).toMatchObject({ state: 'exited', stop: 'stopped', exitCode: 7 });
    expect(pc.runSlice(10)).toMatchObject({ state: 'exited', stop: 'stopped', instructions: 0 });
  });

  it('a triple fault reports the CPU reason', () => {
    const { pc, cpu } = machine();
    cpu.script.set(3, (c) => {
      c.shutdownReason = '#GP while delivering #DF';
      return StopReason.Shutdown;
    });
    expect(pc.runSlice(100)).toMatchObject({
      state: 'shutdown',
      reason: 'triple fault: #GP while delivering #DF',
    });
  });

  it('port 0x92 drives the CPU A20 mask; reset re-enables it', () => {
    const { pc, cpu } = machine();
    expect(cpu.a20).toEqual([true]);
    pc.io.out8(0x92, 0x00);
    expect(cpu.a20).toEqual([true, false]);
    expect(pc.a20Enabled).toBe(false);
    pc.reset();
    expect(cpu.a20).toEqual([true, false, true]);
  });

  it('rejects malformed host calls with clear errors', () => {
    const { pc } = machine();
    expect(() => pc.runSlice(0)).toThrow(/positive integer/);
    expect(() => pc.runSlice(1.5)).toThrow(/positive integer/);
    expect(() => pc.loadRam(0xa0000, new Uint8Array(16))).toThrow(/do not lie in RAM/);
    expect(() => pc.loadRam(64 * 1024 * 1024 - 8, new Uint8Array(16))).toThrow(/do not lie in RAM/);
    expect(() => pc.sendSerial(1, 'x')).toThrow(/no serial port 1/);
    expect(() => new Pc({ memMiB: 0 })).toThrow(/memory size/);
  });
});
