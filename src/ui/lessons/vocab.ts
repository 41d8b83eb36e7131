/**
 * The lessons' declarative vocabulary: each `check` line names a fact about the LIVE machine (the
 * store the worker feeds, the consoles' transcripts, the selected trap record), and each question's
 * `answer` names a value read from it. Parsing validates everything a teacher can get wrong
 * (names, numbers, regular expressions, unknown keys) so a malformed lesson says so up front;
 * evaluation is pure: (check, live state) → pass or not, with what the machine shows now.
 */
import { CPU_MODELS, parseCpuModel } from '../../hypervisor/vmm/cost-model.ts';
import { kindNames } from '../../hypervisor/vmm/trap-kinds.ts';
import type {
  CpuView,
  RegSnapshot,
  StatsView,
  StatusView,
  TrapDetail,
  VmInfoView,
} from '../../worker/protocol.ts';
import { Args, LessonSyntaxError, parseArgLine, parseNumber } from './args.ts';

/** Everything a check may read: a snapshot of the playground's live state. */
export interface LiveState {
  /** The scenario that runs now (null while nothing is loaded). */
  scenario: {
    guest: string;
    technique: string;
    vms: number;
    /** The CPU generation (`none`: no preset chosen). */
    cpu: string;
    /** VT-x's paging mode, `ept` or `shadow` (`none` for the other techniques). */
    paging: string;
  } | null;
  status: StatusView | null;
  stats: StatsView | null;
  /** Trap kind names of the running build (index = kind number). */
  kinds: readonly string[];
  regs: RegSnapshot | null;
  vmInfo: VmInfoView[] | null;
  /** What each VM's console printed since the guest started. */
  consoles: readonly string[];
  /** The selected trap record's detail, or null when none is selected. */
  selected: TrapDetail | null;
  /** The playground's right-hand tab. */
  rightTab: string;
}

/** A comparison applied to a number or a text. */
export interface Compare {
  equals?: string;
  atLeast?: number;
  atMost?: number;
  matches?: RegExp;
}

export type Check =
  | { type: 'loaded'; guest?: string; technique?: string; vms?: number; cpu?: string; paging?: string }
  | { type: 'consoleMatches'; vm: number; regex: RegExp }
  | {
      type: 'selectedRecord';
      kind?: string;
      reason?: RegExp;
      mnemonic?: RegExp;
      summary?: RegExp;
      field?: string;
      value?: RegExp;
    }
  | { type: 'statCount'; kind: string; cmp: Compare }
  | { type: 'exitStatus'; state?: string; code?: number; reason?: RegExp }
  | { type: 'vmState'; vm: number; state: string }
  | { type: 'vmcsField'; vm: number; name: string; cmp: Compare }
  | { type: 'reg'; cpu: 'real' | 'virtual'; name: string; cmp: Compare }
  | { type: 'regsDiffer'; name: string }
  | { type: 'vmInfo'; vm: number; path: string; cmp: Compare }
  | { type: 'tab'; name: string };

/** A value a question's answer is read from. */
export type Probe =
  | { type: 'reg'; cpu: 'real' | 'virtual'; name: string }
  | { type: 'field'; name: string; regex?: RegExp }
  | { type: 'statCount'; kind: string }
  | { type: 'vmInfo'; vm: number; path: string }
  | { type: 'vmcsField'; vm: number; name: string }
  | { type: 'console'; vm: number; regex: RegExp };

export interface CheckResult {
  ok: boolean;
  /** What the live machine shows now, in words (shown beside a check that is not green yet). */
  now: string;
}

export const CHECK_NAMES = [
  'loaded',
  'consoleMatches',
  'selectedRecord',
  'statCount',
  'exitStatus',
  'vmState',
  'vmcsField',
  'reg',
  'regsDiffer',
  'vmInfo',
  'tab',
] as const;

const TABS = ['code', 'stats', 'rings', 'timeline', 'translation', 'vmcs', 'hosting', 'paging'];

function kindArg(a: Args, key: string, allowAny: boolean): string {
  const k = a.req(key);
  if (allowAny && k === 'any') return k;
  if (!kindNames.includes(k)) {
    throw new LessonSyntaxError(`unknown trap kind "${k}"; the kinds are: ${kindNames.join(', ')}`);
  }
  return k;
}

function cmpArgs(a: Args): Compare {
  const c: Compare = {};
  const eq = a.opt('equals');
  if (eq !== undefined) c.equals = eq;
  const lo = a.num('atLeast');
  if (lo !== undefined) c.atLeast = lo;
  const hi = a.num('atMost');
  if (hi !== undefined) c.atMost = hi;
  const m = a.regex('matches');
  if (m) c.matches = m;
  if (Object.keys(c).length === 0) {
    a.done(); // a misspelt comparison is the likelier mistake: name it
    throw new LessonSyntaxError(`${a.line.name} needs a comparison: equals=, atLeast=, atMost= or matches=`);
  }
  return c;
}

function vmArg(a: Args): number {
  const vm = a.num('vm') ?? 0;
  if (!Number.isInteger(vm) || vm < 0 || vm > 7) throw new LessonSyntaxError(`vm=${vm} is not a VM number`);
  return vm;
}

function cpuArg(a: Args): 'real' | 'virtual' {
  const c = a.opt('cpu') ?? 'virtual';
  if (c !== 'real' && c !== 'virtual') throw new LessonSyntaxError(`cpu=${c}: write cpu=real or cpu=virtual`);
  return c;
}

/** One `check` line → a Check; throws LessonSyntaxError with a teacher-readable message. */
export function parseCheck(line: string): Check {
  const l = parseArgLine(line, true);
  const a = new Args(l, l.name);
  let c: Check;
  switch (l.name) {
    case 'loaded': {
      c = { type: 'loaded' };
      const g = a.opt('guest');
      if (g) c.guest = g;
      const t = a.opt('technique');
      if (t) c.technique = t;
      const v = a.num('vms');
      if (v !== undefined) c.vms = v;
      const cpu = a.opt('cpu');
      if (cpu !== undefined) {
        if (cpu !== 'none' && !parseCpuModel(cpu))
          throw new LessonSyntaxError(`loaded: cpu=${cpu} is none or one of ${CPU_MODELS.join(', ')}`);
        c.cpu = cpu;
      }
      const paging = a.opt('paging');
      if (paging !== undefined) {
        if (!['ept', 'shadow', 'none'].includes(paging))
          throw new LessonSyntaxError(`loaded: paging=${paging} is ept, shadow or none`);
        c.paging = paging;
      }
      break;
    }
    case 'consoleMatches':
      c = { type: 'consoleMatches', vm: vmArg(a), regex: a.regex('regex') ?? missing('regex') };
      break;
    case 'selectedRecord': {
      c = { type: 'selectedRecord' };
      const k = a.opt('kind');
      if (k !== undefined) c.kind = kindArg(a, 'kind', false);
      const r = a.regex('reason');
      if (r) c.reason = r;
      const m = a.regex('mnemonic');
      if (m) c.mnemonic = new RegExp(m.source, 'i');
      const s = a.regex('summary');
      if (s) c.summary = s;
      const f = a.opt('field');
      if (f) c.field = f;
      const v = a.regex('value');
      if (v) c.value = v;
      if ((c.field === undefined) !== (c.value === undefined))
        throw new LessonSyntaxError('selectedRecord: field= and value= go together');
      break;
    }
    case 'statCount':
      c = { type: 'statCount', kind: kindArg(a, 'kind', true), cmp: cmpArgs(a) };
      break;
    case 'exitStatus': {
      c = { type: 'exitStatus' };
      const s = a.opt('state');
      if (s) c.state = s;
      const code = a.num('code');
      if (code !== undefined) c.code = code;
      const r = a.regex('reason');
      if (r) c.reason = r;
      break;
    }
    case 'vmState':
      c = { type: 'vmState', vm: vmArg(a), state: a.req('state') };
      break;
    case 'vmcsField':
      c = { type: 'vmcsField', vm: vmArg(a), name: a.req('name'), cmp: cmpArgs(a) };
      break;
    case 'reg':
      c = { type: 'reg', cpu: cpuArg(a), name: a.req('name'), cmp: cmpArgs(a) };
      break;
    case 'regsDiffer':
      c = { type: 'regsDiffer', name: a.req('name') };
      break;
    case 'vmInfo':
      c = { type: 'vmInfo', vm: vmArg(a), path: a.req('path'), cmp: cmpArgs(a) };
      break;
    case 'tab': {
      const name = a.req('name');
      if (!TABS.includes(name))
        throw new LessonSyntaxError(`tab name=${name}: the tabs are ${TABS.join(', ')}`);
      c = { type: 'tab', name };
      break;
    }
    default:
      throw new LessonSyntaxError(`unknown check "${l.name}"; the checks are: ${CHECK_NAMES.join(', ')}`);
  }
  a.done();
  return c;
}

function missing(key: string): never {
  throw new LessonSyntaxError(`needs ${key}=…`);
}

/** A question's `answer:` line → the Probe its expected value is read from. */
export function parseProbe(line: string): Probe {
  const l = parseArgLine(line, true);
  const a = new Args(l, `answer ${l.name}`);
  let p: Probe;
  switch (l.name) {
    case 'reg':
      p = { type: 'reg', cpu: cpuArg(a), name: a.req('name') };
      break;
    case 'field': {
      p = { type: 'field', name: a.req('name') };
      const r = a.regex('regex');
      if (r) p.regex = r;
      break;
    }
    case 'statCount':
      p = { type: 'statCount', kind: kindArg(a, 'kind', true) };
      break;
    case 'vmInfo':
      p = { type: 'vmInfo', vm: vmArg(a), path: a.req('path') };
      break;
    case 'vmcsField':
      p = { type: 'vmcsField', vm: vmArg(a), name: a.req('name') };
      break;
    case 'console':
      p = { type: 'console', vm: vmArg(a), regex: a.regex('regex') ?? missing('regex') };
      break;
    default:
      throw new LessonSyntaxError(
        `unknown answer source "${l.name}"; use reg, field, statCount, vmInfo, vmcsField or console`,
      );
  }
  a.done();
  return p;
}

// ---------------------------------------------------------------------------------------------
// Reading the live state

/** A CPU register by name: eax…, eip, eflags, if, iopl, cpl, cr0…cr4, idtr.base, gdtr.limit, ldtr, tr, cs… */
export function cpuValue(cpu: CpuView, name: string): number | null {
  const n = name.toLowerCase();
  if (n in cpu.gpr) return cpu.gpr[n as keyof CpuView['gpr']];
  if (n in cpu.cr) return cpu.cr[n as keyof CpuView['cr']];
  switch (n) {
    case 'eip':
      return cpu.eip;
    case 'eflags':
      return cpu.eflags;
    case 'if':
      return (cpu.eflags >>> 9) & 1;
    case 'iopl':
      return (cpu.eflags >>> 12) & 3;
    case 'cpl':
      return cpu.cpl;
    case 'ldtr':
      return cpu.ldtr;
    case 'tr':
      return cpu.tr;
    case 'idtr.base':
      return cpu.idtr.base;
    case 'idtr.limit':
      return cpu.idtr.limit;
    case 'gdtr.base':
      return cpu.gdtr.base;
    case 'gdtr.limit':
      return cpu.gdtr.limit;
  }
  const seg = /^(cs|ds|es|fs|gs|ss)(?:\.(selector|base|limit))?$/.exec(n);
  if (seg) {
    const s = cpu.segs.find((x) => x.name === seg[1]);
    if (!s) return null;
    return s[(seg[2] ?? 'selector') as 'selector' | 'base' | 'limit'];
  }
  return null;
}

/** A dotted path into plain data (`translation.callouts`, `paravirtual.pageTables.pinned`). */
export function pathValue(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function kindCount(live: LiveState, kind: string): number {
  const by = live.stats?.trapsByKind ?? [];
  if (kind === 'any') return live.stats?.trapTotal ?? 0;
  const i = live.kinds.indexOf(kind);
  return i < 0 ? 0 : (by[i] ?? 0);
}

function vmcsValue(live: LiveState, vm: number, name: string): number | null {
  const f = live.vmInfo?.[vm]?.vmcs?.fields.find((x) => x.key === name);
  return f ? f.value : null;
}

/** The value a probe reads now, or null when the machine does not show it (yet). */
export function probeValue(p: Probe, live: LiveState): string | number | null {
  switch (p.type) {
    case 'reg': {
      const cpu = p.cpu === 'real' ? live.regs?.real : live.regs?.virtual;
      return cpu ? cpuValue(cpu, p.name) : null;
    }
    case 'field': {
      // The selected record's field as the detail pane lists it; "summary" is its sentence.
      const d = live.selected;
      const text =
        p.name.toLowerCase() === 'summary'
          ? d?.summary
          : d?.fields.find(([k]) => k.toLowerCase() === p.name.toLowerCase())?.[1];
      if (text === undefined) return null;
      if (!p.regex) return text;
      const m = p.regex.exec(text);
      return m ? (m[1] ?? m[0]) : null;
    }
    case 'statCount':
      return live.stats ? kindCount(live, p.kind) : null;
    case 'vmInfo': {
      const v = pathValue(live.vmInfo?.[p.vm], p.path);
      return typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : null;
    }
    case 'vmcsField':
      return vmcsValue(live, p.vm, p.name);
    case 'console': {
      const m = p.regex.exec(live.consoles[p.vm] ?? '');
      return m ? (m[1] ?? m[0]) : null;
    }
  }
}

function show(v: string | number | null | undefined): string {
  if (v === null || v === undefined) return 'nothing yet';
  if (typeof v === 'number') return v > 0xffff ? `0x${(v >>> 0).toString(16).toUpperCase()}` : String(v);
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}…` : v);
}

export function compare(v: string | number | null | undefined, c: Compare): boolean {
  if (v === null || v === undefined) return false;
  const n = typeof v === 'number' ? v : parseNumber(v);
  if (c.equals !== undefined && !sameAnswer(v, c.equals)) return false;
  if (c.atLeast !== undefined && (n === null || n < c.atLeast)) return false;
  if (c.atMost !== undefined && (n === null || n > c.atMost)) return false;
  if (c.matches && !c.matches.test(String(v))) return false;
  return true;
}

/** Answers compare as numbers when both read as numbers (0x10 = 16), else as trimmed text, any case. */
export function sameAnswer(a: string | number, b: string | number): boolean {
  const na = typeof a === 'number' ? a : answerNumber(a);
  const nb = typeof b === 'number' ? b : answerNumber(b);
  if (na !== null && nb !== null) return na === nb || (na >>> 0 === nb >>> 0 && Number.isInteger(na));
  return String(a).trim().toLowerCase() === String(b).trim().toLowerCase();
}

/**
 * A typed answer as a number. The registers panel shows 8 hex digits without 0x, so a bare
 * 8-digit value (00102000) or one with a hex letter (FFC01000) is read as hex.
 */
function answerNumber(v: string): number | null {
  const t = v.trim();
  if (/^[0-9a-f]{8}$/i.test(t) || (/^[0-9a-f]+$/i.test(t) && /[a-f]/i.test(t))) return Number.parseInt(t, 16);
  return parseNumber(t);
}

/** Is the check satisfied by the live state now? */
export function evaluate(c: Check, live: LiveState): CheckResult {
  switch (c.type) {
    case 'loaded': {
      const s = live.scenario;
      const ok =
        !!s &&
        (c.guest === undefined || s.guest === c.guest) &&
        (c.technique === undefined || s.technique === c.technique) &&
        (c.vms === undefined || s.vms === c.vms) &&
        (c.cpu === undefined || s.cpu === c.cpu) &&
        (c.paging === undefined || s.paging === c.paging);
      const extra = s
        ? `${s.cpu !== 'none' ? `, CPU ${s.cpu}` : ''}${s.paging !== 'none' ? `, ${s.paging === 'ept' ? 'EPT' : 'shadow paging'}` : ''}`
        : '';
      return {
        ok,
        now: s
          ? `${s.guest} under ${s.technique}, ${s.vms} VM${s.vms > 1 ? 's' : ''}${extra}`
          : 'nothing loaded',
      };
    }
    case 'consoleMatches': {
      const text = live.consoles[c.vm] ?? '';
      const ok = c.regex.test(text);
      const last = text.trimEnd().split('\n').pop() ?? '';
      return { ok, now: text ? `console ${c.vm} ends with ${show(last)}` : `console ${c.vm} is empty` };
    }
    case 'selectedRecord': {
      const d = live.selected;
      if (!d) return { ok: false, now: 'no trap record is selected' };
      const field = (name: string) => d.fields.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
      const insn = field('Instruction') ?? '';
      const reason = field('Reason') ?? '';
      const ok =
        (c.kind === undefined || d.kindName === c.kind) &&
        (c.reason === undefined || c.reason.test(reason)) &&
        (c.mnemonic === undefined || c.mnemonic.test(insn)) &&
        (c.summary === undefined || c.summary.test(d.summary ?? '')) &&
        (c.field === undefined || (c.value?.test(field(c.field) ?? '') ?? false));
      return {
        ok,
        now: `selected: record ${d.index}, ${d.kindName}${insn ? ` (${insn})` : reason ? ` (${reason})` : ''}`,
      };
    }
    case 'statCount': {
      const n = live.stats ? kindCount(live, c.kind) : null;
      return { ok: compare(n, c.cmp), now: `${c.kind === 'any' ? 'records' : c.kind}: ${show(n)}` };
    }
    case 'exitStatus': {
      const st = live.status;
      if (!st) return { ok: false, now: 'nothing loaded' };
      const ok =
        (c.state === undefined || st.state === c.state) &&
        (c.code === undefined || st.exitCode === c.code) &&
        (c.reason === undefined || c.reason.test(st.reason ?? ''));
      return {
        ok,
        now: `${st.running ? 'running' : st.state}${st.exitCode !== undefined ? `, status ${st.exitCode}` : ''}`,
      };
    }
    case 'vmState': {
      const s = live.vmInfo?.[c.vm]?.state;
      return { ok: s === c.state, now: `VM ${c.vm}: ${s ?? 'no state yet'}` };
    }
    case 'vmcsField': {
      const v = vmcsValue(live, c.vm, c.name);
      return { ok: compare(v, c.cmp), now: `${c.name} = ${show(v)}` };
    }
    case 'reg': {
      const cpu = c.cpu === 'real' ? live.regs?.real : live.regs?.virtual;
      const v = cpu ? cpuValue(cpu, c.name) : null;
      return { ok: compare(v, c.cmp), now: `${c.cpu} ${c.name} = ${show(v)}` };
    }
    case 'regsDiffer': {
      const r = live.regs;
      const a = r ? cpuValue(r.real, c.name) : null;
      const b = r?.virtual ? cpuValue(r.virtual, c.name) : null;
      return {
        ok: a !== null && b !== null && a !== b,
        now: `real ${c.name} = ${show(a)}, virtual ${show(b)}`,
      };
    }
    case 'vmInfo': {
      const v = pathValue(live.vmInfo?.[c.vm], c.path);
      const val =
        typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : null;
      return { ok: compare(val, c.cmp), now: `VM ${c.vm} ${c.path} = ${show(val)}` };
    }
    case 'tab':
      return { ok: live.rightTab === c.name, now: `the ${live.rightTab} tab is open` };
  }
}
