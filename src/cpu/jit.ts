/**
 * The second tier of the block cache: a block that has run often is turned into one JavaScript
 * function (new Function). Records whose handler only moves values between registers and the
 * lazy flags — they can neither fault nor set `attention` — are written out inline with their
 * operands as constants; every other record becomes a call of its handler (each call site always
 * calls the same handler, so V8 inlines it). Retirement counts, `attention` checks and the
 * EIP/IP stores are the run loop's (cpu.ts); the guest cannot tell the tiers apart (jit.test.ts,
 * blocks.test.ts and the fuzz differential run guests and random code through all three tiers).
 *
 * Where code generation is not allowed (a Content-Security-Policy without 'unsafe-eval'),
 * `new Function` throws once and the tier switches itself off; the blocks keep running in the
 * first tier.
 */
import { LZ_ADD, LZ_SUB } from './base.ts';
import { followedJmp } from './block-fused.ts';
import {
  ALU_RI,
  ALU_RR,
  B,
  cdq,
  cwde,
  D,
  DISP,
  decReg,
  incReg,
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
  S,
  SC,
  SG,
  T,
  testRI,
  testRR,
  X,
} from './block-ops.ts';
import { popRegs, pushRegs } from './block-stack.ts';
import { H_RECORDS, HANDLERS, HDR, REC } from './blocks.ts';
import { ARITH, CF, SS } from './constants.ts';
import type { CpuCore } from './core.ts';

/**
 * A compiled block: returns 0 when it ran to its end, 1 when it stopped early for `attention`, 2
 * when a conditional branch inside it was taken (c.sideRec names it),
 * or a side exit ≥ 256: `((r + 1) << 8) | p` — it stopped before record r (an access off the
 * memory fast path), with p retired instructions not yet added to c.instructions; the first tier
 * runs the block on from record r (cpu.ts).
 * `o` is the block's arena offset: the code addresses its records relative to it, so the same
 * function serves an identical block decoded again at another offset after the arena is refilled.
 */
export type CompiledBlock = (c: CpuCore, a: Int32Array, o: number) => number;

let available = true;

/**
 * `new Function(...params, body)`, or null once code generation has been refused here (an
 * EvalError under a CSP without 'unsafe-eval'): the tier then switches itself off for good.
 */
export function generate(params: string[], body: string): ((...args: unknown[]) => unknown) | null {
  if (!available) return null;
  try {
    return new Function(...params, body) as (...args: unknown[]) => unknown;
  } catch {
    available = false;
    return null;
  }
}

const Z = 8; // "no register" in the address slots

/** `r[x] = … ; c.setLazy(op, x, y, v, 32, mask)` for a register ALU operation. */
function arith(d: number, y: string, op: number, store: boolean): string {
  const kind = op === 0 ? LZ_ADD : LZ_SUB;
  const e = op === 0 ? 'x + y' : 'x - y';
  return `{ const x = r[${d}], y = ${y}, v = (${e}) | 0; ${store ? `r[${d}] = v; ` : ''}c.setLazy(${kind}, x, y, v, 32, ${ARITH}); }`;
}
function logic(d: number, y: string, sym: string, store: boolean): string {
  return `{ const v = r[${d}] ${sym} ${y}; ${store ? `r[${d}] = v; ` : ''}c.setLogic(v, 32); }`;
}
function aluCode(op: number, d: number, y: string): string | null {
  switch (op) {
    case 0:
      return arith(d, y, 0, true);
    case 1:
      return logic(d, y, '|', true);
    case 4:
      return logic(d, y, '&', true);
    case 5:
      return arith(d, y, 5, true);
    case 6:
      return logic(d, y, '^', true);
    case 7:
      return arith(d, y, 7, false);
    default:
      return null; // ADC/SBB read CF: a call
  }
}

/**
 * The memory fast path of the frequent 32-bit loads, stores, pushes and pops, inline: a flat
 * segment, a direct-RAM TLB entry and an aligned address — exactly the handlers' own fast paths
 * (mmu.ts lrd32/lwr32, access.ts push32/pop32), which neither fault nor change A/D bits. Anything else (a TLB
 * miss, MMIO, a code page's slow write entry, a watched page, a page-straddling access, an
 * unaligned stack access, an access beyond a segment's limit or any access through an expand-down,
 * unusable or #AC-checked segment) leaves through `exit` *before* the record changes anything, and
 * the first tier runs the record with its handler. The side exit returns a constant, so the rare
 * path needs no type feedback: V8 does not deoptimize the function when it is first taken.
 */
export function memory(h: Op, a: Int32Array, k: number, exit: string): string | null {
  const d = a[k + D];
  if (h === movRM || h === movMR) {
    const sg = a[k + SG];
    const parts: string[] = [];
    if (a[k + B] !== Z) parts.push(`r[${a[k + B]}]`);
    if (a[k + X] !== Z) parts.push(`(r[${a[k + X]}] << ${a[k + SC]})`);
    if (a[k + DISP] !== 0 || parts.length === 0) parts.push(String(a[k + DISP]));
    const load = h === movRM;
    // The offset is held against the segment's bound (access.ts segRdMax/segWrMax: +Infinity when
    // flat, else the limit of an expand-up segment), as rd32/wr32 do. Unaligned inside the page:
    // byte by byte, as lrd32/lwr32 do (the Linux decompressor's LZ4 copies are unaligned 32-bit
    // loads and stores).
    return (
      `{ const o = (${parts.join(' + ')}) | 0, l = (sb[${sg}] + o) | 0, e = ~c.${load ? 'tlbR' : 'tlbW'}[l >>> 12];` +
      ` if ((o >>> 0) + 3 > ${load ? 'rx' : 'wx'}[${sg}] || (e & 0xfff) !== 0 || (l & 0xfff) > 0xffc) return ${exit};` +
      ' const p = e ^ l;' +
      (load
        ? ` r[${d}] = (p & 3) === 0 ? m[p >>> 2] : u[p] | (u[p + 1] << 8) | (u[p + 2] << 16) | (u[p + 3] << 24); }`
        : ` const v = r[${d}]; if ((p & 3) === 0) m[p >>> 2] = v; else { u[p] = v; u[p + 1] = v >> 8; u[p + 2] = v >> 16; u[p + 3] = v >> 24; } }`)
    );
  }
  if (h === pushReg || h === pushImm) {
    const v = h === pushReg ? `r[${d}]` : String(a[k + S]); // PUSH ESP pushes the old value
    return (
      `{ const v = ${v}, s = (r[4] - 4) | 0, l = (sb[${SS}] + s) | 0, e = ~c.tlbW[l >>> 12];` +
      ` if (!c.ss32 || (s >>> 0) + 3 > wx[${SS}] || ((e & 0xfff) | (l & 3)) !== 0) return ${exit};` +
      ' m[(e ^ l) >>> 2] = v; r[4] = s; }'
    );
  }
  if (h === popReg) {
    // POP ESP: ESP = the value read (ESP is incremented first, then written), as pop32 does.
    return (
      `{ const s = r[4], l = (sb[${SS}] + s) | 0, e = ~c.tlbR[l >>> 12];` +
      ` if (!c.ss32 || (s >>> 0) + 3 > rx[${SS}] || ((e & 0xfff) | (l & 3)) !== 0) return ${exit};` +
      ` const v = m[(e ^ l) >>> 2]; r[4] = (s + 4) | 0; r[${d}] = v; }`
    );
  }
  return null;
}

/**
 * A run of PUSH/POP r32 (block-stack.ts) inline, as memory() does the single forms, or null. Only
 * compileBlock uses it: the run stands for D instructions, which its pending count adds (the
 * region tier counts one per record, so it calls the handler).
 */
export function stackRun(h: Op, a: Int32Array, k: number, exit: string): string | null {
  if (h !== pushRegs && h !== popRegs) return null;
  const d = a[k + D];
  // A run of PUSH/POP r32 (block-stack.ts): the single forms' checks over the whole run's bytes
  // in one page; the j-th push (program order) stores at s + 4 * (n - 1 - j), pops load upwards.
  const n = d;
  const regs = Array.from({ length: n }, (_, j) => a[k + S + j]);
  const push = h === pushRegs;
  const at = push ? `(r[4] - ${4 * n}) | 0` : 'r[4]';
  const moves = regs
    .map((g, j) => (push ? `m[w + ${n - 1 - j}] = r[${g}];` : `r[${g}] = m[w + ${j}];`))
    .join(' ');
  return (
    `{ const s = ${at}, l = (sb[${SS}] + s) | 0, e = ~c.${push ? 'tlbW' : 'tlbR'}[l >>> 12];` +
    ` if (!c.ss32 || (s >>> 0) + ${4 * n - 1} > ${push ? 'wx' : 'rx'}[${SS}] || ((e & 0xfff) | (l & 3)) !== 0 || (l & 0xfff) > ${0x1000 - 4 * n}) return ${exit};` +
    ` const w = (e ^ l) >>> 2; ${moves} r[4] = ${push ? 's' : `(s + ${4 * n}) | 0`}; }`
  );
}

/**
 * Inline JavaScript for a record whose handler is register-only, or null (then it is called).
 * Each template is the handler's body with its operand slots replaced by their values.
 */
export function inline(h: Op, a: Int32Array, k: number): string | null {
  const d = a[k + D];
  const s = a[k + S];
  if (h === nop || h === followedJmp) return '';
  if (h === movRR) return `r[${d}] = r[${s}];`;
  if (h === movRI) return `r[${d}] = ${s};`;
  if (h === lea) {
    const parts: string[] = [];
    if (a[k + B] !== Z) parts.push(`r[${a[k + B]}]`);
    if (a[k + X] !== Z) parts.push(`(r[${a[k + X]}] << ${a[k + SC]})`);
    parts.push(String(a[k + DISP]));
    return `r[${d}] = (${parts.join(' + ')}) | 0;`;
  }
  // Several ALU_RR/ALU_RI entries share one generic handler, so the operation comes from slot T
  // (the decoder always puts it there for these handlers), not from the table position.
  if (ALU_RR.includes(h)) return aluCode(a[k + T], d, `r[${s}]`);
  if (ALU_RI.includes(h)) return aluCode(a[k + T], d, String(s));
  if (h === testRR) return `c.setLogic(r[${d}] & r[${s}], 32);`;
  if (h === testRI) return `c.setLogic(r[${d}] & ${s}, 32);`;
  if (h === incReg || h === decReg) {
    const inc = h === incReg;
    return `{ const x = r[${d}], v = (x ${inc ? '+' : '-'} 1) | 0; c.flags = (c.flags & ${~CF}) | c.getCF(); c.setLazy(${inc ? LZ_ADD : LZ_SUB}, x, 1, v, 32, ${ARITH & ~CF}); r[${d}] = v; }`;
  }
  if (h === movzxRR8) return `r[${d}] = c.r8[${s}];`;
  if (h === movsxRR8) return `r[${d}] = (c.r8[${s}] << 24) >> 24;`;
  if (h === movzxRR16) return `r[${d}] = c.r16[${s}];`;
  if (h === movsxRR16) return `r[${d}] = (c.r16[${s}] << 16) >> 16;`;
  if (h === cdq) return 'r[2] = r[0] >> 31;';
  if (h === cwde) return 'r[0] = (c.r16[0] << 16) >> 16;';
  return null;
}
/** JavaScript source of block `b` (arena offset), for tests and for compile(). */
export function blockSource(a: Int32Array, b: number): { params: string[]; body: string } {
  const records = a[b + H_RECORDS];
  const params: string[] = [];
  const seen = new Map<number, string>();
  // ram32 is null only for RAM not 4-aligned in its buffer: then every record goes to the first tier.
  const lines: string[] = [
    'const r = c.regs, sb = c.segBase, rx = c.segRdMax, wx = c.segWrMax, m = c.ram32, u = c.ram;',
    'if (m === null) return 256;',
    'let i = 0;',
    'try {',
  ];
  // Retirements not yet added to c.instructions (inline records), flushed before anything that
  // can fault, look at the count or leave.
  let pending = 0;
  const flush = (): void => {
    if (pending > 0) lines.push(`c.instructions += ${pending};`);
    pending = 0;
  };
  for (let r = 0; r < records; r++) {
    const k = b + HDR + r * REC;
    const h = a[k];
    const eip = a[k + 1] >>> 0;
    const next = a[k + 2] >>> 0;
    const last = r === records - 1;
    const code = last
      ? null
      : (inline(HANDLERS[h], a, k + 3) ??
        memory(HANDLERS[h], a, k + 3, String(((r + 1) << 8) | pending)) ??
        stackRun(HANDLERS[h], a, k + 3, String(((r + 1) << 8) | pending)));
    if (code !== null) {
      lines.push(code);
      // A PUSH/POP run stands for D instructions.
      const hh = HANDLERS[h];
      pending += hh === pushRegs || hh === popRegs ? a[k + 3 + D] : 1;
      continue;
    }
    let name = seen.get(h);
    if (name === undefined) {
      name = `h${h}`;
      seen.set(h, name);
      params.push(name);
    }
    flush();
    lines.push(`i = o + ${k - b};`);
    if (last) {
      // The last record (a branch or `interpret`) sees EIP/IP, as in the run loop.
      lines.push(`c.eip = ${eip}; c.ip = ${next};`);
      lines.push(`${name}(c, a, o + ${k + 3 - b}); c.instructions++;`);
      lines.push('return c.attention ? 1 : 0;');
    } else {
      lines.push(`${name}(c, a, o + ${k + 3 - b}); c.instructions++;`);
      // A conditional branch inside the block that was taken (block-fused.ts) set c.ip itself:
      // the block is done (2; cpu.ts follows the branch's own link).
      lines.push(
        `if (c.attention) { c.eip = ${eip}; if (c.sideExit) { c.attention = false; return 2; } c.ip = ${next}; return 1; }`,
      );
    }
  }
  lines.push('} catch (e) { c.faultK = i; throw e; }');
  return { params, body: lines.join('\n') };
}

/** Compile block `b`; null when code generation is unavailable here. */
export function compileBlock(a: Int32Array, b: number): CompiledBlock | null {
  const { params, body } = blockSource(a, b);
  const make = generate(params, `return function block(c, a, o) {\n${body}\n};`);
  return make === null ? null : (make(...params.map((p) => HANDLERS[Number(p.slice(1))])) as CompiledBlock);
}
