/**
 * Instructions the pre-decoder leaves to the interpreter that need not end a block (blocks.ts).
 *
 * A block used to end at every instruction predecode() does not handle, so a kernel's trap entry
 * and exit — `pusha; push ds; push es; push fs; push gs; mov ds, ax; …; pop gs; …; popa; iret` —
 * ran as one-instruction blocks, each paying a block's entry, link check and EIP/IP stores. On
 * minikernel's `bench` (a trap every ~230 instructions) that made the blocks tier ~1.2× slower
 * than the interpreter (PERF.md, "Session 10 — tier15"). The instructions below run through
 * execute() in the middle of a block instead, because none of them can do anything a block relies
 * on: none transfers control, none writes CS, SS, a control register or the TLB, none does I/O,
 * and none has a REP prefix (a REP string instruction may stop part-way with EIP on itself). What
 * they can do — fault, or write decoded code (SMC: `attention`, checked after every record) — the
 * run loop handles after any record already.
 */
import type { Op } from './block-ops.ts';
import { instructionLength } from './insn-length.ts';
import { execute } from './ops-main.ts';

/**
 * Runs the instruction of its record in the interpreter. The run loop does not store EIP/IP before
 * records in the middle of a block (cpu.ts fastLoop), so this sets both from the record (a[k - 2]:
 * its EIP): a fault inside leaves them as the interpreter would, and execute() moves IP on to the
 * record's next IP (the same length: the instruction lies whole in the block's page).
 */
export const interpretMid: Op = (c, a, k) => {
  const eip = a[k - 2] >>> 0;
  c.eip = eip;
  c.ip = eip;
  execute(c);
};

/** One-byte opcodes that may run mid-block (see above), as a 256-entry table. */
const ONE = new Uint8Array(256);
for (const op of [
  0x06, // PUSH ES
  0x07, // POP ES
  0x0e, // PUSH CS
  0x16, // PUSH SS
  0x1e, // PUSH DS
  0x1f, // POP DS
  0x60, // PUSHA
  0x61, // POPA
  0x8c, // MOV r/m16, Sreg
  0x9c, // PUSHF
  0xa4, // MOVSB, MOVSD, CMPSB, CMPSD (no REP: refused below)
  0xa5,
  0xa6,
  0xa7,
  0xaa, // STOSB, STOSD, LODSB, LODSD, SCASB, SCASD
  0xab,
  0xac,
  0xad,
  0xae,
  0xaf,
])
  ONE[op] = 1;

/**
 * The length of the instruction at `ram[p]` if it may run in the middle of a block (see above), else
 * 0. `avail`: bytes left in the block's page and under CS's limit (the instruction must lie whole in
 * them). 32-bit code only (blocks are).
 */
export function midLength(ram: Uint8Array, p: number, avail: number): number {
  let q = p;
  const end = p + avail;
  // Segment overrides and the operand-size prefix only: no LOCK, REP or address-size prefix.
  while (q < end) {
    const b = ram[q];
    if (b === 0x26 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x64 || b === 0x65 || b === 0x66) q++;
    else break;
    if (q - p > 4) return 0;
  }
  if (q >= end) return 0;
  const op = ram[q];
  let ok = ONE[op] === 1;
  if (op === 0x8e) {
    // MOV Sreg, r/m: ES, DS, FS and GS only (not CS: #UD; not SS: it holds off interrupts).
    if (q + 1 >= end) return 0;
    const reg = (ram[q + 1] >> 3) & 7;
    ok = reg === 0 || reg === 3 || reg === 4 || reg === 5;
  } else if (op === 0x0f) {
    // PUSH/POP FS, PUSH/POP GS.
    if (q + 1 >= end) return 0;
    const op2 = ram[q + 1];
    ok = op2 === 0xa0 || op2 === 0xa1 || op2 === 0xa8 || op2 === 0xa9;
  }
  if (!ok) return 0;
  const len = instructionLength(ram, p, 32);
  return len > 0 && len <= avail ? len : 0;
}
