/**
 * The Popek–Goldberg lab: Robin & Irvine's sensitive-but-unprivileged IA-32 instructions (USENIX
 * Security 2000; 18 mnemonics, "17" as the paper counts them) plus IRET, each run by the
 * `guests/sensitive` kernel (`test=NAME` on its command line) natively and under every technique.
 *
 * Nothing here states an outcome: each cell is judged from real runs. The guest prints one
 * `result:` line (what it observed) and one `site` line (the address range of the sensitive
 * instruction). A cell is
 *   - correct:  the same result line as native and no trap record at the site;
 *   - trapped:  the same result as native, and the trap log holds a record for the site (the VMM
 *               trapped or called out on that instruction and emulated or reflected it);
 *   - wrong:    a result different from native; `silent` when no trap record exists for the site
 *               (a silent-event record may: the VMM's after-the-fact observer, not a trap);
 *   - failed:   the VM did not finish the demo (stopped, hung, refused mid-run);
 *   - n/a:      the technique refused the guest before it ran (the reason is the session's own).
 * Pure TypeScript on the session API: the CLI and the browser worker both run it.
 */
import { TrapKind, type TrapRecord } from '../hypervisor/vmm/trap-log.ts';
import { NS_PER_TICK } from '../machine/clock.ts';
import { Session } from './session.ts';
import { SessionError, type SessionStatus, TECHNIQUES, type Technique } from './types.ts';

/** Robin & Irvine's two groups, and IRET (not on their list; it drops IF as POPF does). */
export type InstructionGroup = 'sensitive register' | 'protection system' | 'not on the list';

export interface SensitiveInstruction {
  /** The guest's test name (`test=NAME`) and the manifest guest id `sensitive-NAME`. */
  test: string;
  mnemonic: string;
  group: InstructionGroup;
}

// biome-ignore format: one row per instruction, in the paper's order
export const SENSITIVE_INSTRUCTIONS: readonly SensitiveInstruction[] = [
  { test: 'sgdt', mnemonic: 'SGDT', group: 'sensitive register' },
  { test: 'sidt', mnemonic: 'SIDT', group: 'sensitive register' },
  { test: 'sldt', mnemonic: 'SLDT', group: 'sensitive register' },
  { test: 'smsw', mnemonic: 'SMSW', group: 'sensitive register' },
  { test: 'pushf', mnemonic: 'PUSHF', group: 'sensitive register' },
  { test: 'popf', mnemonic: 'POPF', group: 'sensitive register' },
  { test: 'lar', mnemonic: 'LAR', group: 'protection system' },
  { test: 'lsl', mnemonic: 'LSL', group: 'protection system' },
  { test: 'verr', mnemonic: 'VERR', group: 'protection system' },
  { test: 'verw', mnemonic: 'VERW', group: 'protection system' },
  { test: 'pop', mnemonic: 'POP', group: 'protection system' },
  { test: 'push', mnemonic: 'PUSH', group: 'protection system' },
  { test: 'call', mnemonic: 'CALL', group: 'protection system' },
  { test: 'jmp', mnemonic: 'JMP', group: 'protection system' },
  { test: 'int', mnemonic: 'INT n', group: 'protection system' },
  { test: 'ret', mnemonic: 'RET', group: 'protection system' },
  { test: 'str', mnemonic: 'STR', group: 'protection system' },
  { test: 'mov', mnemonic: 'MOV', group: 'protection system' },
  { test: 'iret', mnemonic: 'IRET', group: 'not on the list' },
];

/** The guest id in guests/manifest.json of one demo. */
export function sensitiveGuestId(test: string): string {
  return `sensitive-${test}`;
}

export type Outcome = 'correct' | 'trapped' | 'wrong' | 'failed' | 'n/a';

export interface MatrixCell {
  test: string;
  technique: Technique;
  outcome: Outcome;
  /** wrong only: no trap record exists for the site (the VMM never saw it). */
  silent: boolean;
  /** The guest's own result line (without the "[sensitive] result: " prefix); '' if none. */
  result: string;
  /** The native run's result line, for comparison. */
  native: string;
  /** The site [start, end) the guest printed. */
  site: [number, number] | null;
  /** Sequence number of the first trap record at the site (trapped, or wrong after a trap). */
  trapSeq: number | null;
  /** Sequence number of the first silent-event record at the site, if the VMM's observer logged one. */
  silentSeq: number | null;
  /** Kind name of `trapSeq`'s record (e.g. "callout", "guest exception"). */
  trapKind: string | null;
  /** Virtual clock (ticks) of the record a link selects (`trapSeq`, else `silentSeq`). */
  recordClock: number | null;
  /** Trap records of the whole run, and the run's virtual clock at its end (ticks: instructions,
   *  event deliveries and HLT skips). */
  traps: number;
  clock: number;
  /** How the run ended (or why the technique refused the guest). */
  status: string;
  exitCode: number | null;
}

export interface Matrix {
  techniques: Technique[];
  instructions: SensitiveInstruction[];
  cells: MatrixCell[];
}

/** Trap-log kinds that mean "the VMM took control on this instruction". */
const TRAP_KINDS: ReadonlySet<number> = new Set([
  TrapKind.PrivilegedInstruction,
  TrapKind.PortIo,
  TrapKind.ControlRegister,
  TrapKind.GuestException,
  TrapKind.Hypercall,
  TrapKind.VmExit,
  TrapKind.Callout,
]);

/** Longest a demo may run (it needs well under a million instructions under any technique). */
const BUDGET = 20_000_000;
const SLICE = 1_000_000;

export interface DemoRun {
  output: string;
  status: SessionStatus;
  site: [number, number] | null;
  result: string;
  trapSeq: number | null;
  trapKind: string | null;
  silentSeq: number | null;
  recordClock: number | null;
  traps: number;
  clock: number;
}

/** Boot `kernel` with `test=NAME` under one technique and collect what the lab needs. */
export function runDemo(kernel: Uint8Array, test: string, technique: Technique): DemoRun {
  const s = new Session({
    guest: { kind: 'kernel', kernel, cmdline: `test=${test}` },
    technique,
    vms: 1,
    memMiB: 8, // as the sensitive-* manifest entries, so the playground replays the same run
    noReboot: true,
  });
  let out = '';
  const dec = new TextDecoder('latin1');
  let st = s.status;
  for (let done = 0; done < BUDGET; done += SLICE) {
    st = s.run(SLICE);
    out += dec.decode(s.takeSerial(0));
    if (st.state !== 'running') break;
  }
  if (st.state === 'running') st = s.stop(`still running after ${BUDGET} instructions`);
  const site = parseSite(out);
  let trapSeq: number | null = null;
  let trapKind: string | null = null;
  let silentSeq: number | null = null;
  let trapClock: number | null = null;
  let silentClock: number | null = null;
  if (site) {
    const log = s.traps;
    for (let i = 0; i < log.count; i++) {
      const r: TrapRecord = log.get(i);
      if (r.eip < site[0] || r.eip >= site[1]) continue;
      if (trapSeq === null && TRAP_KINDS.has(r.kind)) {
        trapSeq = r.seq;
        trapKind = r.kindName;
        trapClock = Math.round(r.timeNs / NS_PER_TICK);
      }
      if (silentSeq === null && r.kind === TrapKind.SilentEvent) {
        silentSeq = r.seq;
        silentClock = Math.round(r.timeNs / NS_PER_TICK);
      }
    }
  }
  const run: DemoRun = {
    output: out,
    status: st,
    site,
    result: parseResult(out),
    trapSeq,
    trapKind,
    silentSeq,
    recordClock: trapClock ?? silentClock,
    traps: s.traps.total,
    clock: Math.round(s.virtualTimeNs / NS_PER_TICK),
  };
  // The next demo's machine reuses this one's buffers.
  s.dispose();
  return run;
}

function parseSite(out: string): [number, number] | null {
  const m = /\[sensitive\] site 0x([0-9A-F]{8})-0x([0-9A-F]{8})/.exec(out);
  return m ? [Number.parseInt(m[1], 16), Number.parseInt(m[2], 16)] : null;
}
function parseResult(out: string): string {
  return /\[sensitive\] result: ([^\r\n]*)/.exec(out)?.[1] ?? '';
}

/** The status in words, as a CLI user would read it. */
function statusText(st: SessionStatus): string {
  if (st.state === 'exited') return `exited, status ${st.exitCode}`;
  return st.reason ? `${st.state}: ${st.reason}` : st.state;
}

/** Judge one technique's run of one demo against the native run. */
export function judge(test: string, technique: Technique, native: DemoRun, run: DemoRun): MatrixCell {
  const finished = run.status.state === 'exited' && run.status.exitCode === 1 && run.result !== '';
  const same = finished && run.result === native.result;
  const outcome: Outcome = !finished
    ? 'failed'
    : same
      ? run.trapSeq === null
        ? 'correct'
        : 'trapped'
      : 'wrong';
  return {
    test,
    technique,
    outcome,
    silent: outcome === 'wrong' && run.trapSeq === null,
    result: run.result,
    native: native.result,
    site: run.site,
    trapSeq: run.trapSeq,
    silentSeq: run.silentSeq,
    trapKind: run.trapKind,
    recordClock: run.recordClock,
    traps: run.traps,
    clock: run.clock,
    status: statusText(run.status),
    exitCode: run.status.exitCode ?? null,
  };
}

function notApplicable(test: string, technique: Technique, native: DemoRun, reason: string): MatrixCell {
  return {
    test,
    technique,
    outcome: 'n/a',
    silent: false,
    result: '',
    native: native.result,
    site: null,
    trapSeq: null,
    silentSeq: null,
    trapKind: null,
    recordClock: null,
    traps: 0,
    clock: 0,
    status: reason,
    exitCode: null,
  };
}

/**
 * Run every demo natively and under each technique. A technique that refuses the guest up front
 * (a SessionError, e.g. paravirtual for an unmodified kernel) gives `n/a` cells with its message.
 * `onCell` reports progress (the browser page fills the table as cells arrive).
 */
export function computeMatrix(
  kernel: Uint8Array,
  opts: {
    techniques?: readonly Technique[];
    tests?: readonly string[];
    onCell?: (cell: MatrixCell) => void;
  } = {},
): Matrix {
  const techniques = [...(opts.techniques ?? TECHNIQUES)];
  const instructions = SENSITIVE_INSTRUCTIONS.filter((i) => !opts.tests || opts.tests.includes(i.test));
  const cells: MatrixCell[] = [];
  const refused = new Map<Technique, string>();
  for (const ins of instructions) {
    const native = runDemo(kernel, ins.test, 'native');
    for (const t of techniques) {
      let cell: MatrixCell;
      const why = refused.get(t);
      if (why !== undefined) cell = notApplicable(ins.test, t, native, why);
      else if (t === 'native') cell = judge(ins.test, t, native, native);
      else {
        try {
          cell = judge(ins.test, t, native, runDemo(kernel, ins.test, t));
        } catch (e) {
          // The constructor's SessionError: the technique will not run this guest at all.
          if (!(e instanceof SessionError)) throw e;
          refused.set(t, e.message);
          cell = notApplicable(ins.test, t, native, e.message);
        }
      }
      cells.push(cell);
      opts.onCell?.(cell);
    }
  }
  return { techniques, instructions: [...instructions], cells };
}

export const OUTCOME_LABELS: Record<Outcome, string> = {
  correct: 'correct',
  trapped: 'trapped',
  wrong: 'WRONG',
  failed: 'failed',
  'n/a': 'n/a',
};

/** The cell's label in a table: "WRONG (silent)" for a silent divergence. */
export function cellLabel(c: MatrixCell): string {
  if (c.outcome === 'wrong') return c.silent ? 'WRONG (silent)' : 'WRONG (trapped)';
  return OUTCOME_LABELS[c.outcome];
}
