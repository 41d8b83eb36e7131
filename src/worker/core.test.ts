/**
 * WorkerCore over a scripted test session (deterministic instruction counter, serial output, trap
 * appends at chosen instruction counts) and a fake clock. Tests of the core against the real
 * Session and the hello guest live in worker-session.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { TrapAction, TrapKind, TrapLog } from '../hypervisor/vmm/trap-log.ts';
import type { CoreHost, EmuSession, SessionConfigLike, SessionStatusLike } from './contract.ts';
import { WorkerCore } from './core.ts';
import type { FromWorker } from './protocol.ts';
import { toRegSnapshot } from './snapshot.ts';

class ScriptedSession implements EmuSession {
  status: SessionStatusLike = { state: 'running' };
  instructions = 0;
  readonly traps = new TrapLog({ maxRecords: 64, initialCapacity: 8 });
  readonly vmCount: number;
  private serial: number[][] = [];
  readonly input: number[][] = [];
  /** instruction count → trap kind appended when it is reached. */
  trapAt = new Map<number, number>();
  /** instruction count → the appended record's reason (default 0x3f8). */
  reasonAt = new Map<number, number>();
  exitAt = Number.POSITIVE_INFINITY;
  /** Emit one serial byte every `serialEvery` instructions. */
  serialEvery = 100;
  disposed = 0;
  dispose(): void {
    this.disposed++;
  }
  constructor(readonly config: SessionConfigLike) {
    this.vmCount = config.vms;
    for (let i = 0; i < this.vmCount; i++) {
      this.serial.push([]);
      this.input.push([]);
    }
  }
  /** A halting guest: each run() retires one instruction and sleeps through the rest of its budget. */
  halting = false;
  private haltNs = 0;
  get virtualTimeNs(): number {
    return this.instructions * 10 + this.haltNs;
  }
  private one(): boolean {
    this.instructions++;
    if (this.instructions % this.serialEvery === 0)
      this.serial[0].push(0x41 + ((this.instructions / this.serialEvery) % 26));
    const k = this.trapAt.get(this.instructions);
    if (k !== undefined) {
      this.traps.append(
        this.instructions % this.vmCount,
        k as TrapKind,
        this.reasonAt.get(this.instructions) ?? 0x3f8,
        this.virtualTimeNs,
        8,
        this.instructions,
        0,
        TrapAction.Emulated,
        1000,
      );
      return true;
    }
    if (this.instructions >= this.exitAt) this.status = { state: 'exited', exitCode: 1 };
    return false;
  }
  run(budget: number): SessionStatusLike {
    if (this.halting) {
      this.one();
      this.haltNs += (budget - 1) * 10;
      return this.status;
    }
    for (let i = 0; i < budget && this.status.state === 'running'; i++) this.one();
    return this.status;
  }
  runToNextTrap(budget: number): SessionStatusLike {
    for (let i = 0; i < budget && this.status.state === 'running'; i++) if (this.one()) break;
    return this.status;
  }
  step(): SessionStatusLike {
    if (this.status.state === 'running') this.one();
    return this.status;
  }
  takeSerial(vm: number): Uint8Array {
    const b = Uint8Array.from(this.serial[vm]);
    this.serial[vm] = [];
    return b;
  }
  sendSerial(vm: number, bytes: Uint8Array): void {
    this.input[vm].push(...bytes);
  }
  snapshot(): unknown {
    return {
      regs: [1, 2, 3, 4, 5, 6, 7, 8],
      eip: this.instructions,
      eflags: 2,
      cr0: 1,
      segSel: [0x18, 0x10, 0x18, 0x18, 0x18, 0x18, 0, 0],
    };
  }
  readonly mem = new Uint8Array(4096).map((_, i) => i & 0xff);
  readLinear(addr: number, len: number): Uint8Array {
    return this.mem.subarray(addr, addr + len);
  }
  readPhysical(addr: number, len: number): Uint8Array {
    return this.mem.subarray(addr, addr + len);
  }
  disassembleAt(addr: number, count: number) {
    return Array.from({ length: count }, (_, i) => ({ addr: addr + i, bytes: [0x90], text: 'nop' }));
  }
}

function harness(opts: { failCreate?: string } = {}) {
  let clock = 0;
  const out: FromWorker[] = [];
  const sessions: ScriptedSession[] = [];
  let wakes = 0;
  const host: CoreHost = {
    createSession(config) {
      if (opts.failCreate) throw new Error(opts.failCreate);
      const s = new ScriptedSession(config);
      sessions.push(s);
      return s;
    },
    async resolveGuest(id) {
      if (id !== 'hello') throw new Error(`there is no built-in guest called '${id}'`);
      return { label: 'Hello', memMiB: 32, source: { kind: 'kernel', kernel: new Uint8Array([1, 2, 3]) } };
    },
    toRegSnapshot,
    post: (m) => out.push(m),
    // Every clock read advances time a little, so slices end.
    now: () => (clock += 0.25),
    wake: () => wakes++,
  };
  const core = new WorkerCore(host);
  const of = <T extends FromWorker['type']>(t: T) =>
    out.filter((m): m is Extract<FromWorker, { type: T }> => m.type === t);
  const lastFrame = () => of('frame').at(-1)!;
  const advance = (ms: number) => (clock += ms);
  return { core, out, sessions, of, lastFrame, advance, wakes: () => wakes };
}

const loadHello = {
  type: 'load',
  scenario: { guest: { kind: 'builtin', id: 'hello' }, technique: 'native', vms: 1 },
};
/** The scripted session's traps stand for a VMM's: stepping to them needs a VMM technique. */
const loadHelloVmm = {
  type: 'load',
  scenario: { guest: { kind: 'builtin', id: 'hello' }, technique: 'trap-and-emulate', vms: 1 },
};

describe('WorkerCore', () => {
  it('answers a malformed message with an error and keeps working', async () => {
    const h = harness();
    await h.core.handle({ type: 'explode' });
    await h.core.handle(42);
    expect(h.of('error').map((e) => e.message)).toEqual([
      'malformed message \'explode\': unknown message type "explode"',
      "malformed message expected an object with a 'type', got 42",
    ]);
    await h.core.handle(loadHello);
    expect(h.of('loaded')).toHaveLength(1);
  });

  it('refuses commands before a guest is loaded, with a reason', async () => {
    const h = harness();
    await h.core.handle({ type: 'run' });
    await h.core.handle({ type: 'readMemory', id: 7, space: 'linear', addr: 0, len: 4 });
    const errs = h.of('error');
    expect(errs[0].message).toMatch(/no guest is loaded yet/);
    expect(errs[1]).toMatchObject({ command: 'readMemory', id: 7 });
  });

  it('loads a built-in guest and posts loaded + an initial frame with registers', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    expect(h.sessions[0].config).toMatchObject({ technique: 'native', vms: 1, memMiB: 32, noReboot: true });
    expect(h.of('loaded')[0].info).toMatchObject({ guestLabel: 'Hello', technique: 'native', vms: 1 });
    expect(h.of('loaded')[0].info.names.kinds[TrapKind.PortIo]).toBe('port I/O');
    const f = h.lastFrame();
    expect(f.status).toMatchObject({ state: 'running', running: false });
    expect(f.regs?.real.gpr.ecx).toBe(2);
  });

  it('disposes of the previous session once a new one has been created, not before', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    await h.core.handle(loadHello);
    expect(h.sessions.map((s) => s.disposed)).toEqual([1, 0]);
    await h.core.handle({
      ...loadHello,
      scenario: { ...loadHello.scenario, guest: { kind: 'builtin', id: 'nope' } },
    });
    // A load that fails keeps the running session.
    expect(h.sessions.map((s) => s.disposed)).toEqual([1, 0]);
  });

  it('builds the machine the scenario names: an x87 and a local APIC only when asked', async () => {
    const h = harness();
    await h.core.handle({ ...loadHello, scenario: { ...loadHello.scenario, machine: 'pc-fpu-apic' } });
    expect(h.sessions[0].config).toMatchObject({ fpu: true, apic: true });
    expect(h.of('loaded')[0].info.machine).toBe('pc-fpu-apic');
    await h.core.handle({ ...loadHello, scenario: { ...loadHello.scenario, machine: 'pc-apic' } });
    expect(h.sessions[1].config.fpu).toBeUndefined();
    expect(h.sessions[1].config.apic).toBe(true);
    await h.core.handle(loadHello);
    expect(h.sessions[2].config).not.toHaveProperty('fpu');
    expect(h.sessions[2].config).not.toHaveProperty('apic');
    expect(h.of('loaded')[2].info.machine).toBe('pc');
  });

  it('passes the CPU generation to the session, and only when one is chosen', async () => {
    const h = harness();
    await h.core.handle({ ...loadHello, scenario: { ...loadHello.scenario, cpuModel: 'nehalem' } });
    expect(h.sessions[0].config.cpuModel).toBe('nehalem');
    await h.core.handle(loadHello);
    expect(h.sessions[1].config).not.toHaveProperty('cpuModel');
  });

  it('reports an unknown built-in guest and a session that refuses the image', async () => {
    const h = harness();
    await h.core.handle({
      ...loadHello,
      scenario: { ...loadHello.scenario, guest: { kind: 'builtin', id: 'nope' } },
    });
    expect(h.of('error')[0].message).toBe("there is no built-in guest called 'nope'");
    const h2 = harness({ failCreate: 'not a multiboot ELF or bzImage (bad magic)' });
    await h2.core.handle({
      type: 'load',
      scenario: {
        guest: { kind: 'upload', guest: { kind: 'kernel', name: 'junk.bin', kernel: new Uint8Array(10) } },
        technique: 'native',
        vms: 1,
      },
    });
    expect(h2.of('error')[0].message).toBe(
      'Could not start junk.bin: not a multiboot ELF or bzImage (bad magic)',
    );
    expect(h2.of('loaded')).toHaveLength(0);
  });

  it('runs in slices, streams serial bytes, and stops running on pause', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    await h.core.handle({ type: 'run' });
    expect(h.wakes()).toBe(1);
    expect(h.core.runSlice().more).toBe(true);
    const s = h.sessions[0];
    expect(s.instructions).toBeGreaterThan(0);
    await h.core.handle({ type: 'pause' });
    // Every byte the guest wrote arrives, in frames (coalesced to about one per display frame).
    const bytes = h.of('frame').flatMap((f) => f.serial.flatMap((x) => Array.from(x.bytes)));
    expect(bytes.length).toBe(Math.floor(s.instructions / 100));
    expect(h.lastFrame().status).toMatchObject({ running: false, stopNote: 'Paused' });
    expect(h.lastFrame().regs).not.toBeNull();
    const at = s.instructions;
    expect(h.core.runSlice().more).toBe(false);
    expect(s.instructions).toBe(at);
  });

  it('step to next trap stops right after the trap and reports it', async () => {
    const h = harness();
    await h.core.handle(loadHelloVmm);
    await h.core.handle({ type: 'watchTraps', on: true });
    h.sessions[0].trapAt.set(5000, TrapKind.PortIo);
    await h.core.handle({ type: 'stepToTrap' });
    let r = h.core.runSlice();
    while (r.more) r = h.core.runSlice();
    const f = h.lastFrame();
    expect(h.sessions[0].instructions).toBe(5000);
    expect(f.status).toMatchObject({ running: false, stopNote: 'Stopped at trap: port I/O (record 0)' });
    expect(f.trapsGrew).toBe(true);
    expect(f.traps?.kind[0]).toBe(TrapKind.PortIo);
    expect(f.regs?.real.eip).toBe(5000);
    expect(f.stats.trapTotal).toBe(1);
    expect(f.stats.trapsByKind[TrapKind.PortIo]).toBe(1);
  });

  it('run until a trap kind skips other kinds, selects the record and keeps its registers', async () => {
    const h = harness();
    await h.core.handle(loadHelloVmm);
    const s = h.sessions[0];
    s.trapAt.set(100, TrapKind.PortIo);
    s.trapAt.set(200, TrapKind.PrivilegedInstruction);
    s.trapAt.set(300, TrapKind.SilentEvent);
    s.trapAt.set(400, TrapKind.PortIo);
    s.trapAt.set(500, TrapKind.SilentEvent);
    const until = async () => {
      await h.core.handle({ type: 'runUntilTrapKind', kind: TrapKind.SilentEvent });
      let r = h.core.runSlice();
      while (r.more) r = h.core.runSlice();
    };
    await until();
    expect(s.instructions).toBe(300);
    expect(h.lastFrame().status).toMatchObject({
      stopNote: 'Stopped at silent event (record 2)',
      trapStop: 2,
    });
    // The second stop names its own record, not "the first".
    await until();
    expect(s.instructions).toBe(500);
    expect(h.lastFrame().status).toMatchObject({
      stopNote: 'Stopped at silent event (record 4)',
      trapStop: 4,
    });
    await h.core.handle({ type: 'trapDetail', id: 3, index: 4 });
    const d = h.of('trapDetail').at(-1)!.detail!;
    expect(d.kind).toBe(TrapKind.SilentEvent);
    // Stepped to within EXACT_STEPS: real registers right before the instruction and right after.
    expect(d.regs).toMatchObject({ exact: true, instructions: 1 });
    expect(d.regs!.before.real.eip).toBe(499);
    expect(d.regs!.after.real.eip).toBe(500);
  });

  it('runs until a VM exit with one exit reason, selects it, keeps exact registers', async () => {
    const h = harness();
    await h.core.handle(loadHelloVmm);
    const s = h.sessions[0];
    for (const [at, reason] of [
      [100, 10],
      [200, 30],
      [250, 10],
      [300, 30],
    ]) {
      s.trapAt.set(at, TrapKind.VmExit);
      s.reasonAt.set(at, reason);
    }
    s.trapAt.set(150, TrapKind.PortIo);
    s.reasonAt.set(150, 30); // a port-I/O record with the same number is not a VM exit
    const until = async (exitReason: number) => {
      await h.core.handle({ type: 'runUntilTrapKind', kind: TrapKind.VmExit, exitReason });
      expect(h.lastFrame().status.stopNote).toMatch(/^Running until VM exit \d+ \(/);
      let r = h.core.runSlice();
      while (r.more) r = h.core.runSlice();
    };
    await until(30);
    expect(s.instructions).toBe(200);
    expect(h.lastFrame().status).toMatchObject({
      stopNote: 'Stopped at VM exit 30 (I/O instruction) (record 2)',
      trapStop: 2,
    });
    await h.core.handle({ type: 'trapDetail', id: 3, index: 2 });
    const d = h.of('trapDetail').at(-1)!.detail!;
    expect(d.regs).toMatchObject({ exact: true, instructions: 1 });
    expect(d.regs!.before.real.eip).toBe(199);
    expect(d.regs!.after.real.eip).toBe(200);
    // The next CPUID exit is at 250 (the one at 100 is behind us).
    await until(10);
    expect(s.instructions).toBe(250);
    expect(h.lastFrame().status.stopNote).toBe('Stopped at VM exit 10 (CPUID) (record 3)');
    // A link copied here replays to the same point (journalled as a clock, no reason needed).
    expect(h.lastFrame().status.position).toMatch(/^c/);
  });

  it('next trap can skip kinds a teacher finds noisy: they are still logged', async () => {
    const h = harness();
    await h.core.handle(loadHelloVmm);
    const s = h.sessions[0];
    s.trapAt.set(100, TrapKind.PortIo);
    s.trapAt.set(150, TrapKind.HiddenPageFault);
    s.trapAt.set(200, TrapKind.PortIo);
    s.trapAt.set(300, TrapKind.ControlRegister);
    await h.core.handle({ type: 'stepToTrap', skip: [TrapKind.PortIo, TrapKind.HiddenPageFault] });
    let r = h.core.runSlice();
    while (r.more) r = h.core.runSlice();
    expect(s.instructions).toBe(300);
    const f = h.lastFrame();
    expect(f.status.trapStop).toBe(3);
    expect(f.status.stopNote).toMatch(/^Stopped at trap: control register \(record 3, skipping/);
    expect(f.stats.trapTotal).toBe(4);
    // The link replays to the same point without knowing the skip list.
    expect(f.status.position).toMatch(/^c/);
    await expect(h.core.handle({ type: 'stepToTrap', skip: ['x'] })).resolves.toBeUndefined();
    expect(h.of('error').at(-1)!.message).toMatch(/'skip' must be an array of kind numbers/);
  });

  it('under native there is no VMM: next trap and until refuse to run, with the reason', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    h.sessions[0].trapAt.set(100, TrapKind.PortIo);
    await h.core.handle({ type: 'stepToTrap' });
    expect(h.core.runSlice().more).toBe(false);
    expect(h.sessions[0].instructions).toBe(0);
    expect(h.lastFrame().status.stopNote).toMatch(/no VMM, so there are no traps/);
    await h.core.handle({ type: 'runUntilTrapKind', kind: TrapKind.PortIo });
    expect(h.core.runSlice().more).toBe(false);
    expect(h.lastFrame().status.running).toBe(false);
  });

  it('stops when the guest exits and refuses to run an exited guest until reset', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    h.sessions[0].exitAt = 1234;
    await h.core.handle({ type: 'run' });
    let r = h.core.runSlice();
    while (r.more) r = h.core.runSlice();
    expect(h.lastFrame().status).toMatchObject({ state: 'exited', exitCode: 1, running: false });
    expect(h.lastFrame().status.stopNote).toBe('The guest has exited with code 1');
    await h.core.handle({ type: 'run' });
    expect(h.lastFrame().status.stopNote).toMatch(/press Reset/);
    await h.core.handle({ type: 'reset' });
    expect(h.sessions).toHaveLength(2);
    expect(h.lastFrame().status).toMatchObject({ state: 'running', running: false });
  });

  it('slow motion runs the requested number of instructions per second of wall time', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    await h.core.handle({ type: 'setSpeed', ips: 10 });
    await h.core.handle({ type: 'run' });
    const s = h.sessions[0];
    let frames = 0;
    let lastHalf = 0;
    for (let i = 0; i < 40; i++) {
      if (i === 30) lastHalf = h.of('frame').length;
      h.advance(50); // 40 × 50 ms = 2 s
      const r = h.core.runSlice();
      expect(r.more).toBe(true);
      frames++;
    }
    expect(frames).toBe(40);
    // ~2 s at 10 instructions/s (clock reads add a little time of their own).
    expect(s.instructions).toBeGreaterThanOrEqual(19);
    expect(s.instructions).toBeLessThanOrEqual(22);
    // Slow-motion frames carry registers ten times a second (the page shows them at 4 Hz), so
    // students can watch them change; not in every slice (each costs the page a clone), and a
    // slice with nothing new to show posts no frame at all.
    const last = h.of('frame').slice(lastHalf); // the last 10 slices, 10 × 50 ms
    const withRegs = last.filter((f) => f.regs !== null).length;
    expect(withRegs).toBeGreaterThanOrEqual(4);
    expect(withRegs).toBeLessThanOrEqual(6);
    expect(last.length).toBeLessThan(10);
  });

  it('slow motion sleeps a few milliseconds at a time, not once per instruction', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    await h.core.handle({ type: 'setSpeed', ips: 100 });
    await h.core.handle({ type: 'run' });
    const s = h.sessions[0];
    const waits: number[] = [];
    const t0 = h.advance(0);
    for (let i = 0; i < 100; i++) {
      const r = h.core.runSlice();
      expect(r.more).toBe(true);
      waits.push(r.waitMs);
      h.advance(r.waitMs); // the worker sleeps as long as it asked
    }
    // 100 instructions a second, one per 10 ms: between them the worker sleeps 4 ms or more at a
    // time (it used to wake every millisecond to find nothing due).
    const sleeps = waits.filter((w) => w > 0);
    expect(sleeps.length).toBeGreaterThan(50);
    expect(Math.min(...sleeps)).toBeGreaterThanOrEqual(4);
    const wallMs = h.advance(0) - t0;
    expect(s.instructions).toBeGreaterThan(wallMs / 10 - 5);
    expect(s.instructions).toBeLessThan(wallMs / 10 + 5);
  });

  it('a halting guest paces its idle time in a few long advances, even after a slow stretch', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    await h.core.handle({ type: 'run' });
    const s = h.sessions[0];
    s.halting = true;
    s.serialEvery = 1e9;
    const run = s.run.bind(s);
    const budgets: number[] = [];
    s.run = (budget: number) => {
      // The first few advances take 5 ms of wall time each (a loaded machine): the chunk shrinks.
      if (budgets.push(budget) <= 5) h.advance(5);
      return run(budget);
    };
    for (let i = 0; i < 200; i++) {
      const r = h.core.runSlice();
      h.advance(Math.max(r.waitMs, 1));
    }
    // Halted time uses up a chunk as instructions do, so the chunk grows back: the idle guest is
    // not paced in thousand-tick steps (it was, for good, once a slow stretch had shrunk it).
    expect(Math.min(...budgets.slice(0, 6))).toBeLessThanOrEqual(1000);
    expect(Math.max(...budgets.slice(-50))).toBeGreaterThan(100_000);
  });

  it('an exception inside the session stops the run with an error instead of hanging', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    h.sessions[0].run = () => {
      throw new TypeError('cannot read properties of undefined');
    };
    await h.core.handle({ type: 'run' });
    expect(h.core.runSlice().more).toBe(false);
    expect(h.of('error').at(-1)?.message).toBe(
      'The emulator stopped with an internal error: cannot read properties of undefined',
    );
    expect(h.lastFrame().status).toMatchObject({ running: false, stopNote: 'Stopped by an internal error' });
    expect(h.core.isRunning).toBe(false);
  });

  it('step executes exactly one instruction', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    await h.core.handle({ type: 'step' });
    await h.core.handle({ type: 'step' });
    expect(h.sessions[0].instructions).toBe(2);
    expect(h.lastFrame().regs?.real.eip).toBe(2);
  });

  it('routes serial input to the chosen VM and rejects a VM that does not exist', async () => {
    const h = harness();
    await h.core.handle({ ...loadHello, scenario: { ...loadHello.scenario, vms: 2 } });
    await h.core.handle({ type: 'serialInput', vm: 1, bytes: new TextEncoder().encode('\x1b[5;10R') });
    expect(h.sessions[0].input[1]).toEqual(Array.from(new TextEncoder().encode('\x1b[5;10R')));
    await h.core.handle({ type: 'serialInput', vm: 3, bytes: new Uint8Array([1]) });
    expect(h.of('error')[0].message).toMatch(/there is no VM 3 \(this scenario has 2\)/);
  });

  it('answers memory reads with a copy, never a view into guest memory', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    await h.core.handle({ type: 'readMemory', id: 9, space: 'physical', addr: 16, len: 4 });
    const m = h.of('memory')[0];
    expect(m).toMatchObject({ id: 9, addr: 16 });
    expect(Array.from(m.bytes)).toEqual([16, 17, 18, 19]);
    expect(m.bytes.buffer).not.toBe(h.sessions[0].mem.buffer);
    await h.core.handle({ type: 'disassemble', id: 10, addr: 0x1000, count: 3 });
    expect(h.of('disasm')[0].lines.map((l) => l.addr)).toEqual([0x1000, 0x1001, 0x1002]);
  });

  it('serves filtered trap slices and a record detail with its explanation', async () => {
    const h = harness();
    await h.core.handle({ ...loadHello, scenario: { ...loadHello.scenario, vms: 2 } });
    const s = h.sessions[0];
    for (let i = 1; i <= 20; i++) s.trapAt.set(i * 10, i % 3 === 0 ? TrapKind.SilentEvent : TrapKind.PortIo);
    s.run(1000);
    await h.core.handle({ type: 'trapSlice', id: 1, start: 0, end: 100, filter: {} });
    await h.core.handle({
      type: 'trapSlice',
      id: 2,
      start: 1,
      end: 3,
      filter: { kinds: [TrapKind.SilentEvent] },
    });
    await h.core.handle({
      type: 'trapSlice',
      id: 3,
      start: 0,
      end: 100,
      filter: { vm: 1, kinds: [TrapKind.PortIo] },
    });
    const [all, silent, vm1] = h.of('trapSlice');
    expect(all.total).toBe(20);
    expect(silent.total).toBe(6); // i = 3, 6, …, 18
    expect(Array.from(silent.rows.eip)).toEqual([60, 90]);
    expect(Array.from(silent.rows.index)).toEqual([5, 8]);
    expect(silent.reasons).toHaveLength(2);
    // VM = instructions % 2: eip 10,20,… are all even → VM 0; none on VM 1.
    expect(vm1.total).toBe(0);
    await h.core.handle({ type: 'trapDetail', id: 4, index: 5 });
    const d = h.of('trapDetail')[0].detail!;
    expect(d.kindName).toBe('silent event');
    expect(d.fields).toContainEqual(['CS:EIP', '0008:0000003C']);
    expect(d.explanation).toMatch(/\w/);
    await h.core.handle({ type: 'trapDetail', id: 5, index: 500 });
    expect(h.of('trapDetail')[1].detail).toBeNull();
  });

  it('frames carry trap rows only while the page watches them; growth and counts always', async () => {
    const h = harness();
    await h.core.handle({ ...loadHelloVmm, scenario: { ...loadHelloVmm.scenario, vms: 2 } });
    const s = h.sessions[0];
    /** Run past ten new records (eip = instruction count, all even: VM 0) and pause; their eips. */
    const tenTraps = async () => {
      const base = s.instructions + (s.instructions % 2);
      const at = Array.from({ length: 10 }, (_, i) => base + 10 * (i + 1));
      for (const n of at) s.trapAt.set(n, TrapKind.PortIo);
      await h.core.handle({ type: 'run' });
      while (s.instructions <= at[9]) {
        h.advance(20);
        h.core.runSlice();
      }
      await h.core.handle({ type: 'pause' });
      return at;
    };
    await tenTraps();
    const unwatched = h.of('frame');
    expect(unwatched.some((f) => f.trapsGrew)).toBe(true);
    expect(unwatched.every((f) => f.traps === null)).toBe(true);
    await h.core.handle({ type: 'watchTraps', on: true });
    const n0 = h.of('frame').length;
    const at = await tenTraps();
    const watched = h.of('frame').slice(n0);
    // Every record since the watch began, in order, each once.
    expect(watched.flatMap((f) => (f.traps ? Array.from(f.traps.eip) : []))).toEqual(at);
    expect(watched.filter((f) => f.traps !== null).every((f) => f.trapsGrew)).toBe(true);
    await h.core.handle({ type: 'watchTraps', on: false });
    const n1 = h.of('frame').length;
    await tenTraps();
    const after = h.of('frame').slice(n1);
    expect(after.every((f) => f.traps === null)).toBe(true);
    expect(after.some((f) => f.trapsGrew)).toBe(true);
    const last = h.lastFrame().stats;
    expect(last.trapTotal).toBe(30);
    expect(last.trapsByVm).toEqual([30]);
  });

  it('answers a tail slice with the last rows as the log stands, filtered and grouped', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    const s = h.sessions[0];
    for (let i = 1; i <= 30; i++) s.trapAt.set(i * 10, i % 3 === 0 ? TrapKind.SilentEvent : TrapKind.PortIo);
    s.run(300);
    await h.core.handle({ type: 'trapSlice', id: 1, start: 0, end: 0, filter: {}, tail: 4 });
    await h.core.handle({
      type: 'trapSlice',
      id: 2,
      start: 0,
      end: 0,
      filter: { kinds: [TrapKind.SilentEvent] },
      tail: 3,
    });
    await h.core.handle({ type: 'trapSlice', id: 3, start: 0, end: 0, filter: {}, tail: 100 });
    await h.core.handle({
      type: 'trapSlice',
      id: 4,
      start: 0,
      end: 0,
      filter: {},
      group: { expand: [] },
      tail: 2,
    });
    const [all, silent, more, grouped] = h.of('trapSlice');
    expect(all).toMatchObject({ start: 26, total: 30 });
    expect(Array.from(all.rows.eip)).toEqual([270, 280, 290, 300]);
    expect(silent).toMatchObject({ start: 7, total: 10 });
    expect(Array.from(silent.rows.eip)).toEqual([240, 270, 300]);
    expect(more).toMatchObject({ start: 0, total: 30 });
    expect(more.rows.eip).toHaveLength(30);
    expect(grouped.start).toBe(grouped.total - 2);
    expect(grouped.rows.eip.at(-1)).toBe(300);
  });

  it('exports the log as JSON Lines and as a Perfetto trace', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    const s = h.sessions[0];
    for (let i = 1; i <= 5; i++) s.trapAt.set(i * 10, TrapKind.PortIo);
    s.run(100);
    await h.core.handle({ type: 'exportTraps', id: 1, format: 'jsonl' });
    await h.core.handle({ type: 'exportTraps', id: 2, format: 'trace' });
    const [jsonl, trace] = h.of('export');
    expect(jsonl.records).toBe(5);
    const lines = new TextDecoder().decode(jsonl.bytes).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    expect(JSON.parse(lines[4])).toMatchObject({ seq: 4, kindName: 'port I/O', eip: 50 });
    const t = JSON.parse(new TextDecoder().decode(trace.bytes));
    expect(t.traceEvents.filter((e: { ph: string }) => e.ph === 'i')).toHaveLength(5);
  });

  it('keeps filtered slices right when the bounded log drops old records', async () => {
    const h = harness();
    await h.core.handle(loadHello);
    const s = h.sessions[0];
    for (let i = 1; i <= 100; i++) s.trapAt.set(i, i % 2 ? TrapKind.PortIo : TrapKind.Interrupt);
    s.run(50);
    await h.core.handle({
      type: 'trapSlice',
      id: 1,
      start: 0,
      end: 1000,
      filter: { kinds: [TrapKind.Interrupt] },
    });
    s.run(50); // log holds 64: records 37…100 remain
    await h.core.handle({
      type: 'trapSlice',
      id: 2,
      start: 0,
      end: 1000,
      filter: { kinds: [TrapKind.Interrupt] },
    });
    const [a, b] = h.of('trapSlice');
    expect(a.total).toBe(25);
    expect(b.total).toBe(32); // even numbers 38…100
    expect(b.rows.eip[0]).toBe(38);
    expect(b.rows.index[0]).toBe(1); // record 37 is index 0
  });
});
