/**
 * `traplab run`: boot a guest headless and drive the session's run loop.
 *
 * The loop runs the session in fixed slices of instructions and yields to the Node event loop
 * between slices (setImmediate), so terminal input, Ctrl-A X and signals are handled while a
 * runaway guest spins. Slices are a fixed size — never derived from wall time — so where scripted
 * input (--wait-for/--send) lands in the instruction stream is the same on every run.
 */
import { closeSync, writeSync } from 'node:fs';
import { kindNames, TRAP_KIND_COUNT, type TrapKind } from '../hypervisor/vmm/trap-log.ts';
import { Session, SessionError, type SessionStatus } from '../session/index.ts';
import { type RunOptions, UsageError } from './args.ts';
import { HostConsole } from './console.ts';
import {
  EXIT_OK,
  EXIT_SIGINT,
  EXIT_SIGPIPE,
  EXIT_SIGTERM,
  EXIT_SOFTWARE,
  EXIT_TIMEOUT,
  EXIT_TRIPLE_FAULT,
} from './exit-codes.ts';
import { resolveGuest } from './guest-files.ts';
import { bytesOf, openFile, openSink, TraceStreamer, VmPrefixer } from './output.ts';

/** Instructions (at most) per slice between event-loop turns: a few ms of emulation. */
export const SLICE_INSTRUCTIONS = 250_000;
/** On a terminal, an idling guest's virtual time may run at most this far ahead of wall time. */
const TTY_LEAD_MS = 20;

const latin1 = new TextDecoder('latin1');

export async function runCommand(opts: RunOptions): Promise<number> {
  const wallStart = performance.now();
  const guest = resolveGuest(opts.guest);
  let session: Session;
  try {
    session = new Session({
      guest: guest.source,
      technique: opts.technique,
      vms: opts.vms,
      memMiB: opts.memMiB,
      noReboot: opts.noReboot,
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
  const traceFd = opts.trace === null ? -1 : openFile(opts.trace, '--trace');
  const postFd = opts.postLog === null ? -1 : openFile(opts.postLog, '--post-log');
  const prefixer = session.vmCount > 1 ? new VmPrefixer(serialSink) : null;

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
  };
  // `traplab … | head`: the reader went away. Stop like a process killed by SIGPIPE would.
  const onOutputError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE' && !signalled) {
      signalled = EXIT_SIGPIPE;
      quit = true;
    }
  };
  process.stdout.on('error', onOutputError);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  console_?.start();

  // Scripted input: steps[i] fires once its text has appeared in VM 0's output.
  let step = 0;
  let seen = '';
  const runScript = (fresh: Uint8Array): void => {
    if (step >= opts.script.length) return;
    seen += latin1.decode(fresh);
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

  const trace = traceFd < 0 ? null : new TraceStreamer(session.traps, (chunk) => writeSync(traceFd, chunk));
  const drain = (): void => {
    for (let vm = 0; vm < session.vmCount; vm++) {
      const out = session.takeSerial(vm);
      if (out.length === 0) continue;
      if (prefixer) prefixer.write(vm, out);
      else if (vm === 0) serialSink.write(out);
      if (vm === 0) runScript(out);
    }
    debugconSink.write(session.takeDebugcon());
    trace?.drain();
  };

  let exitCode = EXIT_OK;
  let message = '';
  try {
    runScript(new Uint8Array(0)); // leading --send steps without --wait-for
    let status: SessionStatus;
    for (;;) {
      let budget = SLICE_INSTRUCTIONS;
      if (opts.maxInstructions !== null)
        budget = Math.min(budget, opts.maxInstructions - session.instructions);
      if (budget <= 0) {
        exitCode = EXIT_TIMEOUT;
        message = `stopped after ${session.instructions} instructions (--max-instructions)`;
        break;
      }
      session.run(budget);
      drain(); // may send scripted input, which wakes an idle guest
      status = session.status;
      if (status.state !== 'running' && status.state !== 'idle') {
        [exitCode, message] = finalStatus(status);
        break;
      }
      if (quit) break;
      if (status.state === 'idle') {
        // Halted with nothing to wake it but host input: wait for input instead of spinning.
        if (console_ && !console_.closed) await console_.waitForInput();
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
    if (quit) {
      exitCode = signalled || EXIT_OK;
      if (signalled === EXIT_SIGPIPE) message = '';
      else if (signalled) message = `interrupted (${signalled === EXIT_SIGINT ? 'SIGINT' : 'SIGTERM'})`;
      else message = 'terminated (Ctrl-A X)';
    }
  } finally {
    console_?.stop();
    process.stdout.off('error', onOutputError);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  drain();
  serialSink.close();
  debugconSink.close();
  if (traceFd >= 0) closeSync(traceFd);
  if (postFd >= 0) {
    const codes = session.postCodes();
    writeSync(
      postFd,
      codes.map((c) => c.toString(16).toUpperCase().padStart(2, '0')).join('\n') + (codes.length ? '\n' : ''),
    );
    closeSync(postFd);
  }
  if (message) process.stderr.write(`${console_?.isTty ? '\n' : ''}traplab: ${message}\n`);
  if (trace && trace.lost > 0)
    process.stderr.write(`traplab: --trace: ${trace.lost} trap records were dropped before being written\n`);
  if (opts.stats) process.stderr.write(statsText(session, performance.now() - wallStart));
  return exitCode;
}

function finalStatus(status: SessionStatus): [number, string] {
  switch (status.state) {
    case 'exited':
      return [status.exitCode ?? 1, ''];
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
