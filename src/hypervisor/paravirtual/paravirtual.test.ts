/**
 * Paravirtualization end to end: minikernel-pv (the minikernel source built with -DPV) boots under
 * the Xen-style hypervisor, runs its ring-3 processes, its shell and `bench`, and prints what the
 * native minikernel prints apart from the lines about the platform; the trap log shows hypercalls
 * and event upcalls; bad hypercalls are refused with Xen's error codes and the guest survives; an
 * unmodified kernel is refused up front; four PV VMs run side by side; the trace is deterministic.
 * One boot per scenario, shared by its assertions.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Pc } from '../../machine/pc.ts';
import { createTrapAndEmulateRunner } from '../trap-and-emulate/runner.ts';
import type { HvRunnerResult } from '../vmm/runner.ts';
import { TrapAction, TrapKind, type TrapRecord } from '../vmm/trap-log.ts';
import { VmmConfigError } from '../vmm/vm.ts';
import { E, HC, VIRQ } from './abi.ts';
import { createParavirtualRunner, type ParavirtualRunner } from './runner.ts';
import {
  type Drivable,
  driveShell,
  jsonl,
  kernel,
  PLATFORM_LINE,
  pvTestGuest,
  type ShellRun,
  shape,
} from './test-guests.ts';

const MEM = 32;
const COMMANDS = ['help', 'ps', 'uptime', 'mem', 'cpuid', 'bench'];

function records(r: ParavirtualRunner | { traps: ParavirtualRunner['traps'] }): TrapRecord[] {
  const out: TrapRecord[] = [];
  for (let i = 0; i < r.traps.count; i++) out.push(r.traps.get(i));
  return out;
}

/** The native minikernel on the physical PC, driven like a runner. */
function nativeMinikernel(): Drivable {
  const pc = new Pc({ memMiB: MEM, noReboot: true });
  pc.load(kernel('minikernel/minikernel.elf', MEM));
  return {
    vmCount: 1,
    run(budget: number): HvRunnerResult {
      const r = pc.runSlice(budget);
      if (r.state === 'running') return { state: 'budget' };
      return { state: r.state === 'exited' ? 'exited' : 'shutdown', exitCode: r.exitCode };
    },
    takeSerial: () => pc.serialOut[0].take(),
    sendSerial: (_vm, b) => pc.sendSerial(0, b),
  };
}

describe('minikernel-pv under paravirtual', () => {
  let pv: ParavirtualRunner;
  let run: ShellRun;
  let native: ShellRun;
  let recs: TrapRecord[];

  beforeAll(() => {
    pv = createParavirtualRunner(
      { vms: 1, memMiB: MEM, noReboot: true },
      kernel('minikernel/minikernel-pv.elf', MEM),
    );
    run = driveShell(pv, [COMMANDS]);
    native = driveShell(nativeMinikernel(), [COMMANDS]);
    recs = records(pv);
  }, 300_000);

  it('boots, runs every shell command and bench, and powers off through SCHEDOP_shutdown', () => {
    expect(run.result).toMatchObject({ state: 'exited', exitCode: 1 });
    expect(run.result.reason).toMatch(/SCHEDOP_shutdown, poweroff/);
    const out = run.outs[0];
    expect(out).toContain('ring 1 kernel on a Xen-style hypervisor');
    expect(out).toContain('[mini] timer: ticking');
    const [, help, ps, uptime, mem, , bench] = run.replies[0];
    expect(help).toContain('bench [name]');
    // Four ring-3 processes, preempted and demand-paged, each with its own page directory.
    for (const name of ['idle', 'shell', 'primes', 'pager', 'counter'])
      expect(ps).toMatch(new RegExp(`\\d+ ${name} `));
    expect(uptime).toMatch(/up \d+\.\d\d s \(\d+ timer ticks of 10 ms\)/);
    expect(mem).toMatch(/demand-zero page faults:\s+[1-9]/);
    for (const b of ['syscall', 'in', 'cr-write', 'call/ret', 'pgfault', 'divzero', 'ptemod'])
      expect(bench).toMatch(new RegExp(`${b.replace('/', '\\/')}\\s+\\d+\\.\\d cycles/op`));
    expect(out).toContain('[mini] the shell (pid 1) exited with status 0: powering off');
  });

  it('prints what the native minikernel prints, apart from the platform lines', () => {
    expect(native.result.state).toBe('exited');
    const boot = (s: string) =>
      s
        .replace(/\r/g, '')
        .split('\n')
        .filter((l) => !PLATFORM_LINE.test(l));
    expect(boot(run.replies[0][0])).toEqual(boot(native.replies[0][0]));
    // Every command's reply has the same lines; only numbers (ticks, cycles, frames) differ.
    expect(run.replies[0].length).toBe(native.replies[0].length);
    for (let i = 1; i < run.replies[0].length; i++)
      expect(shape(run.replies[0][i])).toBe(shape(native.replies[0][i]));
  });

  it('logs hypercalls with Xen numbers, decoded arguments and results, and event upcalls', () => {
    const hc = recs.filter((r) => r.kind === TrapKind.Hypercall);
    const names = new Set(hc.map((r) => r.reasonName));
    for (const n of [
      'set_trap_table',
      'set_gdt',
      'set_callbacks',
      'stack_switch',
      'mmu_update',
      'update_va_mapping',
      'mmuext_op',
      'set_timer_op',
      'console_io',
      'iret',
      'sched_op',
      'event_channel_op',
      'fpu_taskswitch',
    ])
      expect(names).toContain(n);
    for (const r of hc) {
      expect(r.details.type).toBe('hypercall');
      if (r.details.type === 'hypercall') expect(r.details.result).toBeGreaterThanOrEqual(0); // minikernel-pv asks nothing illegal
      expect(r.cost).toBeGreaterThan(0);
      expect(r.cpl).toBe(1);
    }
    // Context switches are one multicall (stack_switch + new base pointer); its calls are logged
    // first, each at the batched price (no trap of its own), then the multicall itself.
    const mc = hc.findIndex(
      (r) => r.reason === HC.multicall && r.details.type === 'hypercall' && r.details.args[0] === 2,
    );
    expect(mc).toBeGreaterThan(1);
    expect(hc.slice(mc - 2, mc + 1).map((r) => r.reasonName)).toEqual([
      'stack_switch',
      'mmuext_op',
      'multicall',
    ]);
    expect(hc[mc - 1].cost).toBeLessThan(hc[mc].cost);
    expect(hc[mc].details.type === 'hypercall' && hc[mc].details.summary).toBe(
      'multicall(2 calls, first stack_switch) = 0',
    );
    const trap = hc.find((r) => r.reason === HC.set_trap_table);
    expect(trap?.details.type === 'hypercall' && trap.details.summary).toMatch(/int 0x80 direct\) = 0/);
    const bind = hc
      .filter((r) => r.reason === HC.event_channel_op)
      .map((r) => (r.details.type === 'hypercall' ? r.details.summary : ''));
    expect(bind).toEqual([
      'event_channel_op(bind VIRQ_TIMER → port 1) = 0',
      'event_channel_op(bind VIRQ_CONSOLE → port 2) = 0',
    ]);
    const up = recs.filter((r) => r.kind === TrapKind.Upcall);
    expect(up.some((r) => r.reason === VIRQ.timer)).toBe(true);
    expect(up.some((r) => r.reason === VIRQ.console)).toBe(true);
    for (const r of up) expect(r.action).toBe(TrapAction.Injected);
    // No shadow paging, no emulation: direct paging and hypercalls instead.
    for (const k of [
      TrapKind.HiddenPageFault,
      TrapKind.PrivilegedInstruction,
      TrapKind.PortIo,
      TrapKind.ControlRegister,
    ])
      expect(recs.filter((r) => r.kind === k)).toEqual([]);
  });

  it('reports the shared info page, event channels and the hypercall histogram for the UI', () => {
    const info = pv.vmInfo()[0].paravirtual;
    expect(info.ports.map((c) => `${c.port} ${c.virq}`)).toEqual(['1 VIRQ_TIMER', '2 VIRQ_CONSOLE']);
    expect(info.directSyscalls).toBe(true);
    expect(info.pageTables.l2).toBeGreaterThanOrEqual(1); // the kernel's directory stays pinned
    expect(info.systemTimeNs).toBeGreaterThan(0);
    // The histogram is the log's hypercall records counted by number.
    const fromLog = new Map<number, number>();
    for (const r of recs)
      if (r.kind === TrapKind.Hypercall) fromLog.set(r.reason, (fromLog.get(r.reason) ?? 0) + 1);
    expect(new Map(info.hypercalls.map((h) => [h.nr, h.count]))).toEqual(fromLog);
    expect(info.upcalls).toBe(recs.filter((r) => r.kind === TrapKind.Upcall).length);
  });

  it('system calls skip the hypervisor: int 0x80 is a direct trap, never in the log', () => {
    const ps = run.replies[0][2];
    const syscalls = [...ps.matchAll(/^\s+\d+ \S+\s+\S+\s+\d+\s+\d+\s+(\d+)/gm)].reduce(
      (n, m) => n + Number(m[1]),
      0,
    );
    expect(syscalls).toBeGreaterThan(20);
    expect(recs.filter((r) => r.kind === TrapKind.GuestException && r.reason === 0x80)).toEqual([]);
    // The exceptions that do reach the guest go through the hypervisor: page faults (CR2 in the
    // shared info page) and the bench's divide errors and reflected port I/O (#GP).
    const vectors = new Set(recs.filter((r) => r.kind === TrapKind.GuestException).map((r) => r.reason));
    expect([...vectors].sort((a, b) => a - b)).toEqual([0, 13, 14]);
  });

  it('counts traps against trap-and-emulate, which hangs at boot (compared up to the hang)', () => {
    const te = createTrapAndEmulateRunner(
      { vms: 1, memMiB: MEM, noReboot: true },
      kernel('minikernel/minikernel.elf', MEM),
    );
    let res: HvRunnerResult = { state: 'budget' };
    for (let i = 0; i < 100 && res.state === 'budget'; i++) res = te.run(1_000_000, false);
    expect(res.state).toBe('hung');
    const teBoot = te.traps.total;
    // The same point of the PV boot: the kernel's first wait for the timer (HLT / SCHEDOP_block).
    const firstBlock = recs.findIndex(
      (r) => r.kind === TrapKind.Hypercall && r.reason === HC.sched_op && r.action === TrapAction.Blocked,
    );
    const pvBoot = firstBlock;
    const byKind = (rs: TrapRecord[]) =>
      Object.fromEntries(
        [...new Set(rs.map((r) => r.kindName))].map((k) => [k, rs.filter((r) => r.kindName === k).length]),
      );
    const teRecs = records(te);
    console.log(
      `traps to the first timer wait: trap-and-emulate ${teBoot} ${JSON.stringify(byKind(teRecs))} (then hangs), ` +
        `paravirtual ${pvBoot} ${JSON.stringify(byKind(recs.slice(0, pvBoot)))}; ` +
        `paravirtual, the whole workload (boot, ${COMMANDS.join(', ')}, exit): ${recs.length} ${JSON.stringify(byKind(recs))}`,
    );
    expect(pvBoot).toBeGreaterThan(0);
    expect(pvBoot).toBeLessThan(teBoot);
  });
});

describe('refusals: what a PV guest may not do', () => {
  let r: ParavirtualRunner;
  let out: string;
  let res: HvRunnerResult;
  beforeAll(() => {
    r = createParavirtualRunner({ vms: 1, memMiB: 8, noReboot: true }, pvTestGuest('pv-refusals'));
    out = '';
    res = { state: 'budget' };
    for (let i = 0; i < 50 && res.state === 'budget'; i++) {
      res = r.run(100_000, false);
      out += Buffer.from(r.takeSerial(0)).toString('latin1');
    }
  });

  it("refuses each with Xen's error code, logs it, and the guest survives", () => {
    expect(out).toContain('set_trap_table: 0\n');
    expect(out).toContain(`map a foreign frame: -${E.INVAL}\n`);
    expect(out).toContain(`map our page directory writable: -${E.INVAL}\n`);
    expect(out).toContain(`ring-0 trap handler: -${E.PERM}\n`);
    expect(out).toContain(`hypercall 99: -${E.NOSYS}\n`);
    expect(out).toContain(`page directory slot 1020: -${E.PERM}\n`);
    expect(out).toContain(`pin a writable page as a page table: -${E.INVAL}\n`);
    expect(out).toContain('map our own page writable: 0\n');
    expect(out).toContain('cli reflected as #GP, times: 1\n');
    expect(out).toContain('survived every refusal');
    expect(res).toMatchObject({ state: 'exited', exitCode: 1 });
    const refused = records(r)
      .filter((x) => x.kind === TrapKind.Hypercall && x.details.type === 'hypercall' && x.details.result < 0)
      .map((x) => (x.details.type === 'hypercall' ? x.details.summary : ''));
    expect(refused).toEqual([
      expect.stringMatching(/^update_va_mapping\(va 0x\w+ := 0x3, INVLPG\) = -EINVAL$/), // machine frame 0
      expect.stringMatching(/^update_va_mapping\(va 0x\w+ := 0x\w+003, INVLPG\) = -EINVAL$/), // its directory, RW
      expect.stringMatching(/^set_trap_table\(table 0x\w+, 0 entries\) = -EPERM$/),
      expect.stringMatching(/^hypercall 99\(.*\) = -ENOSYS$/),
      expect.stringMatching(/^mmu_update\(1 update, first: entry 0x\w+ff0 := 0x\w+\) = -EPERM$/),
      expect.stringMatching(/^mmuext_op\(1 op, first: cmd 0 \(pin L1\) 0x\w+\) = -EINVAL$/),
    ]);
    expect(r.technique.calls.lastRefusal).toMatch(/page table 0x\w+ is still mapped writable/);
    const gp = records(r).filter((x) => x.kind === TrapKind.GuestException && x.reason === 13);
    expect(gp).toHaveLength(1);
    expect(gp[0].bytes).toEqual([0xfa]); // CLI: executed, faulted, reflected — not emulated
  });

  it('refuses an unmodified kernel up front: it carries no PV guest header', () => {
    expect(() =>
      createParavirtualRunner(
        { vms: 1, memMiB: MEM, noReboot: true },
        kernel('minikernel/minikernel.elf', MEM),
      ),
    ).toThrow(VmmConfigError);
    expect(() =>
      createParavirtualRunner(
        { vms: 1, memMiB: MEM, noReboot: true },
        kernel('minikernel/minikernel.elf', MEM),
      ),
    ).toThrow(/no PV guest header/);
  });
});

describe('four PV VMs and determinism', () => {
  it('runs four minikernel-pv VMs, each console answering its own commands', () => {
    const r = createParavirtualRunner(
      { vms: 4, memMiB: 16, noReboot: true },
      kernel('minikernel/minikernel-pv.elf', 16),
    );
    const s = driveShell(r, [['uptime'], ['ps'], ['mem'], ['help']]);
    expect(s.result.state).toBe('exited');
    expect(s.result.reason).toMatch(/all 4 VMs powered off/);
    expect(s.replies[0][1]).toMatch(/^uptime\r?\nup /);
    expect(s.replies[1][1]).toMatch(/counter\s+\S+/);
    expect(s.replies[2][1]).toMatch(/RAM reported by the loader:\s+16384 KiB/);
    expect(s.replies[3][1]).toContain('commands:');
    const vms = new Set(
      records(r)
        .filter((x) => x.kind === TrapKind.Upcall)
        .map((x) => x.vm),
    );
    expect([...vms].sort()).toEqual([0, 1, 2, 3]);
    expect(records(r).some((x) => x.kind === TrapKind.WorldSwitch)).toBe(true);
  }, 300_000);

  it('gives the same trace whatever the host slices (input queued up front)', () => {
    const once = (slice: number) => {
      const r = createParavirtualRunner(
        { vms: 1, memMiB: MEM, noReboot: true },
        kernel('minikernel/minikernel-pv.elf', MEM),
      );
      r.sendSerial(0, new TextEncoder().encode('ps\ruptime\rbench divzero\rexit\r'));
      let res: HvRunnerResult = { state: 'budget' };
      let out = '';
      for (let t = 0; t < 200_000_000 && res.state === 'budget'; t += slice) {
        res = r.run(slice, false);
        out += Buffer.from(r.takeSerial(0)).toString('latin1');
      }
      return { res, out, trace: jsonl(r.traps) };
    };
    const a = once(1_000_000);
    const b = once(7_777);
    expect(a.res.state).toBe('exited');
    expect(a.out).toContain('divzero');
    expect(b.out).toBe(a.out);
    expect(b.trace).toBe(a.trace);
  }, 300_000);
});
