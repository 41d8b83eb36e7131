/**
 * Runs every SingleStepTests 80286 real-mode vector in vectors/ (our copy of the fixed slice, with
 * upstream's licence; its README gives the origin and the recipe). Vectors where a 386 legitimately differs are in allowlist.json, keyed by
 * hash; for those the 386 outcome is checked instead, and an entry that matches the 286 fails.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AR_ACCESSED, AR_P, AR_RW, AR_S, CS, DS, ES, FS, GS, SS } from '../constants.ts';
import type { Cpu } from '../cpu.ts';
import { EventKind, MonitorAction } from '../interrupts.ts';
import { makeCpu } from '../test/harness.ts';
import allow from './allowlist.json';

const dir = resolve(dirname(fileURLToPath(import.meta.url)), 'vectors');

interface Regs {
  [k: string]: number;
}
interface Vector {
  idx: number;
  name: string;
  bytes: number[];
  initial: { regs: Regs; ram: [number, number][] };
  final: { regs: Regs; ram: [number, number][] };
  exception?: { number: number; flag_address: number };
  hash: string;
}
type Expect386 =
  | { exception: number; indexUnchanged?: boolean }
  | { noException: true }
  | { flagsFromPopped: true };
const allowList = allow as Record<string, { reason: string; expect386: Expect386; form: string }>;

const REG16: [string, number][] = [
  ['ax', 0],
  ['cx', 1],
  ['dx', 2],
  ['bx', 3],
  ['sp', 4],
  ['bp', 5],
  ['si', 6],
  ['di', 7],
];
const SEGS: [string, number][] = [
  ['es', ES],
  ['cs', CS],
  ['ss', SS],
  ['ds', DS],
];

interface Outcome {
  ok286: boolean;
  diffs: string[];
  exception: number;
  flags: number;
  si: number;
  di: number;
}

function runVector(cpu: Cpu, ram: Uint8Array, v: Vector, mask: number, events: number[]): Outcome {
  const ir = v.initial.regs;
  // No reset(): paging is off, so the TLB holds identity entries that stay valid between vectors.
  cpu.halted = false;
  cpu.cr0 = 0x60000010;
  cpu.setCpl(0);
  cpu.idtBase = 0;
  cpu.idtLimit = 0x3ff;
  const dataAr = AR_P | AR_S | AR_RW | AR_ACCESSED;
  for (const [n, s] of SEGS) cpu.setSeg(s, ir[n], ir[n] << 4, 0xffff, dataAr);
  cpu.setSeg(FS, 0, 0, 0xffff, dataAr);
  cpu.setSeg(GS, 0, 0, 0xffff, dataAr);
  for (const [n, i] of REG16) cpu.regs[i] = ir[n];
  cpu.loadEflags(ir.flags & 0x0fff);
  cpu.ip = ir.ip;
  cpu.eip = ir.ip;
  for (const [a, b] of v.initial.ram) ram[a] = b;
  events.length = 0;
  cpu.run(6);
  const got: Regs = {};
  for (const [n, i] of REG16) got[n] = cpu.r16[i * 2];
  for (const [n, s] of SEGS) got[n] = cpu.segSel[s];
  got.ip = cpu.ip & 0xffff;
  got.flags = cpu.getEflags() & 0xffff;
  const diffs: string[] = [];
  if (!cpu.halted) diffs.push('did not reach HLT');
  for (const k of [...REG16.map((x) => x[0]), 'es', 'cs', 'ss', 'ds', 'ip', 'flags']) {
    const want = k === 'flags' ? (v.final.regs.flags ?? ir.flags & 0x0fff) : (v.final.regs[k] ?? ir[k]);
    const m = k === 'flags' ? mask : 0xffff;
    if ((got[k] & m) !== (want & m)) diffs.push(`${k}: got ${got[k].toString(16)} want ${want.toString(16)}`);
  }
  let flagAddr = -1;
  if (v.exception) flagAddr = ((got.ss << 4) + ((got.sp + 4) & 0xffff)) >>> 0;
  for (const [a, b] of v.final.ram) {
    let m = 0xff;
    if (a === flagAddr) m = mask & 0xff;
    else if (a === flagAddr + 1) m = (mask >> 8) & 0xff;
    if ((ram[a] & m) !== (b & m))
      diffs.push(`ram[${a.toString(16)}]: got ${ram[a].toString(16)} want ${b.toString(16)}`);
  }
  const exc = events.length > 0 ? events[0] : -1;
  if (v.exception && exc !== v.exception.number)
    diffs.push(`exception: got ${exc} want ${v.exception.number}`);
  if (!v.exception && exc >= 0) diffs.push(`unexpected exception ${exc}`);
  // Clean the memory this vector used.
  for (const [a] of v.initial.ram) ram[a] = 0;
  for (const [a] of v.final.ram) ram[a] = 0;
  return { ok286: diffs.length === 0, diffs, exception: exc, flags: got.flags, si: got.si, di: got.di };
}

function check386(e: Expect386, o: Outcome, v: Vector): string | null {
  if ('exception' in e) {
    if (o.exception !== e.exception) return `386: expected exception ${e.exception}, got ${o.exception}`;
    if (e.indexUnchanged && (o.si !== v.initial.regs.si || o.di !== v.initial.regs.di))
      return '386: SI/DI must be unchanged after a restartable fault';
    return null;
  }
  if ('noException' in e) return o.exception < 0 ? null : `386: expected no exception, got ${o.exception}`;
  // POPF/IRET: IOPL/NT come from the popped image (at SS:SP for POPF, SS:SP+4 for IRET).
  const ir = v.initial.regs;
  const isIret = v.bytes.some(
    (b, i) =>
      b === 0xcf && v.bytes.slice(0, i).every((p) => [0x26, 0x2e, 0x36, 0x3e, 0xf0, 0xf2, 0xf3].includes(p)),
  );
  const at = (ir.ss << 4) + ((ir.sp + (isIret ? 4 : 0)) & 0xffff);
  const ramMap = new Map(v.initial.ram);
  const popped = (ramMap.get(at) ?? 0) | ((ramMap.get(at + 1) ?? 0) << 8);
  if (o.exception >= 0) return `386: unexpected exception ${o.exception}`;
  return (o.flags & 0x7000) === (popped & 0x7000)
    ? null
    : `386: IOPL/NT ${o.flags.toString(16)} vs popped ${popped.toString(16)}`;
}

describe('SingleStepTests 80286 real mode (every vector)', () => {
  it('passes all vectors; allow-listed ones show the 386 outcome', () => {
    const { cpu, bus } = makeCpu(17 << 20);
    const events: number[] = [];
    cpu.monitor = {
      onEvent(ev) {
        if (ev.kind !== EventKind.External) events.push(ev.vector);
        return MonitorAction.Reflect;
      },
    };
    const files = readdirSync(dir)
      .filter((f) => f.endsWith('.json.gz'))
      .sort();
    expect(files.length).toBe(325);
    let total = 0;
    let passed = 0;
    let allowed = 0;
    const failures: string[] = [];
    const seen = new Set<string>();
    for (const f of files) {
      const data = JSON.parse(gunzipSync(readFileSync(resolve(dir, f))).toString('utf8'));
      const mask = data.meta.flags_mask ?? 0xffff;
      for (const v of data.tests as Vector[]) {
        total++;
        const o = runVector(cpu, bus.ram, v, mask, events);
        const entry = allowList[v.hash];
        if (entry) {
          seen.add(v.hash);
          allowed++;
          if (o.ok286)
            failures.push(`${f} #${v.idx} ${v.name}: allow-listed but matches the 286 (${entry.reason})`);
          else {
            const bad = check386(entry.expect386, o, v);
            if (bad) failures.push(`${f} #${v.idx} ${v.name}: ${bad}`);
          }
        } else if (o.ok286) passed++;
        else failures.push(`${f} #${v.idx} ${v.name} [${v.hash}]: ${o.diffs.slice(0, 4).join('; ')}`);
      }
    }
    for (const h of Object.keys(allowList))
      if (!seen.has(h)) failures.push(`allow-list entry ${h} matches no vector`);
    console.log(
      `SST 80286: ${total} vectors, ${passed} pass as on the 286, ${allowed} allow-listed (386 outcome checked), ${failures.length} failures`,
    );
    if (failures.length) {
      const byForm = new Map<string, number>();
      for (const x of failures) byForm.set(x.split(' ')[0], (byForm.get(x.split(' ')[0]) ?? 0) + 1);
      console.log([...byForm].map(([k, n]) => `${k}:${n}`).join(' '));
      const shown = new Set<string>();
      for (const x of failures) {
        const k = x.split(' ')[0];
        if (shown.has(k)) continue;
        shown.add(k);
        console.log(x);
      }
    }
    expect(total).toBe(32500);
    expect(failures).toEqual([]);
  });
});
