/**
 * Source of one trace (jit-trace.ts): a straight line of pre-decoded blocks, the path the guest
 * took from a hot block, as ONE small JavaScript function. Unlike jit.ts / jit-region.ts, the
 * guest's eight registers live in JS locals (`r0`…`r7`, loaded at entry, written back at every
 * exit and around every handler call) and so do the lazy flags of the inline ALU records (`fa`,
 * `fb`, `fr`; the operation, mask and width are compile-time constants tracked along the path), so
 * a flag that nothing reads is never stored and a Jcc is decided from the operands (CMP+JL is
 * `fa < fb`). A branch that goes the other way, a RET to another address, a handler that set
 * `attention`, the budget or an access off the inline memory fast path leaves through a constant
 * exit number; the epilogue writes the state back from the exit's table row (so the body stays
 * small and a first-taken exit needs no type feedback) and fastLoop goes on in the first tier
 * exactly where the interpreter would be. When the path comes back to its first block the
 * function is a `for (;;)` loop with a budget check per pass.
 */
import { LZ_ADD, LZ_LOGIC, LZ_SUB } from './base.ts';
import { followedJmp, fuseJcc } from './block-fused.ts';
import {
  ALU_RI,
  ALU_RR,
  B,
  callRel,
  cdq,
  cwde,
  D,
  DISP,
  decReg,
  incReg,
  jcc,
  jecxz,
  jmp,
  lea,
  movMR,
  movRI,
  movRM,
  movRR,
  movsxRR8,
  movsxRR16,
  movzxRR8,
  movzxRR16,
  nop,
  type Op,
  popReg,
  pushImm,
  pushReg,
  ret,
  S,
  SC,
  SG,
  T,
  testRI,
  testRI8,
  testRR,
  X,
} from './block-ops.ts';
import { H_COUNT, H_RECORDS, HANDLERS, HDR, REC } from './blocks.ts';
import { ARITH, CF, SS } from './constants.ts';
import { R8 } from './core.ts';

/** Exit kinds (the values fastLoop's region branch understands, jit-region.ts). */
export const TX_DONE = 0; // at an instruction boundary, IP on the next instruction
export const TX_ATTENTION = 1; // `attention` is set (after a called record)
export const TX_SIDE = 2; // IP on an instruction the run loop must interpret (memory slow path)

const Z = 8; // "no register" in the address slots

/** Fused flag-setter + Jcc handlers (block-fused.ts) by what they compute. */
const FUSED = new Map<Op, string>();
function fusedKinds(): Map<Op, string> {
  if (FUSED.size > 0) return FUSED;
  const put = (base: Op, kind: string): void => {
    const f = fuseJcc(base);
    if (f !== null) FUSED.set(f, kind);
  };
  put(ALU_RR[7], 'cmpRR');
  put(ALU_RI[7], 'cmpRI');
  put(ALU_RR[5], 'subRR');
  put(ALU_RI[5], 'subRI');
  put(testRR, 'testRR');
  put(testRI, 'testRI');
  put(testRI8, 'testRI8');
  put(ALU_RI[4], 'andRI');
  put(decReg, 'dec');
  put(incReg, 'inc');
  return FUSED;
}

/** Lazy flags along the path: k = -1 when the CPU object holds them, else LZ_* of fa/fb/fr. */
interface Flags {
  k: number;
  m: number;
  bits: number;
}
const IN_CPU: Flags = { k: -1, m: 0, bits: 32 };

interface Exit {
  t: number;
  /** EIP to store (-1: EIP = IP). */
  e: number;
  /** IP to store (-1: the code stored it). */
  p: number;
  /** Retired instructions not yet counted. */
  n: number;
  f: Flags;
  /** Why (stats): a branch guard, RET/indirect target, budget, epoch, side exit, attention, end. */
  why: string;
  /** For a branch guard or a RET to another address: the physical address of its block, else -1. */
  g: number;
}

export interface TraceSource {
  params: string[];
  body: string;
  /** Records of the called handlers (their operand slots), the trace's own copy. */
  records: Int32Array;
  exits: Exit[];
  /** Per call site: EIP, next IP, 1 for `interpret` (its fault leaves EIP/IP as execute() did). */
  calls: number[][];
  handlers: Op[];
}

const reg = (i: number): string => `r${i}`;

/**
 * Generate the trace over blocks `bs` (arena offsets, each followed by the next; `loop`: the last
 * one is followed by the first). `csLim` is the CS limit they were decoded under.
 */
export function traceSource(
  a: Int32Array,
  bs: number[],
  loop: boolean,
  csLim: number,
  mega = false,
): TraceSource {
  const lines: string[] = [];
  const exits: Exit[] = [];
  const calls: number[][] = [];
  const handlers: Op[] = [];
  const params: string[] = [];
  const byHandler = new Map<Op, string>();
  const recs: number[] = [];
  let pend = 0; // retired instructions not yet added to c.instructions (or to ic in a loop)
  let fl: Flags = IN_CPU;
  const dirty = new Set<number>();
  let called = false; // a handler ran since the last block boundary (epoch check at the next one)
  const lim = csLim >>> 0;
  const fused = fusedKinds();

  let why = '';
  let guard = -1; // the block whose branch the next exits guard (its physical address)
  const exit = (t: number, e: number, p: number): string => {
    const w = t === TX_SIDE ? 'side' : t === TX_ATTENTION ? 'attention' : why;
    const g = w === 'jcc' || w === 'ret' || w === 'indirect' ? guard : -1;
    exits.push({ t, e, p, n: pend, f: fl, why: w, g });
    return `{ x = ${exits.length - 1}; break out; }`;
  };
  const side = (eip: number): string => exit(TX_SIDE, -1, eip);
  const done = (ip: number): string => exit(TX_DONE, -1, ip);
  const setFlags = (k: number, m: number, bits: number): void => {
    fl = k === fl.k && m === fl.m && bits === fl.bits ? fl : { k, m, bits };
  };
  const syncFlags = (): void => {
    if (fl.k < 0) return;
    lines.push(
      fl.k === LZ_LOGIC
        ? `c.lzOp = ${LZ_LOGIC}; c.lzA = fr; c.lzB = 0; c.lzR = fr; c.lzBits = ${fl.bits}; c.lzMask = ${fl.m};`
        : `c.lzOp = ${fl.k}; c.lzA = fa; c.lzB = fb; c.lzR = fr; c.lzBits = ${fl.bits}; c.lzMask = ${fl.m};`,
    );
    fl = IN_CPU;
  };
  const count = (): void => {
    if (loop) lines.push(`c.instructions += ic + ${pend}; ic = 0;`);
    else if (pend > 0) lines.push(`c.instructions += ${pend};`);
    pend = 0;
  };
  /** CF of the current flag state (before an INC/DEC overwrites fa/fb/fr), or null: in c.flags. */
  const cfExpr = (): string | null => {
    if (fl.k < 0) return 'c.getCF()';
    if ((fl.m & CF) === 0) return null;
    if (fl.k === LZ_SUB) return '((fa >>> 0) < (fb >>> 0) ? 1 : 0)';
    if (fl.k === LZ_ADD) return '((fr >>> 0) < (fa >>> 0) ? 1 : 0)';
    return '0';
  };
  /** Condition `cc` (SDM Vol.1 Appendix B) from the flag state, or null (PF: the CPU's cond()). */
  const condExpr = (cc: number): string => {
    let r: string | null = null;
    const k = fl.k;
    if (k === LZ_SUB && fl.m === ARITH) {
      const sub: Record<number, string> = {
        2: '(fa >>> 0) < (fb >>> 0)',
        3: '(fa >>> 0) >= (fb >>> 0)',
        6: '(fa >>> 0) <= (fb >>> 0)',
        7: '(fa >>> 0) > (fb >>> 0)',
        12: 'fa < fb',
        13: 'fa >= fb',
        14: 'fa <= fb',
        15: 'fa > fb',
      };
      if (sub[cc] !== undefined) return `(${sub[cc]})`;
    }
    if (k >= 0) {
      const cf =
        (fl.m & CF) === 0
          ? '((c.flags & 1) !== 0)'
          : k === LZ_SUB
            ? '((fa >>> 0) < (fb >>> 0))'
            : k === LZ_ADD
              ? '((fr >>> 0) < (fa >>> 0))'
              : 'false';
      const zf = '(fr === 0)';
      const sf = fl.bits === 8 ? '((fr & 0x80) !== 0)' : '(fr < 0)';
      const of =
        k === LZ_SUB
          ? '(((fa ^ fb) & (fa ^ fr)) < 0)'
          : k === LZ_ADD
            ? '(((fa ^ fr) & (fb ^ fr)) < 0)'
            : 'false';
      switch (cc >> 1) {
        case 0:
          r = of;
          break;
        case 1:
          r = cf;
          break;
        case 2:
          r = zf;
          break;
        case 3:
          r = `(${cf} || ${zf})`;
          break;
        case 4:
          r = sf;
          break;
        case 5:
          r = null;
          break;
        case 6:
          r = `(${sf} !== ${of})`;
          break;
        default:
          r = `(${zf} || ${sf} !== ${of})`;
      }
      if (r !== null) return (cc & 1) === 0 ? r : `!${r}`;
      syncFlags(); // PF: the CPU computes it
    }
    return `c.cond(${cc})`;
  };
  const ea = (k: number): string => {
    const b = a[k + B];
    const x = a[k + X];
    const inner =
      b !== Z && x !== Z
        ? `((${reg(b)} + (${reg(x)} << ${a[k + SC]})) | 0)`
        : b !== Z
          ? reg(b)
          : x !== Z
            ? `(${reg(x)} << ${a[k + SC]})`
            : '';
    const disp = a[k + DISP];
    if (inner === '') return String(disp);
    return disp === 0 ? `(${inner} | 0)` : `((${inner} + ${disp}) | 0)`;
  };
  const byte = (off: number): string => `((${reg(off >> 2)} >>> ${8 * (off & 3)}) & 0xff)`;
  const word = (idx: number): string => `((${reg(idx >> 1)} >>> ${16 * (idx & 1)}) & 0xffff)`;
  const arith = (d: number, y: string, k: number, store: boolean): void => {
    lines.push(
      `fa = ${reg(d)}; fb = ${y}; fr = (fa ${k === LZ_ADD ? '+' : '-'} fb) | 0;${store ? ` ${reg(d)} = fr;` : ''}`,
    );
    if (store) dirty.add(d);
    setFlags(k, ARITH, 32);
  };
  const logic = (d: number, y: string, sym: string, store: boolean, bits = 32): void => {
    lines.push(`fr = ${d < 0 ? '' : reg(d)} ${sym} ${y};${store ? ` ${reg(d)} = fr;` : ''}`);
    if (store) dirty.add(d);
    setFlags(LZ_LOGIC, ARITH, bits);
  };
  const aluOp = (op: number, d: number, y: string): boolean => {
    if (op === 0) arith(d, y, LZ_ADD, true);
    else if (op === 5) arith(d, y, LZ_SUB, true);
    else if (op === 7) arith(d, y, LZ_SUB, false);
    else if (op === 1) logic(d, y, '|', true);
    else if (op === 4) logic(d, y, '&', true);
    else if (op === 6) logic(d, y, '^', true);
    else return false; // ADC/SBB read CF: a call
    return true;
  };
  const incDec = (d: number, inc: boolean): void => {
    const cf = cfExpr();
    if (cf !== null) lines.push(`c.flags = (c.flags & ${~CF}) | ${cf};`);
    lines.push(`fa = ${reg(d)}; fb = 1; fr = (fa ${inc ? '+' : '-'} 1) | 0; ${reg(d)} = fr;`);
    dirty.add(d);
    setFlags(inc ? LZ_ADD : LZ_SUB, ARITH & ~CF, 32);
  };

  /** Register-only records inline; false when `h` is not one. */
  const inline = (h: Op, k: number): boolean => {
    const d = a[k + D];
    const s = a[k + S];
    if (h === nop || h === followedJmp) return true;
    if (h === movRR) lines.push(`${reg(d)} = ${reg(s)};`);
    else if (h === movRI) lines.push(`${reg(d)} = ${s};`);
    else if (h === lea) lines.push(`${reg(d)} = ${ea(k)};`);
    else if (ALU_RR.includes(h)) return aluOp(a[k + T], d, reg(s));
    else if (ALU_RI.includes(h)) return aluOp(a[k + T], d, String(s));
    else if (h === testRR) {
      logic(d, reg(s), '&', false);
      return true;
    } else if (h === testRI) {
      logic(d, String(s), '&', false);
      return true;
    } else if (h === incReg || h === decReg) {
      incDec(d, h === incReg);
      return true;
    } else if (h === movzxRR8) lines.push(`${reg(d)} = ${byte(s)};`);
    else if (h === movsxRR8) lines.push(`${reg(d)} = (${byte(s)} << 24) >> 24;`);
    else if (h === movzxRR16) lines.push(`${reg(d)} = ${word(s)};`);
    else if (h === movsxRR16) lines.push(`${reg(d)} = (${word(s)} << 16) >> 16;`);
    else if (h === cdq) {
      lines.push('r2 = r0 >> 31;');
      dirty.add(2);
      return true;
    } else if (h === cwde) {
      lines.push('r0 = (r0 << 16) >> 16;');
      dirty.add(0);
      return true;
    } else return false;
    dirty.add(d);
    return true;
  };
  /** A push of `v` on the inline fast path (a flat or expand-up 32-bit stack, direct RAM). */
  const push = (v: string, eip: number): void => {
    lines.push(
      `{ const v = ${v}, s = (r4 - 4) | 0, l = (sb[${SS}] + s) | 0, e = ~tw[l >>> 12];`,
      `if (!s3 || (s >>> 0) + 3 > wx[${SS}] || ((e & 0xfff) | (l & 3)) !== 0) ${side(eip)}`,
      'm[(e ^ l) >>> 2] = v; r4 = s; }',
    );
    dirty.add(4);
  };
  /** The memory records on their inline fast paths (as jit.ts `memory`); false for any other. */
  const memory = (h: Op, k: number, eip: number): boolean => {
    const d = a[k + D];
    if (h === movRM || h === movMR) {
      const sg = a[k + SG];
      const load = h === movRM;
      lines.push(
        `{ const o = ${ea(k)}, l = (sb[${sg}] + o) | 0, e = ~${load ? 'tr' : 'tw'}[l >>> 12];`,
        `if ((o >>> 0) + 3 > ${load ? 'rx' : 'wx'}[${sg}] || (e & 0xfff) !== 0 || (l & 0xfff) > 0xffc) ${side(eip)}`,
        'const p = e ^ l;',
        load
          ? `${reg(d)} = (p & 3) === 0 ? m[p >>> 2] : u[p] | (u[p + 1] << 8) | (u[p + 2] << 16) | (u[p + 3] << 24); }`
          : `const v = ${reg(d)}; if ((p & 3) === 0) m[p >>> 2] = v; else { u[p] = v; u[p + 1] = v >> 8; u[p + 2] = v >> 16; u[p + 3] = v >> 24; } }`,
      );
      if (load) dirty.add(d);
      return true;
    }
    if (h === pushReg || h === pushImm) {
      push(h === pushReg ? reg(d) : String(a[k + S]), eip); // PUSH ESP pushes the old value
      return true;
    }
    if (h === popReg) {
      // POP ESP: ESP = the value read (ESP is incremented first, then written), as pop32 does.
      lines.push(
        `{ const s = r4, l = (sb[${SS}] + s) | 0, e = ~tr[l >>> 12];`,
        `if (!s3 || (s >>> 0) + 3 > rx[${SS}] || ((e & 0xfff) | (l & 3)) !== 0) ${side(eip)}`,
        `const v = m[(e ^ l) >>> 2]; r4 = (s + 4) | 0; ${reg(d)} = v; }`,
      );
      dirty.add(4);
      dirty.add(d);
      return true;
    }
    return false;
  };
  /** A call of the record's handler, with the state written back before and reloaded after. */
  const call = (h: Op, k: number, eip: number, next: number, last: boolean): void => {
    let name = byHandler.get(h);
    if (name === undefined) {
      name = `h${handlers.length}`;
      byHandler.set(h, name);
      handlers.push(h);
      params.push(name);
    }
    const o = recs.length;
    for (let i = 0; i < REC; i++) recs.push(a[k - 3 + i]);
    for (const d of dirty) lines.push(`R[${d}] = ${reg(d)};`);
    dirty.clear();
    syncFlags();
    count();
    if (last) lines.push(`c.eip = ${eip}; c.ip = ${next};`);
    calls.push([eip, next, HANDLERS[a[k - 3]] === HANDLERS[0] ? 1 : 0]);
    lines.push(
      mega
        ? `i = ${calls.length - 1}; call(${name}, c, A, ${o + 3});`
        : `i = ${calls.length - 1}; ${name}(c, A, ${o + 3});`,
    );
    lines.push('r0 = R[0]; r1 = R[1]; r2 = R[2]; r3 = R[3]; r4 = R[4]; r5 = R[5]; r6 = R[6]; r7 = R[7];');
    lines.push('tr = c.tlbR; tw = c.tlbW; s3 = c.ss32;');
    pend = 1;
    lines.push(`if (c.attention) ${exit(TX_ATTENTION, eip, last ? -1 : next)}`);
    called = true;
  };

  const head = a[bs[0] + 1] >>> 0;
  for (let j = 0; j < bs.length; j++) {
    const b = bs[j];
    const ip = a[b + 1] >>> 0;
    const final = j === bs.length - 1;
    // The IP the path goes on at (-1: this is the end of the path).
    const want = final ? (loop ? head : -1) : a[bs[j + 1] + 1] >>> 0;
    if (j === 0 && loop) {
      lines.push('for (;;) {');
      for (let r = 0; r < 8; r++) dirty.add(r);
    }
    why = 'epoch';
    if (j > 0 && called) lines.push(`if (code.epoch !== E) ${done(ip)}`);
    why = 'budget';
    called = false;
    // fastLoop enters only with the first block's count in the budget; a loop checks it again.
    if (j > 0 || loop) lines.push(`if (n < ${a[b + H_COUNT]}) ${done(ip)}`);
    lines.push(`n -= ${a[b + H_COUNT]};`);
    const records = a[b + H_RECORDS];
    guard = a[b];
    for (let r = 0; r < records; r++) {
      const k = b + HDR + r * REC + 3;
      const h = HANDLERS[a[k - 3]];
      const eip = a[k - 2] >>> 0;
      const next = a[k - 1] >>> 0;
      if (r < records - 1) {
        if (inline(h, k)) pend++;
        else if (memory(h, k, eip)) pend++;
        else {
          call(h, k, eip, next, false);
        }
        continue;
      }
      // The block's last record: a branch, `interpret`, or a plain instruction (page end, length).
      const kind = fused.get(h);
      let taken: string | null = null; // a conditional branch's condition
      let target = -1;
      if (kind !== undefined) {
        const d = a[k + D];
        const s = a[k + S];
        if (kind === 'cmpRR') arith(d, reg(s), LZ_SUB, false);
        else if (kind === 'cmpRI') arith(d, String(s), LZ_SUB, false);
        else if (kind === 'subRR') arith(d, reg(s), LZ_SUB, true);
        else if (kind === 'subRI') arith(d, String(s), LZ_SUB, true);
        else if (kind === 'testRR') logic(d, reg(s), '&', false);
        else if (kind === 'testRI') logic(d, String(s), '&', false);
        else if (kind === 'testRI8') logic(-1, `${byte(R8[d])} & ${s & 0xff}`, '', false, 8);
        else if (kind === 'andRI') logic(d, String(s), '&', true);
        else incDec(d, kind === 'inc');
        pend++;
        taken = condExpr(a[k + SC]);
        target = a[k + T] >>> 0;
      } else if (h === jcc) {
        taken = condExpr(a[k + S]);
        target = a[k + T] >>> 0;
      } else if (h === jecxz) {
        taken = '(r1 === 0)';
        target = a[k + T] >>> 0;
      }
      why = want === -1 ? 'end' : 'jcc';
      if (taken !== null) {
        pend++;
        if (want === -1) {
          lines.push(`c.ip = ${taken} ? ${target} : ${next};`);
          lines.push(exit(TX_DONE, -1, -1));
        } else if (target !== next) {
          lines.push(want === target ? `if (!${taken}) ${done(next)}` : `if (${taken}) ${done(target)}`);
        }
      } else if (h === jmp || h === callRel) {
        if (h === callRel) push(String(a[k + S]), eip);
        pend++;
        if (want === -1) lines.push(done(a[k + T] >>> 0));
      } else if (h === ret) {
        lines.push(
          `{ const s = r4, l = (sb[${SS}] + s) | 0, e = ~tr[l >>> 12];`,
          `if (!s3 || (s >>> 0) + 3 > rx[${SS}] || ((e & 0xfff) | (l & 3)) !== 0) ${side(eip)}`,
          `const t = m[(e ^ l) >>> 2] >>> 0; if (t > ${lim}) ${side(eip)}`,
          'r4 = (s + 4) | 0;',
        );
        dirty.add(4);
        pend++;
        why = want === -1 ? 'end' : 'ret';
        lines.push(
          want === -1
            ? `c.ip = t; ${exit(TX_DONE, -1, -1)} }`
            : `if (t !== ${want}) { c.ip = t; ${exit(TX_DONE, -1, -1)} } }`,
        );
      } else if (inline(h, k) || memory(h, k, eip)) {
        pend++;
        if (want === -1) lines.push(done(next));
      } else {
        call(h, k, eip, next, true);
        why = want === -1 ? 'end' : 'indirect';
        lines.push(want === -1 ? exit(TX_DONE, -1, -1) : `if (c.ip !== ${want}) ${exit(TX_DONE, -1, -1)}`);
      }
    }
  }
  if (loop) {
    // Back at the head: the flags go to the CPU object so that every pass starts alike.
    syncFlags();
    lines.push(`ic += ${pend};`);
    pend = 0;
    why = 'epoch';
    if (called) lines.push(`if (code.epoch !== E) ${exit(TX_DONE, -1, head)}`);
    lines.push('}');
  }
  const body = [
    'if (c.code.epoch !== S.e && !V(c, a)) return 2;',
    'S.n++;',
    'const code = c.code, E = code.epoch, R = c.regs, sb = c.segBase, rx = c.segRdMax, wx = c.segWrMax, m = c.ram32, u = c.ram;',
    'let r0 = R[0], r1 = R[1], r2 = R[2], r3 = R[3], r4 = R[4], r5 = R[5], r6 = R[6], r7 = R[7];',
    'let tr = c.tlbR, tw = c.tlbW, s3 = c.ss32, fa = 0, fb = 0, fr = 0, ic = 0, x = 0, i = -1;',
    'try {',
    'out: {',
    ...lines,
    '}',
    '} catch (err) { if (i >= 0 && FI[i] === 0) { c.eip = FE[i]; c.ip = FP[i]; } c.faultK = -1; throw err; }',
    'R[0] = r0; R[1] = r1; R[2] = r2; R[3] = r3; R[4] = r4; R[5] = r5; R[6] = r6; R[7] = r7;',
    'const k = XK[x];',
    'if (k >= 0) { c.lzOp = k; c.lzA = k === 4 ? fr : fa; c.lzB = k === 4 ? 0 : fb; c.lzR = fr; c.lzBits = XB[x]; c.lzMask = XM[x]; }',
    'c.instructions += ic + XC[x];',
    'const p = XP[x]; if (p >= 0) c.ip = p;',
    'const e = XE[x]; c.eip = e >= 0 ? e : c.ip;',
    'if (S.why !== null) S.why[x]++;',
    // A guard that fails often: the path is built again the way the guest goes (jit-trace.ts).
    'if (XG[x] >= 0 && ++XN[x] === 64) F(c, a, x);',
    'return XT[x];',
  ].join('\n');
  return { params, body, records: Int32Array.from(recs), exits, calls, handlers };
}

/**
 * May block `b` be followed on a path by the block at `ip`? A direct branch goes to its target or
 * (conditional) its fall-through, a plain last instruction to the next; RET, indirect branches
 * and `interpret` anywhere (their successor is guarded at run time).
 */
export function followsAt(a: Int32Array, b: number, ip: number): boolean {
  const k = b + HDR + (a[b + H_RECORDS] - 1) * REC + 3;
  const h = HANDLERS[a[k - 3]];
  const next = a[k - 1] >>> 0;
  const t = a[k + T] >>> 0;
  if (fusedKinds().has(h) || h === jcc || h === jecxz) return ip === t || ip === next;
  if (h === jmp || h === callRel) return ip === t;
  if (h === ret || h === HANDLERS[0]) return true;
  if (INLINE_LAST.has(h)) return ip === next;
  return true;
}
const INLINE_LAST = new Set<Op>([
  nop,
  movRR,
  movRI,
  lea,
  ...ALU_RR,
  ...ALU_RI,
  testRR,
  testRI,
  incReg,
  decReg,
  movzxRR8,
  movsxRR8,
  movzxRR16,
  movsxRR16,
  cdq,
  cwde,
  movRM,
  movMR,
  pushReg,
  pushImm,
  popReg,
]);
