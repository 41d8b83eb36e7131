/**
 * `traplab run`: boot a guest headless and drive the session's run loop.
 *
 * The loop runs the session in fixed slices of instructions and yields to the Node event loop
 * between slices (setImmediate), so terminal input, Ctrl-A X and signals are handled while a
 * runaway guest spins. Slices are a fixed size — never derived from wall time — so where scripted
 * input (--wait-for/--send) lands in the instruction stream is the same on every run.
 */

import { join } from 'node:path';
import { kindNames, TRAP_KIND_COUNT, TrapKind } from '../hypervisor/vmm/trap-log.ts';
import { NS_PER_TICK } from '../machine/clock.ts';
import { comparisonTable, hostingRow } from '../session/hosting-stats.ts';
import { Session, SessionError, type SessionStatus } from '../session/index.ts';
import type { Hosting } from '../session/types.ts';
import { type RunOptions, UsageError } from './args.ts';
import { HostConsole } from './console.ts';
import {
  EXIT_IOERR,
  EXIT_OK,
  EXIT_SIGINT,
  EXIT_SIGPIPE,
  EXIT_SIGTERM,
  EXIT_SOFTWARE,
  EXIT_TIMEOUT,
  EXIT_TRIPLE_FAULT,
} from './exit-codes.ts';
import { readImage, resolveGuest } from './guest-files.ts';
import { errorText, guestsDir } from './manifest.ts';
import { bytesOf, openFile, openSink, TraceStreamer, VmPrefixer } from './output.ts';

/** Instructions (at most) per slice between event-loop turns: a few ms of emulation. */
export const SLICE_INSTRUCTIONS = 250_000;
/** Piped input handed to the guest's UART ahead of what its receive FIFO has taken. */
const INPUT_WINDOW = 4096;
/** On a terminal, an idling guest's virtual time may run at most this far ahead of wall time. */
const TTY_LEAD_MS = 20;

const latin1 = new TextDecoder('latin1');

/** The Type 2 host OS: minikernel built with -DHOST (guests/minikernel/build.sh). */
export const HOST_KERNEL = 'minikernel/minikernel-host.elf';

export async function runCommand(opts: RunOptions): Promise<number> {
  if (opts.hosting !== 'both') return (await runOnce(opts, opts.hosting)).exitCode;
  // Type 1 first, quietly (same guest, same scripted input), then Type 2 as the visible run.
  const quiet: RunOptions = { ...opts, serial: { kind: 'none' }, trace: null, postLog: null, stats: false };
  const one = await runOnce(quiet, 'type1');
  if (one.session === null) return one.exitCode;
  const two = await runOnce({ ...opts, stats: false }, 'type2');
  if (two.session === null) return two.exitCode;
  process.stderr.write(
    comparisonTable(
      hostingRow(one.session, one.guestIo),
      hostingRow(two.session, two.guestIo),
      `Type 1 vs Type 2: ${opts.technique}, the same guest and input`,
    ),
  );
  return two.exitCode;
}

async function runOnce(
  opts: RunOptions,
  hosting: Hosting,
): Promise<{ exitCode: number; session: Session | null; guestIo: number }> {
  const wallStart = performance.now();
  const guest = resolveGuest(opts.guest);
  const machine = opts.machine ?? guest.machine ?? 'pc';
  let session: Session;
  try {
    session = new Session({
      guest: guest.source,
      technique: opts.technique,
      vms: opts.vms,
      memMiB: opts.memMiB,
      noReboot: opts.noReboot,
      ...(opts.paging ? { paging: opts.paging } : {}),
      fpu: machine.includes('fpu'),
      apic: machine.includes('apic'),
      ...(hosting === 'type2'
        ? { hosting, hostKernel: readImage(join(guestsDir(), HOST_KERNEL), 'host OS image') }
        : {}),
      ...(opts.cpuModel ? { cpuModel: opts.cpuModel } : {}),
    });
  } catch (e) {
    if (e instanceof SessionError) throw new UsageError(e.message);
    throw e;
  }
  if (guest.techniques && !guest.techniques.includes(opts.technique)) {
    process.stderr.write(
      `traplab: note: guest '${guest.label}' is meant for ${guest.techniques.join(', ')}; trying ${opts.technique} anyway\n`,
    );
  }

  const serialSink = openSink(opts.serial, '--serial');
  const debugconSink = openSink(opts.debugcon, '--debugcon');
  const traceFile = opts.trace === null ? null : openFile(opts.trace, '--trace');
  const postFile = opts.postLog === null ? null : openFile(opts.postLog, '--post-log');
  const prefixer = session.vmCount > 1 ? new VmPrefixer(serialSink) : null;
  const hostSink = hosting === 'type2' ? openSink(opts.hostSerial, '--host-serial') : null;
  /** Guest console bytes seen (the "guest I/O" of the Type 1 / Type 2 table). */
  let guestIo = 0;
  // --host-send: typed into the host OS's console once its shell prompts.
  let hostSeen = opts.hostSend === null ? null : '';

  let quit = false;
  let signalled = 0;
  /** The VM that keyboard input goes to (Ctrl-A 0–9 switches). */
  let inputVm = 0;
  const console_ =
    opts.serial.kind === 'stdio'
      ? new HostConsole(process.stdin, {
          input: (b) => session.sendSerial(inputVm, b),
          quit: () => {
            quit = true;
          },
          notice: (t) => void process.stderr.write(t),
          select: (vm) => {
            if (vm < session.vmCount) inputVm = vm;
            process.stderr.write(
              vm < session.vmCount
                ? `\r\n[traplab: keyboard → VM ${vm}]\r\n`
                : `\r\n[traplab: there is no VM ${vm}]\r\n`,
            );
          },
        })
      : null;
  const onSignal = (sig: NodeJS.Signals) => {
    signalled = sig === 'SIGINT' ? EXIT_SIGINT : EXIT_SIGTERM;
    quit = true;
    console_?.interrupt(); // an idle guest's loop may be waiting for input
  };
  // Piped stdin reaches the guest only as its UART takes it (the console queues at most
  // INPUT_QUEUE_HIGH bytes and pauses stdin): memory stays bounded whatever is piped in.
  const feed = (): number => {
    if (!console_ || console_.queued === 0) return 0;
    const room = INPUT_WINDOW - session.serialInputPending(inputVm);
    if (room <= 0) return 0;
    const bytes = console_.takeQueued(room);
    if (bytes.length > 0) session.sendSerial(inputVm, bytes);
    return bytes.length;
  };
  // `traplab … | head`: the reader went away. Stop like a process killed by SIGPIPE would.
  // Any other stdout error (`> /dev/full`: ENOSPC) ends the run with status 74.
  let stdoutError = '';
  const onOutputError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') {
      if (!signalled) signalled = EXIT_SIGPIPE;
    } else if (!stdoutError) stdoutError = `stdout: cannot write: ${errorText(e)}`;
    quit = true;
  };
  process.stdout.on('error', onOutputError);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  console_?.start();

  // Scripted input: steps[i] fires once its text has appeared in VM 0's output.
  let step = 0;
  let seen = '';
  const runScript = (fresh: string): void => {
    if (step >= opts.script.length) return;
    seen += fresh;
    while (step < opts.script.length) {
      const s = opts.script[step];
      if (s.waitFor !== null) {
        const at = seen.indexOf(s.waitFor);
        if (at < 0) {
          // Keep only a tail that could still begin a match.
          if (seen.length > s.waitFor.length) seen = seen.slice(seen.length - s.waitFor.length + 1);
          return;
        }
        seen = seen.slice(at + s.waitFor.length);
      }
      session.sendSerial(0, bytesOf(s.send));
      step++;
    }
  };

  const trace =
    traceFile === null ? null : new TraceStreamer(session.traps, (chunk) => traceFile.write(chunk));
  // VM 0's output not yet shown to the script: it acts only between whole slices (below), so
  // where its input lands never depends on how the slice was cut into pieces.
  let unscripted = '';
  const drain = (): void => {
    for (let vm = 0; vm < session.vmCount; vm++) {
      const out = session.takeSerial(vm);
      if (out.length === 0) continue;
      guestIo += out.length;
      if (prefixer) prefixer.write(vm, out);
      else if (vm === 0) serialSink.write(out);
      if (vm === 0 && step < opts.script.length) unscripted += latin1.decode(out);
    }
    debugconSink.write(session.takeDebugcon());
    if (hostSink) {
      const h = session.takeHostSerial();
      hostSink.write(h);
      if (hostSeen !== null && opts.hostSend !== null) {
        hostSeen += latin1.decode(h);
        if (hostSeen.includes('host$ ')) {
          session.sendHostSerial(bytesOf(opts.hostSend));
          hostSeen = null;
        }
      }
    }
    trace?.drain();
  };
  const drainAndScript = (): void => {
    drain();
    const fresh = unscripted;
    unscripted = '';
    runScript(fresh);
  };

  let exitCode = EXIT_OK;
  let message = '';
  const untilExit = untilExitWatch(session, opts.untilExit);
  try {
    runScript(''); // leading --send steps without --wait-for
    let status: SessionStatus;
    for (;;) {
      let budget = SLICE_INSTRUCTIONS;
      // Event deliveries count against the limit too: a guest whose handlers fault on their first
      // instruction retires nothing, yet must stop.
      const steps = session.instructions + session.eventsDelivered;
      if (opts.maxInstructions !== null) budget = Math.min(budget, opts.maxInstructions - steps);
      if (budget <= 0) {
        exitCode = EXIT_TIMEOUT;
        const ev = session.eventsDelivered;
        message = `stopped after ${session.instructions} instructions${ev > 0 ? ` and ${ev} exception/interrupt deliveries` : ''} (--max-instructions)`;
        break;
      }
      await runInPieces(session, budget, () => quit, drain, feed, untilExit?.seen);
      if (untilExit?.hit) {
        drainAndScript();
        message = untilExit.hit;
        break;
      }
      drainAndScript(); // may send scripted input, which wakes an idle guest
      status = session.status;
      if (status.state !== 'running' && status.state !== 'idle') {
        [exitCode, message] = finalStatus(status);
        break;
      }
      if (quit) break;
      if (status.state === 'idle') {
        // Halted with nothing to wake it but host input: wait for input instead of spinning.
        if (feed() > 0) {
          // Piped input the UART has room for now: run on.
        } else if (console_ && !console_.eof) await console_.waitForInput();
        else {
          exitCode = EXIT_OK;
          message = 'the guest halted and nothing can wake it (no more input); stopping';
          break;
        }
      } else if (
        console_?.isTty &&
        session.virtualTimeNs / 1e6 > performance.now() - wallStart + TTY_LEAD_MS
      ) {
        // Interactive: a guest that mostly waits (HLT until its timer) need not race through
        // virtual time; keep it near wall time so uptime and delays look right to the user.
        const lead = session.virtualTimeNs / 1e6 - (performance.now() - wallStart);
        await new Promise<void>((resolve) => setTimeout(resolve, Math.min(50, lead)));
      } else {
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (quit) break;
    }
    if (quit && stdoutError) {
      exitCode = EXIT_IOERR;
      message = stdoutError;
    } else if (quit) {
      exitCode = signalled || EXIT_OK;
      if (signalled === EXIT_SIGPIPE) message = '';
      else if (signalled) message = `interrupted (${signalled === EXIT_SIGINT ? 'SIGINT' : 'SIGTERM'})`;
      else message = 'terminated (Ctrl-A X)';
    }
  } finally {
    console_?.stop();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  try {
    drain();
    serialSink.close();
    debugconSink.close();
    hostSink?.close();
    traceFile?.close();
    if (postFile) {
      const codes = session.postCodes();
      postFile.write(
        codes.map((c) => c.toString(16).toUpperCase().padStart(2, '0')).join('\n') +
          (codes.length ? '\n' : ''),
      );
      postFile.close();
    }
    // Let stdout finish (its errors arrive as events) before judging the exit status.
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  } finally {
    process.stdout.off('error', onOutputError);
  }
  if (stdoutError && exitCode !== EXIT_IOERR) {
    exitCode = EXIT_IOERR;
    message = stdoutError;
  }
  if (message) process.stderr.write(`${console_?.isTty ? '\n' : ''}traplab: ${message}\n`);
  if (trace && trace.lost > 0)
    process.stderr.write(`traplab: --trace: ${trace.lost} trap records were dropped before being written\n`);
  if (opts.stats) process.stderr.write(statsText(session, performance.now() - wallStart));
  return { exitCode, session, guestIo };
}

/** Sub-slice size (ticks) of one slice, adapted to wall time (see runInPieces). */
const PIECE_MIN = 256;
/** Wall time one piece should take. */
const PIECE_MS = 5;
let piece = 4096;

/**
 * Run one slice of `budget` ticks as smaller session.run() calls, yielding to the event loop
 * whenever ~20 ms of wall time have passed, so a signal or Ctrl-A X is seen within a fraction of a
 * second even when each tick is expensive (an exception or trap storm costs microseconds per
 * tick). The pieces adapt to wall time, which is safe: the session's run boundaries are invisible
 * to the guest, and scripted input is still sent only between whole slices.
 */
async function runInPieces(
  session: Session,
  budget: number,
  quit: () => boolean,
  showOutput: () => void,
  feedInput: () => void,
  stopAtTrap?: () => boolean,
): Promise<void> {
  let left = budget;
  let since = performance.now();
  while (left > 0) {
    feedInput();
    const n = Math.min(left, piece);
    const t0 = performance.now();
    const ns0 = session.virtualTimeNs;
    // --until-exit: stop at each trap record to look at it, so the run ends right after the one.
    const st = stopAtTrap ? session.runToNextTrap(n) : session.run(n);
    const t1 = performance.now();
    const ran = Math.round((session.virtualTimeNs - ns0) / NS_PER_TICK);
    left -= Math.max(1, ran);
    if (st.state !== 'running' || stopAtTrap?.()) return;
    // Aim at PIECE_MS per piece: grow at most ×2 at a time, shrink at once.
    const ratio = PIECE_MS / Math.max(t1 - t0, 0.01);
    piece = Math.max(PIECE_MIN, Math.min(SLICE_INSTRUCTIONS, Math.floor(n * Math.min(2, ratio))));
    if (left > 0 && t1 - since > 20) {
      showOutput();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (quit()) return;
      since = performance.now();
    }
  }
}

/**
 * --until-exit N: watches the trap log for the first VM exit with basic exit reason N; `hit` then
 * says which record it was (the line printed on stderr).
 */
function untilExitWatch(
  session: Session,
  reason: number | undefined,
): { seen: () => boolean; hit: string | null } | null {
  if (reason === undefined) return null;
  const log = session.traps;
  let next = log.total;
  const w = {
    hit: null as string | null,
    seen: (): boolean => {
      for (; next < log.total; next++) {
        const i = next - (log.total - log.count);
        if (i < 0) continue; // already dropped from the bounded log
        const r = log.get(i);
        if (r.kind !== TrapKind.VmExit || r.reason !== reason) continue;
        const at = `${hex4(r.cs)}:${r.eip.toString(16).toUpperCase().padStart(8, '0')}`;
        const insn = log.disassemble?.(i) ?? '';
        w.hit =
          `stopped at VM exit ${reason} (${r.reasonName}): record ${r.seq}, VM ${r.vm}, ${at}` +
          `${insn ? ` ${insn}` : ''} — ${r.actionName} (--until-exit)`;
        next++;
        return true;
      }
      return false;
    },
  };
  return w;
}

const hex4 = (v: number) => v.toString(16).toUpperCase().padStart(4, '0');

function finalStatus(status: SessionStatus): [number, string] {
  switch (status.state) {
    case 'exited':
      // A VM that powered off the way a kernel without ACPI does (cli; hlt) says so, as natively.
      return [
        status.exitCode ?? 1,
        status.reason?.startsWith('powered off')
          ? `guest ${status.reason}, exit status ${status.exitCode}`
          : '',
      ];
    case 'shutdown':
      return [EXIT_TRIPLE_FAULT, `triple fault: ${status.reason ?? 'the CPU shut down'}`];
    case 'reset':
      return [EXIT_OK, status.reason ? `${status.reason} (--no-reboot)` : ''];
    case 'stopped':
      // Natively, HLT with interrupts off is how a kernel without ACPI powers off: a normal end
      // (status 0), reported as such rather than as an error.
      if (status.exitCode === undefined)
        return [EXIT_OK, 'guest powered off (HLT with interrupts off), exit status 0'];
      return [status.exitCode, status.reason ?? ''];
    default:
      return [EXIT_SOFTWARE, `unexpected session state '${status.state}'`];
  }
}

export function statsText(session: Session, wallMs: number): string {
  const n = session.instructions;
  const secs = wallMs / 1000;
  const lines = [
    `instructions   ${n}`,
    `virtual time   ${(session.virtualTimeNs / 1e9).toFixed(6)} s`,
    `wall time      ${secs.toFixed(3)} s`,
    `speed          ${secs > 0 ? (n / secs / 1e6).toFixed(1) : '—'} MIPS`,
  ];
  const t = session.traps;
  let traps = 0;
  const byKind: string[] = [];
  for (let k = 0; k < TRAP_KIND_COUNT; k++) {
    const c = t.countByKind(k as TrapKind);
    traps += c;
    if (c > 0) byKind.push(`  ${kindNames[k].padEnd(22)} ${c}`);
  }
  lines.push(
    `traps          ${traps}${t.dropped > 0 ? ` (${t.dropped} dropped from the log)` : ''}`,
    ...byKind,
  );
  if (t.count > 0) {
    // The technique's cost model, summed over the records the log still holds.
    const cols = t.slice(0, t.count);
    let cycles = 0;
    for (let i = 0; i < cols.count; i++) cycles += cols.cost[i];
    const held = t.dropped > 0 ? ` over the last ${t.count} records` : '';
    lines.push(`modelled cost  ${cycles} cycles${held} (${Math.round(cycles / t.count)} per record)`);
  }
  const h = session.hostingCounters();
  if (h) {
    lines.push(
      `hosting        Type 2: ${h.toVmm} switches host → VMM, ${h.toHost} VMM → host (${h.outputExits} for guest output, ${h.hostInterrupts} host interrupts, ${h.idleExits} idle); ${h.hostSyscalls} host system calls by VMApp; ${h.hostInstructions} instructions in the host world, ${h.vmmInstructions} in the VMM world`,
    );
  }
  if (session.config.technique !== 'native') {
    // What the VMM did for each VM (counters over the whole run, not just the held records).
    lines.push('by VM          traps  hidden PF  reflected  injected  silent  switches  modelled cycles');
    for (const v of session.vmInfo()) {
      const c = [v.traps, v.hiddenFaults, v.reflected, v.injected, v.silent, v.switchesIn];
      const w = [5, 11, 11, 10, 8, 10];
      lines.push(
        `  VM ${v.vm}`.padEnd(14) +
          c.map((n, i) => String(n).padStart(w[i])).join('') +
          String(v.cycles).padStart(17),
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
