/**
 * The second tier of the block cache: a block that has run often is turned into one JavaScript
 * function that calls its instructions' handlers in order (new Function). Each call site in it
 * always calls the same handler, so V8 inlines the handlers into one straight-line function —
 * no per-instruction table dispatch, operands still read from the arena. It is the same sequence
 * of handler calls, retirement counts and `attention` checks as the run loop in cpu.ts performs
 * for the block, written out: the guest cannot tell the tiers apart (blocks.test.ts,
 * fastpath-determinism.test.ts run guests with the tiers on and off).
 *
 * Where code generation is not allowed (a Content-Security-Policy without 'unsafe-eval'),
 * `new Function` throws once and the tier switches itself off; the blocks keep running in the
 * first tier.
 */
import { HANDLERS, HDR, REC } from './blocks.ts';
import type { CpuCore } from './core.ts';

/** A compiled block: returns 0 when it ran to its end, 1 when it stopped early for `attention`. */
export type CompiledBlock = (c: CpuCore, a: Int32Array) => number;

let available = true;

/** JavaScript source of block `b` (arena offset), for tests and for compile(). */
export function blockSource(a: Int32Array, b: number): { params: string[]; body: string } {
  const records = a[b + 7];
  const params: string[] = [];
  const seen = new Map<number, string>();
  const lines: string[] = ['let i = 0;', 'try {'];
  for (let r = 0; r < records; r++) {
    const k = b + HDR + r * REC;
    const h = a[k];
    let name = seen.get(h);
    if (name === undefined) {
      name = `h${h}`;
      seen.set(h, name);
      params.push(name);
    }
    const eip = a[k + 1] >>> 0;
    const next = a[k + 2] >>> 0;
    lines.push(`i = ${k};`);
    if (r === records - 1) {
      // The last record (a branch or `interpret`) sees EIP/IP, as in the run loop.
      lines.push(`c.eip = ${eip}; c.ip = ${next};`);
      lines.push(`${name}(c, a, ${k + 3}); c.instructions++;`);
      lines.push('return c.attention ? 1 : 0;');
    } else {
      lines.push(`${name}(c, a, ${k + 3}); c.instructions++;`);
      lines.push(`if (c.attention) { c.eip = ${eip}; c.ip = ${next}; return 1; }`);
    }
  }
  lines.push('} catch (e) { c.faultK = i; throw e; }');
  return { params, body: lines.join('\n') };
}

/** Compile block `b`; null when code generation is unavailable here. */
export function compileBlock(a: Int32Array, b: number): CompiledBlock | null {
  if (!available) return null;
  const { params, body } = blockSource(a, b);
  try {
    const make = new Function(...params, `return function block(c, a) {\n${body}\n};`);
    return make(...params.map((p) => HANDLERS[Number(p.slice(1))])) as CompiledBlock;
  } catch {
    // EvalError under a CSP without 'unsafe-eval': stay on the first tier from now on.
    available = false;
    return null;
  }
}
