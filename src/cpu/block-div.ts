/**
 * DIV/IDIV r/m32 (F7 /6, /7) as records of their own. Through `interpret` a #DE unwound
 * interpret → execute → group3 (ops-groups.ts), and on the blocks tier group3 sees almost only
 * DIV/IDIV (its other forms are records), so in a guest that divides by zero in a loop every call
 * left by a throw, V8 never optimized group3, and a throw through its big unoptimized frame cost
 * ~1–2 µs more (minikernel's divzero bench: blocks warm ~1.1× the interpreter; PERF.md, "Session
 * 12 — order12"). Here a fault unwinds two small frames. Same accesses, order and #DE as group3.
 */
import { ea, type Op, SG, T } from './block-ops.ts';
import { div32 } from './ops-groups.ts';

/** DIV/IDIV r32 (D: the register, T: 6 or 7). */
export const divR: Op = (c, a, k) => {
  div32(c, a[k + T], c.regs[a[k]]);
};

/** DIV/IDIV m32 (T: 6 or 7): the dword is read first, as getE() does in group3. */
export const divM: Op = (c, a, k) => {
  div32(c, a[k + T], c.rd32(a[k + SG], ea(c, a, k)));
};
