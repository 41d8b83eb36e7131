/**
 * Side by side: the same guest, with the same typed input, under several techniques, and the
 * numbers a class compares — instructions retired, trap records per kind, modelled cycles (the
 * technique's cost model, summed over its records), virtual time and how the run ended. The CLI's
 * `traplab compare` prints these; the browser's compare page gets the same counters from one
 * worker per technique.
 */
import { kindNames, TRAP_KIND_COUNT, type TrapKind } from '../hypervisor/vmm/trap-log.ts';
import { NS_PER_TICK } from '../machine/clock.ts';
import { Session } from './session.ts';
import type { GuestSource, SessionStatus, Technique } from './types.ts';

export interface CompareOptions {
  /** Bytes typed into VM 0's console once it first waits quietly (see inputQuietTicks). */
  input?: Uint8Array;
  /** Stop a run after this many ticks of virtual time (default 200 M). */
  maxTicks?: number;
  memMiB?: number;
  /** Stop once the input is consumed and the console stayed silent this long (default 20 M ticks). */
  quietTicks?: number;
  /** The input is typed after the guest's console has been quiet this long (default 2 M ticks). */
  inputQuietTicks?: number;
}

export interface CompareResult {
  technique: Technique;
  /** Set when the technique refused the guest up front (the session's message). */
  refused: string | null;
  instructions: number;
  /** Records ever appended, by kind (index = TrapKind). */
  trapsByKind: number[];
  traps: number;
  /** Modelled cycles of every trap record (the technique's cost model); 0 natively. */
  cycles: number;
  virtualTimeNs: number;
  status: SessionStatus;
  /** The console output of VM 0. */
  output: string;
}

const SLICE = 1_000_000;
export const DEFAULT_MAX_TICKS = 200_000_000;
export const DEFAULT_QUIET_TICKS = 20_000_000;
export const DEFAULT_INPUT_QUIET_TICKS = 2_000_000;

/** Run `guest` under one technique until it ends, goes idle with its input consumed, or maxTicks. */
export function compareRun(
  guest: GuestSource,
  technique: Technique,
  opts: CompareOptions = {},
): CompareResult {
  const maxTicks = opts.maxTicks ?? DEFAULT_MAX_TICKS;
  let s: Session;
  try {
    s = new Session({ guest, technique, vms: 1, memMiB: opts.memMiB ?? 64, noReboot: true });
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    return {
      technique,
      refused: msg,
      instructions: 0,
      trapsByKind: new Array(TRAP_KIND_COUNT).fill(0),
      traps: 0,
      cycles: 0,
      virtualTimeNs: 0,
      status: { state: 'stopped', reason: msg },
      output: '',
    };
  }
  // The input is typed once the guest has printed something and then gone quiet (at its prompt):
  // bytes sent at power-on would meet a UART the kernel has not set up yet (and may reset).
  const inputQuiet = opts.inputQuietTicks ?? DEFAULT_INPUT_QUIET_TICKS;
  let pendingInput = opts.input && opts.input.length > 0 ? opts.input : null;
  const dec = new TextDecoder('latin1');
  let out = '';
  let st = s.status;
  const quietTicks = opts.quietTicks ?? DEFAULT_QUIET_TICKS;
  const ticks = () => Math.round(s.virtualTimeNs / NS_PER_TICK);
  let lastOutput = 0;
  while (ticks() < maxTicks) {
    st = s.run(Math.min(SLICE, maxTicks - ticks()));
    const bytes = s.takeSerial(0);
    if (bytes.length > 0) {
      out += dec.decode(bytes);
      lastOutput = ticks();
    }
    if (pendingInput && out.length > 0 && (ticks() - lastOutput >= inputQuiet || st.state === 'idle')) {
      s.sendSerial(0, pendingInput);
      pendingInput = null;
      lastOutput = ticks();
      st = s.status;
    }
    if (st.state !== 'running') break;
    // A shell waiting at its prompt never ends by itself: once the input is consumed and the
    // console has been quiet for a while (virtual time, so the same on every run), stop.
    if (!pendingInput && s.serialInputPending(0) === 0 && ticks() - lastOutput >= quietTicks) {
      st = s.stop(`quiet: no console output for ${quietTicks} ticks after the input was consumed`);
      break;
    }
  }
  if (st.state === 'running') st = s.stop(`time limit: ${maxTicks} ticks of virtual time`);
  const trapsByKind: number[] = [];
  for (let k = 0; k < TRAP_KIND_COUNT; k++) trapsByKind.push(s.traps.countByKind(k as TrapKind));
  const result: CompareResult = {
    technique,
    refused: null,
    instructions: s.instructions,
    trapsByKind,
    traps: s.traps.total,
    cycles: s.vmInfo().reduce((sum, v) => sum + v.cycles, 0),
    virtualTimeNs: s.virtualTimeNs,
    status: st,
    output: out,
  };
  // The next technique's machine reuses this one's buffers.
  s.dispose();
  return result;
}

/** How a run ended, in a few words (the table's last row). */
export function endText(r: CompareResult): string {
  if (r.refused) return 'refused';
  const st = r.status;
  if (st.state === 'exited') return `exited ${st.exitCode}`;
  if (st.state === 'stopped' && st.exitCode !== undefined) return `stopped ${st.exitCode}`;
  if (st.reason?.startsWith('quiet')) return 'quiet';
  if (st.reason?.startsWith('time limit')) return 'time limit';
  return st.state;
}

/** Trap kinds with a non-zero count in any run, in kind order. */
export function kindsSeen(results: readonly CompareResult[]): number[] {
  const seen: number[] = [];
  for (let k = 0; k < TRAP_KIND_COUNT; k++) if (results.some((r) => r.trapsByKind[k] > 0)) seen.push(k);
  return seen;
}

export { kindNames };
