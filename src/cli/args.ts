/**
 * `traplab` command-line parsing. The flag names are a contract (issue 4: "bars and scripts will
 * rely on these exact names"), modelled on QEMU's where one exists. Parsing is pure: it returns a
 * value or throws `UsageError`, which the CLI turns into exit status 64 (EX_USAGE) and a one-line
 * message — never a stack trace.
 */

import { CPU_MODELS, type CpuModelId, parseCpuModel } from '../hypervisor/vmm/cost-model.ts';
import { TECHNIQUES, type Technique } from '../session/types.ts';

export class UsageError extends Error {
  override name = 'UsageError';
}

/** Where a byte stream goes (or comes from). */
export type Sink = { kind: 'stdio' } | { kind: 'stderr' } | { kind: 'none' } | { kind: 'file'; path: string };

export type GuestChoice =
  | { kind: 'guest'; id: string; append?: string }
  | { kind: 'kernel'; kernel: string; initrd?: string; append?: string }
  | { kind: 'bios'; bios: string }
  | { kind: 'raw'; raw: string; addr: number; entry: number };

/** One scripted step: once `waitFor` has appeared on VM 0's serial output, send `send`. */
export interface ScriptStep {
  waitFor: string | null;
  send: string;
}

export interface RunOptions {
  guest: GuestChoice;
  technique: Technique;
  vms: number;
  memMiB: number;
  serial: Sink;
  script: ScriptStep[];
  debugcon: Sink;
  postLog: string | null;
  trace: string | null;
  stats: boolean;
  maxInstructions: number | null;
  noReboot: boolean;
  /** --until-exit N: stop right after the first VM exit with basic exit reason N (VT-x only). */
  untilExit?: number;
  /** --paging ept|shadow (hardware-assisted only). */
  paging?: 'ept' | 'shadow';
  /**
   * The PC model: 'pc' (i486-class: no FPU, no APIC), '-fpu' adds an x87, '-apic' a local APIC.
   * Absent when --machine is not given: the guest's manifest entry may name one, else 'pc'.
   */
  machine?: Machine;
  /** --hosting: Type 1 (default), Type 2 (a host OS boots first), or both side by side. */
  hosting: HostingChoice;
  /** Type 2: text typed into the host OS's console at its first prompt (--host-send). */
  hostSend: string | null;
  /** Type 2: where the host OS's console (physical COM1) goes (--host-serial; default none). */
  hostSerial: Sink;
  /** --cpu-model p4|nehalem|modern: the cost model's CPU generation; RDTSC reads modelled cycles. */
  cpuModel?: CpuModelId;
}

export const HOSTING_CHOICES = ['type1', 'type2', 'both'] as const;
export type HostingChoice = (typeof HOSTING_CHOICES)[number];

export const MACHINES = ['pc', 'pc-fpu', 'pc-apic', 'pc-fpu-apic'] as const;
export type Machine = (typeof MACHINES)[number];

/** `traplab aa`: Adams & Agesen's nanobenchmarks under every technique. */
export interface AaOptions {
  cpuModel: CpuModelId | 'all';
  json: boolean;
  /** Benchmarks to run (default: all seven). */
  only: readonly AaBenchmarkName[];
}

/** minikernel's `bench` names (as src/session/adams-agesen.ts AA_BENCHMARKS; not imported, so help stays light). */
export const AA_BENCHMARK_NAMES = [
  'syscall',
  'in',
  'cr-write',
  'call/ret',
  'pgfault',
  'divzero',
  'ptemod',
] as const;
export type AaBenchmarkName = (typeof AA_BENCHMARK_NAMES)[number];

export type Command =
  | { command: 'help'; topic: 'main' | 'run' | 'aa' }
  | { command: 'aa'; options: AaOptions }
  | { command: 'version' }
  | { command: 'list'; json: boolean }
  | { command: 'run'; options: RunOptions };

export const DEFAULT_MEM_MIB = 64;
/** As MAX_RAM_MIB in src/machine/pc.ts (RAM must lie below 2 GiB physical); not imported, so `help` stays light. */
export const MAX_MEM_MIB = 2048;
export const MAX_VMS = 16;

/** Flags of `traplab run` that take a value. */
const VALUE_FLAGS = new Set([
  '--guest',
  '--kernel',
  '--initrd',
  '--append',
  '--bios',
  '--raw',
  '--entry',
  '--technique',
  '--vms',
  '--mem',
  '--machine',
  '--serial',
  '--wait-for',
  '--send',
  '--debugcon',
  '--post-log',
  '--trace',
  '--max-instructions',
  '--paging',
  '--until-exit',
  '--hosting',
  '--host-send',
  '--host-serial',
  '--cpu-model',
]);
const BOOL_FLAGS = new Set(['--stats', '--no-reboot', '--help', '-h']);

/** Parse the whole argument vector (without `node` and the script). */
/** Short names accepted by --technique (each technique adds its own). */
export const TECHNIQUE_SHORT_NAMES: Record<string, Technique> = {
  bt: 'binary-translation',
  pv: 'paravirtual',
  vtx: 'hardware-assisted',
};

export function parseCommand(argv: readonly string[]): Command {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    if (cmd === 'help' && rest[0] === 'run') return { command: 'help', topic: 'run' };
    if (cmd === 'help' && rest[0] === 'aa') return { command: 'help', topic: 'aa' };
    return { command: 'help', topic: 'main' };
  }
  if (cmd === '--version' || cmd === '-V') return { command: 'version' };
  if (cmd === 'list') {
    for (const a of rest) {
      if (a === '--help' || a === '-h') return { command: 'help', topic: 'main' };
      if (a !== '--json') throw new UsageError(`unknown option '${a}' for 'traplab list'`);
    }
    return { command: 'list', json: rest.includes('--json') };
  }
  if (cmd === 'run') {
    if (rest.includes('--help') || rest.includes('-h')) return { command: 'help', topic: 'run' };
    return { command: 'run', options: parseRunArgs(rest) };
  }
  if (cmd === 'aa') {
    if (rest.includes('--help') || rest.includes('-h')) return { command: 'help', topic: 'aa' };
    return { command: 'aa', options: parseAaArgs(rest) };
  }
  if (cmd.startsWith('-'))
    throw new UsageError(`unknown option '${cmd}' (commands: run, list, compare, popek-goldberg, aa, help)`);
  throw new UsageError(`unknown command '${cmd}' (commands: run, list, compare, popek-goldberg, aa, help)`);
}

/** Parse the arguments after `traplab aa`: [--cpu-model p4|nehalem|modern|all] [--json] [--only a,b]. */
export function parseAaArgs(argv: readonly string[]): AaOptions {
  let cpuModel: CpuModelId | 'all' = 'p4';
  let json = false;
  let only: readonly AaBenchmarkName[] = AA_BENCHMARK_NAMES;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    if (name === '--json' && eq < 0) {
      json = true;
      continue;
    }
    if (name !== '--cpu-model' && name !== '--only')
      throw new UsageError(`unknown option '${arg}' for 'traplab aa'`);
    const value = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    if (name === '--cpu-model') cpuModel = value === 'all' ? 'all' : parseCpuModelFlag(value);
    else {
      const names = value.split(',').map((s) => s.trim());
      for (const n of names) {
        if (!(AA_BENCHMARK_NAMES as readonly string[]).includes(n))
          throw new UsageError(`--only: unknown benchmark '${n}' (one of: ${AA_BENCHMARK_NAMES.join(', ')})`);
      }
      only = AA_BENCHMARK_NAMES.filter((b) => names.includes(b));
    }
  }
  return { cpuModel, json, only };
}

/** Parse the arguments after `traplab run`. */
export function parseRunArgs(argv: readonly string[]): RunOptions {
  const seen = new Map<string, string>();
  const script: ScriptStep[] = [];
  let pendingWait: string | null = null;
  let stats = false;
  let noReboot = false;
  let positional: string | null = null;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-')) {
      // `traplab run GUEST`: a guest id, or (with a '/') a kernel file — the same as --guest / --kernel.
      if (positional !== null) throw new UsageError(`unexpected argument '${arg}' (one GUEST only)`);
      positional = arg;
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    let value: string | undefined = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : undefined;

    if (BOOL_FLAGS.has(name)) {
      if (value !== undefined) throw new UsageError(`${name} takes no value`);
      if (name === '--stats') stats = true;
      else if (name === '--no-reboot') noReboot = true;
      continue;
    }
    if (!VALUE_FLAGS.has(name)) throw new UsageError(`unknown option '${name}' (see 'traplab run --help')`);
    if (value === undefined) {
      if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
      value = argv[++i];
    }

    if (name === '--wait-for') {
      if (pendingWait !== null)
        throw new UsageError(`--wait-for '${pendingWait}' must be followed by a --send`);
      if (value === '') throw new UsageError('--wait-for needs non-empty text');
      pendingWait = unescapeText(value, '--wait-for');
      continue;
    }
    if (name === '--send') {
      script.push({ waitFor: pendingWait, send: unescapeText(value, '--send') });
      pendingWait = null;
      continue;
    }
    if (seen.has(name)) throw new UsageError(`${name} given twice`);
    seen.set(name, value);
  }
  if (pendingWait !== null) throw new UsageError(`--wait-for '${pendingWait}' must be followed by a --send`);
  if (positional !== null) {
    const flag = positional.includes('/') ? '--kernel' : '--guest';
    if (seen.has(flag)) throw new UsageError(`${flag} given twice (as GUEST '${positional}' and as ${flag})`);
    seen.set(flag, positional);
  }

  const get = (n: string): string | undefined => seen.get(n);
  const guest = parseGuest(get);

  const rawTechnique = get('--technique') ?? 'native';
  const technique = (TECHNIQUE_SHORT_NAMES[rawTechnique] ?? rawTechnique) as Technique;
  if (!TECHNIQUES.includes(technique)) {
    throw new UsageError(`unknown technique '${rawTechnique}' (one of: ${TECHNIQUES.join(', ')})`);
  }
  const vms = get('--vms') === undefined ? 1 : parseCount(get('--vms') as string, '--vms', 1, MAX_VMS);
  const memMiB =
    get('--mem') === undefined
      ? DEFAULT_MEM_MIB
      : parseCount(get('--mem') as string, '--mem', 1, MAX_MEM_MIB);
  const pagingRaw = get('--paging');
  if (pagingRaw !== undefined && pagingRaw !== 'ept' && pagingRaw !== 'shadow')
    throw new UsageError(`--paging must be ept or shadow, not '${pagingRaw}'`);
  if (pagingRaw !== undefined && technique !== 'hardware-assisted')
    throw new UsageError('--paging applies to --technique hardware-assisted (vtx) only');
  const untilRaw = get('--until-exit');
  let untilExit: number | undefined;
  if (untilRaw !== undefined) {
    if (technique !== 'hardware-assisted')
      throw new UsageError('--until-exit applies to --technique hardware-assisted (vtx) only');
    if (!/^\d{1,5}$/.test(untilRaw) || Number(untilRaw) > 65535)
      throw new UsageError(
        `--until-exit needs a basic exit reason number (0-65535, e.g. 30), not '${untilRaw}'`,
      );
    untilExit = Number(untilRaw);
  }
  const cpuModelRaw = get('--cpu-model');
  const cpuModel = cpuModelRaw === undefined ? undefined : parseCpuModelFlag(cpuModelRaw);
  const maxRaw = get('--max-instructions');
  const maxInstructions =
    maxRaw === undefined ? null : parseCount(maxRaw, '--max-instructions', 1, 2 ** 53, true);

  const machine = get('--machine') as Machine | undefined;
  if (machine !== undefined && !MACHINES.includes(machine)) {
    throw new UsageError(`unknown machine '${machine}' (one of: ${MACHINES.join(', ')})`);
  }
  const serial = parseSink(get('--serial') ?? 'stdio', '--serial', ['stdio', 'none']);
  const hosting = (get('--hosting') ?? 'type1') as HostingChoice;
  if (!HOSTING_CHOICES.includes(hosting)) {
    throw new UsageError(`--hosting must be type1, type2 or both, not '${hosting}'`);
  }
  if (hosting !== 'type1' && technique === 'native') {
    throw new UsageError('--hosting type2 needs a hypervisor --technique (native runs no VMM)');
  }
  const hostSendRaw = get('--host-send');
  const hostSerialRaw = get('--host-serial');
  if ((hostSendRaw !== undefined || hostSerialRaw !== undefined) && hosting === 'type1') {
    throw new UsageError(
      '--host-send and --host-serial need --hosting type2 or both (Type 1 has no host OS)',
    );
  }
  const debugcon = parseSink(get('--debugcon') ?? 'none', '--debugcon', ['stdio', 'stderr', 'none']);
  return {
    guest,
    technique,
    vms,
    memMiB,
    serial,
    script,
    debugcon,
    postLog: nonEmptyPath(get('--post-log'), '--post-log'),
    trace: nonEmptyPath(get('--trace'), '--trace'),
    stats,
    maxInstructions,
    ...(untilExit !== undefined ? { untilExit } : {}),
    noReboot,
    ...(pagingRaw === undefined ? {} : { paging: pagingRaw }),
    ...(machine ? { machine } : {}),
    hosting,
    hostSend: hostSendRaw === undefined ? null : unescapeText(hostSendRaw, '--host-send'),
    hostSerial: parseSink(hostSerialRaw ?? 'none', '--host-serial', ['stdio', 'stderr', 'none']),
    ...(cpuModel === undefined ? {} : { cpuModel }),
  };
}

/** `--cpu-model` value: one of the cost model's presets. */
export function parseCpuModelFlag(v: string): CpuModelId {
  const m = parseCpuModel(v);
  if (m === null) throw new UsageError(`--cpu-model must be one of ${CPU_MODELS.join(', ')}, not '${v}'`);
  return m;
}

function parseGuest(get: (n: string) => string | undefined): GuestChoice {
  const sources = ['--guest', '--kernel', '--bios', '--raw'].filter((f) => get(f) !== undefined);
  if (sources.length === 0) {
    throw new UsageError(
      'no guest: give GUEST (an id from traplab list), --guest ID, --kernel FILE, --bios FILE or --raw FILE@ADDR --entry ADDR',
    );
  }
  if (sources.length > 1) throw new UsageError(`choose one guest source, not ${sources.join(' and ')}`);
  const src = sources[0];
  const initrd = get('--initrd');
  const append = get('--append');
  const entry = get('--entry');
  if (initrd !== undefined && src !== '--kernel') throw new UsageError('--initrd needs --kernel');
  if (append !== undefined && src !== '--kernel' && src !== '--guest') {
    throw new UsageError('--append needs --kernel (or --guest)');
  }
  if (entry !== undefined && src !== '--raw') throw new UsageError('--entry needs --raw FILE@ADDR');

  switch (src) {
    case '--guest': {
      const id = get('--guest') as string;
      if (!/^[A-Za-z0-9._-]+$/.test(id))
        throw new UsageError(`bad guest id '${id}' ('traplab list' shows them)`);
      return append === undefined ? { kind: 'guest', id } : { kind: 'guest', id, append };
    }
    case '--kernel': {
      const kernel = nonEmptyPath(get('--kernel'), '--kernel') as string;
      const g: GuestChoice = { kind: 'kernel', kernel };
      if (initrd !== undefined) g.initrd = nonEmptyPath(initrd, '--initrd') as string;
      if (append !== undefined) g.append = append;
      return g;
    }
    case '--bios':
      return { kind: 'bios', bios: nonEmptyPath(get('--bios'), '--bios') as string };
    default: {
      const spec = get('--raw') as string;
      const at = spec.lastIndexOf('@');
      if (at <= 0 || at === spec.length - 1)
        throw new UsageError(`--raw needs FILE@ADDR (e.g. boot.bin@0x7c00), got '${spec}'`);
      const addr = parseAddress(spec.slice(at + 1), '--raw address');
      if (entry === undefined) throw new UsageError('--raw needs --entry ADDR (where the CPU starts)');
      return { kind: 'raw', raw: spec.slice(0, at), addr, entry: parseAddress(entry, '--entry') };
    }
  }
}

function nonEmptyPath(v: string | undefined, flag: string): string | null {
  if (v === undefined) return null;
  if (v === '') throw new UsageError(`${flag} needs a file name`);
  return v;
}

function parseSink(v: string, flag: string, allowed: string[]): Sink {
  if (v.startsWith('file:')) {
    const path = v.slice(5);
    if (path === '') throw new UsageError(`${flag} file: needs a path (file:PATH)`);
    return { kind: 'file', path };
  }
  if (allowed.includes(v)) return { kind: v as 'stdio' | 'stderr' | 'none' };
  throw new UsageError(`${flag} must be ${[...allowed, 'file:PATH'].join(', ')}; got '${v}'`);
}

/** A 32-bit physical/linear address: decimal, 0x-hex, or hex with an h suffix. */
export function parseAddress(v: string, what: string): number {
  const s = v.trim().replace(/_/g, '');
  let n = Number.NaN;
  if (/^0x[0-9a-f]+$/i.test(s)) n = Number.parseInt(s.slice(2), 16);
  else if (/^[0-9a-f]+h$/i.test(s)) n = Number.parseInt(s.slice(0, -1), 16);
  else if (/^[0-9]+$/.test(s)) n = Number.parseInt(s, 10);
  if (!Number.isFinite(n) || n > 0xffffffff) throw new UsageError(`${what}: '${v}' is not a 32-bit address`);
  return n;
}

/**
 * A positive integer in the documented forms: digits, optionally grouped by single `_` (1_000),
 * and — only where `suffixes` is set (instruction counts) — one k/M/G (×1000) suffix. Nothing
 * else: no spaces, no `1__0`, no `--mem 1k`.
 */
export function parseCount(v: string, flag: string, min: number, max: number, suffixes = false): number {
  const m = (suffixes ? /^([0-9]+(?:_[0-9]+)*)([kKmMgG]?)$/ : /^([0-9]+(?:_[0-9]+)*)()$/).exec(v);
  if (!m) {
    throw new UsageError(
      `${flag} needs a whole number${suffixes ? ' (digits, optionally with a k/M/G suffix)' : ''}, got '${v}'`,
    );
  }
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Number.parseInt(m[1].replace(/_/g, ''), 10) * scale;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} must be between ${min} and ${max}, got '${v}'`);
  }
  return n;
}

/**
 * Turn C-style escapes into characters: \n \r \t \e \a \b \0 \\ \" \' and \xHH. Text for the serial
 * port is bytes, so every resulting character must be ≤ 0xFF.
 */
export function unescapeText(s: string, flag: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch !== '\\') {
      if (ch.charCodeAt(0) > 0xff) throw new UsageError(`${flag}: '${ch}' is not a byte (use \\xHH escapes)`);
      out += ch;
      continue;
    }
    const e = s[++i];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'e':
        out += '\x1b';
        break;
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case '0':
        out += '\0';
        break;
      case '\\':
      case '"':
      case "'":
        out += e;
        break;
      case 'x': {
        const hex = s.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(hex))
          throw new UsageError(`${flag}: \\x needs two hex digits in '${s}'`);
        out += String.fromCharCode(Number.parseInt(hex, 16));
        i += 2;
        break;
      }
      case undefined:
        throw new UsageError(`${flag}: trailing backslash in '${s}'`);
      default:
        throw new UsageError(`${flag}: unknown escape '\\${e}' in '${s}'`);
    }
  }
  return out;
}
