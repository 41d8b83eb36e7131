/**
 * The `native` technique: no VMM. One guest owns the whole physical PC — the baseline every
 * virtualization technique is compared with. Its trap log stays empty: with nothing between the
 * guest and the hardware, nothing traps to anyone.
 */
import type { Cpu } from '../cpu/index.ts';
import { snapshotOf } from '../cpu/snapshot.ts';
import { CPU_MODEL_PRESETS } from '../hypervisor/vmm/cost-model.ts';
import { TrapLog } from '../hypervisor/vmm/trap-log.ts';
import type { BootImage } from '../machine/loaders/index.ts';
import { Pc, type RunResult } from '../machine/pc.ts';
import { disassembleOne } from './disasm.ts';
import { walkLinear } from './paging.ts';
import type { RunnerResult, TechniqueRunner } from './technique.ts';
import { type CpuSnapshot, type SessionConfig, SessionError } from './types.ts';

/** Longest virtual-time skip one step() may take to reach the next instruction (10 s virtual). */
const STEP_MAX_TICKS = 1_000_000_000;

export function createNativeRunner(config: SessionConfig, boot: BootImage): TechniqueRunner {
  return new NativeRunner(config, boot);
}

export class NativeRunner implements TechniqueRunner {
  readonly vmCount = 1;
  readonly traps = new TrapLog({ initialCapacity: 16 });
  readonly pc: Pc;
  private readonly cpu: Cpu;

  constructor(config: SessionConfig, boot: BootImage) {
    this.pc = new Pc({
      memMiB: config.memMiB,
      noReboot: config.noReboot,
      fpu: config.fpu === true,
      apic: config.apic === true,
      // Native: only the CPU, devices and the loader write RAM (Pc.dispose may recycle it).
      recycleRam: true,
    });
    this.cpu = this.pc.cpu as unknown as Cpu;
    // A CPU-generation preset: the CPU charges its hardware events and RDTSC reads modelled cycles.
    if (config.cpuModel !== undefined) this.cpu.timing = CPU_MODEL_PRESETS[config.cpuModel].hw;
    try {
      this.pc.load(boot);
    } catch (e) {
      // The loaders validate against the same RAM size, so this is a mismatch worth reporting.
      throw new SessionError(`the guest does not fit this machine: ${(e as Error).message}`);
    }
  }

  get instructions(): number {
    return this.pc.instructions;
  }

  dispose(): void {
    this.pc.dispose();
  }
  get eventsDelivered(): number {
    return this.cpu.eventSteps;
  }
  get virtualTimeNs(): number {
    return this.pc.virtualTimeNs;
  }

  run(budget: number, _stopOnTrap: boolean): RunnerResult {
    if (budget === 1) return this.stepOne();
    return this.result(this.pc.runSlice(budget));
  }

  /** One instruction; when halted, skip virtual time to the event that wakes the CPU. */
  private stepOne(): RunnerResult {
    const before = this.pc.instructions;
    let r = this.pc.runSlice(1);
    if (r.state === 'running' && r.stop === 'budget' && this.pc.instructions === before && this.cpu.halted) {
      const next = this.pc.clock.nextDeadline();
      const gap = Number.isFinite(next)
        ? Math.min(STEP_MAX_TICKS, Math.max(1, next - this.pc.clock.now()))
        : 1;
      r = this.pc.runSlice(gap);
      // Now woken (or still halted at the deadline): retire the first handler instruction.
      if (r.state === 'running' && r.stop === 'budget' && this.pc.instructions === before)
        r = this.pc.runSlice(1);
    }
    return this.result(r);
  }

  private result(r: RunResult): RunnerResult {
    switch (r.state) {
      case 'running':
        return r.stop === 'idle'
          ? { state: 'idle', reason: 'halted, waiting for an interrupt' }
          : { state: 'budget' };
      case 'exited':
        return { state: 'exited', exitCode: r.exitCode ?? 1, reason: r.reason };
      case 'shutdown':
        return { state: 'shutdown', reason: r.reason };
      case 'reset':
        return { state: 'reset', reason: r.reason };
      case 'hung':
        return {
          state: 'hung',
          reason: r.reason ?? 'HLT with interrupts disabled: nothing can wake the CPU',
        };
    }
  }

  takeSerial(vm: number): Uint8Array {
    return vm === 0 ? this.pc.serialOut[0].take() : new Uint8Array(0);
  }
  sendSerial(vm: number, bytes: Uint8Array): void {
    if (vm === 0) this.pc.sendSerial(0, bytes);
  }
  serialInputPending(vm: number): number {
    return vm === 0 ? this.pc.uarts[0].pendingInput : 0;
  }
  takeDebugcon(): Uint8Array {
    return this.pc.debugconOut.take();
  }
  postCodes(): number[] {
    return this.pc.post.codes.slice();
  }

  snapshot(): CpuSnapshot {
    return snapshotOf(this.cpu.getState(), 0);
  }

  readPhysical(addr: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    const mem = this.pc.memory;
    let done = 0;
    while (done < len) {
      const a = (addr + done) >>> 0;
      const run = Math.min(len - done, 0x1000 - (a & 0xfff));
      if (mem.isDirect(a >>> 12)) out.set(mem.ram.subarray(a, a + run), done);
      else for (let i = 0; i < run; i++) out[done + i] = mem.read8((a + i) >>> 0);
      done += run;
    }
    return out;
  }

  translateLinear(addr: number): number | null {
    const c = this.cpu;
    const read32 = (p: number): number => {
      const b = this.readPhysical(p, 4);
      return b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24);
    };
    const phys = walkLinear(addr, c.cr0, c.cr3, c.cr4, read32);
    if (phys === null) return null;
    // With the A20 gate closed, bit 20 of every physical address is forced to 0.
    return this.pc.a20Enabled ? phys : (phys & ~0x100000) >>> 0;
  }

  disassemble(bytes: Uint8Array, addr: number, code32: boolean): { length: number; text: string } {
    return disassembleOne(bytes, addr, code32);
  }
}
