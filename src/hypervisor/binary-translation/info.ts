/**
 * What the UI's Translation view shows of a VM's translation cache (plain data: it crosses the
 * worker boundary). Every line is read from the live TC: the guest instructions of a unit (its
 * listing) and the real IA-32 bytes the CPU executes for them, disassembled from TC memory.
 */
import { disassemble } from '../../cpu/index.ts';
import type { TranslationCache, Unit } from './tc.ts';

export interface TcInsnView {
  /** Linear address in the VMM slot (where the CPU's EIP is while it runs). */
  addr: number;
  bytes: number[];
  text: string;
}

export interface TranslationRowView {
  eip: number;
  bytes: number[];
  text: string;
  /** '' = IDENT (copied unchanged); otherwise how it was rewritten ('callout', 'inline: …', …). */
  rewritten: string;
  /** Times its callout fired (0 for instructions that are not callouts). */
  callouts: number;
  /** The TC instructions that stand for it. */
  tc: TcInsnView[];
}

export interface TranslationUnitView {
  id: number;
  guestEip: number;
  tcAddr: number;
  tcBytes: number;
  insns: number;
  ident: number;
  rewritten: number;
  /** Times the VMM dispatched into it (lookups; entries through a chained jump are not counted). */
  dispatches: number;
  /** Exits patched to jump straight to their successor unit, of all its exits. */
  exitsChained: number;
  exits: number;
  rows: TranslationRowView[];
  /** TC code after the body: exit stubs and the RET-lookup entry check (`to`: guest EIP it is for). */
  tail: (TcInsnView & { to: number })[];
}

export interface TranslationInfo {
  tcBase: number;
  tcSize: number;
  tcUsed: number;
  /** Units alive in the lookup now. */
  liveUnits: number;
  /** Units translated since the start (including dropped and transient ones). */
  translated: number;
  flushes: number;
  invalidations: number;
  lookups: number;
  callouts: number;
  /** Exits of live units, and how many of them are chained. */
  exits: number;
  exitsChained: number;
  /** The unit at the current guest EIP (if it has one) and the most recently translated ones. */
  units: TranslationUnitView[];
  /** Live units not sent (only the most recent are). */
  unitsOmitted: number;
}

/** Most units sent per frame: the view needs the current one and those of recent records. */
export const MAX_UNITS_SENT = 64;

function insnAt(tc: TranslationCache, off: number, end: number, base: number): TcInsnView {
  const bytes = tc.readBytes(off, Math.min(15, end - off));
  const addr = (base + off) >>> 0;
  const d = disassemble(bytes, 0, 32, addr);
  const len = Math.max(1, Math.min(d.length, bytes.length));
  return { addr, bytes: Array.from(bytes.subarray(0, len)), text: d.text };
}

/** Times each non-exit callout fired, by unit and guest EIP (one pass over the callout sites). */
export function calloutCounts(tc: TranslationCache): Map<Unit, Map<number, number>> {
  const out = new Map<Unit, Map<number, number>>();
  for (const s of tc.sites.values()) {
    if (s.exit) continue;
    let m = out.get(s.unit);
    if (!m) {
      m = new Map();
      out.set(s.unit, m);
    }
    m.set(s.guestEip, (m.get(s.guestEip) ?? 0) + s.count);
  }
  return out;
}

/** One unit: its guest listing beside its TC code, disassembled from the TC's bytes. */
export function unitView(
  tc: TranslationCache,
  u: Unit,
  base: number,
  guestBytes: (eip: number, len: number) => number[],
  /** Callout counts by guest EIP for this unit (see calloutCounts). */
  counts: Map<number, number> = calloutCounts(tc).get(u) ?? new Map(),
): TranslationUnitView {
  const rows: TranslationRowView[] = tc.listings.rowsOf(u).map((l) => ({
    eip: l.eip,
    bytes: guestBytes(l.eip, l.len),
    text: l.text,
    rewritten: l.rewritten,
    callouts: counts.get(l.eip) ?? 0,
    tc: [],
  }));
  const tail: TranslationUnitView['tail'] = [];
  // The body maps to the unit's own instructions in order; after it come the exit stubs (which
  // stand for their targets) and the RET-lookup entry check.
  let at = 0;
  let inTail = false;
  for (let off = u.start; off < u.end; ) {
    const ins = insnAt(tc, off, u.end, base);
    const g = tc.toGuest(off)?.guest ?? -1;
    let k = -1;
    if (!inTail) for (let i = at; i < rows.length; i++) if (rows[i].eip === g) k = i;
    if (k >= 0) {
      rows[k].tc.push(ins);
      at = k;
    } else {
      inTail = true;
      tail.push({ ...ins, to: g });
    }
    off += ins.bytes.length;
  }
  let exitsChained = 0;
  for (const e of u.exits) if (e.linked) exitsChained++;
  return {
    id: u.id,
    guestEip: u.guestEip,
    tcAddr: (base + u.start) >>> 0,
    tcBytes: u.end - u.start,
    insns: u.insns,
    ident: u.ident,
    rewritten: u.rewritten,
    dispatches: u.dispatches,
    exitsChained,
    exits: u.exits.length,
    rows,
    tail,
  };
}

export function translationInfo(
  tc: TranslationCache,
  base: number,
  currentEip: number,
  guestBytes: (eip: number, len: number) => number[],
): TranslationInfo {
  let exits = 0;
  let exitsChained = 0;
  const live = [...tc.units.values()];
  for (const u of live) {
    exits += u.exits.length;
    for (const e of u.exits) if (e.linked) exitsChained++;
  }
  live.sort((a, b) => b.id - a.id);
  const pick = live.slice(0, MAX_UNITS_SENT);
  const cur = tc.units.get(currentEip >>> 0);
  const counts = calloutCounts(tc);
  if (cur && !pick.includes(cur)) pick.push(cur);
  return {
    tcBase: base >>> 0,
    tcSize: tc.size,
    tcUsed: tc.used,
    liveUnits: live.length,
    translated: tc.stats.units,
    flushes: tc.stats.flushes,
    invalidations: tc.stats.invalidations,
    lookups: tc.stats.lookups,
    callouts: tc.stats.callouts,
    exits,
    exitsChained,
    units: pick.map((u) => unitView(tc, u, base, guestBytes, counts.get(u) ?? new Map())),
    unitsOmitted: live.length - pick.length,
  };
}
