/**
 * The text-free length decoder against the disassembler it replaces on the VMM's hot paths: the
 * same length, '(bad)' and '(truncated)' for every one- and two-byte opcode with each ModR/M, and
 * for random byte strings (prefixes, SIB, displacements, immediates, cut short), in both modes.
 */
import { describe, expect, it } from 'vitest';
import { disassemble } from './disasm.ts';
import { instructionLength, LEN_TRUNCATED } from './insn-length.ts';

/** What `instructionLength` must answer for the disassembler's result. */
function expected(bytes: Uint8Array, mode: 16 | 32): number {
  const d = disassemble(bytes, 0, mode);
  if (d.text === '(truncated)') return LEN_TRUNCATED;
  if (d.text === '(bad)') return -d.length;
  return d.length;
}

function check(bytes: Uint8Array, mode: 16 | 32, bad: string[]): void {
  const want = expected(bytes, mode);
  const got = instructionLength(bytes, 0, mode);
  if (got !== want)
    bad.push(
      `${mode}-bit ${[...bytes].map((x) => x.toString(16).padStart(2, '0')).join(' ')}: ${got}, disassembler ${want}`,
    );
}

describe('instructionLength', () => {
  it('agrees with the disassembler on every opcode x ModR/M, whole and cut short', () => {
    const bad: string[] = [];
    const tail = [0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x11, 0x22, 0x33];
    for (const mode of [16, 32] as const)
      for (const pre of [[], [0x0f], [0x66], [0x67], [0x66, 0x0f], [0xf3, 0x0f]])
        for (let op = 0; op < 256; op++)
          for (let m = 0; m < 256; m++) {
            const full = Uint8Array.from([...pre, op, m, 0x25, ...tail]);
            check(full, mode, bad);
            // SIB with base 5 (a disp32) and a cut inside the displacement or immediate.
            full[pre.length + 2] = 0x05;
            check(full, mode, bad);
            if ((m & 15) === 0) for (let n = 1; n < full.length; n++) check(full.subarray(0, n), mode, bad);
          }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('agrees with the disassembler on random byte strings', () => {
    let seed = 0x12345678;
    const rnd = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    const bad: string[] = [];
    const prefixes = [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x0f];
    for (let i = 0; i < 100_000; i++) {
      const n = 1 + (rnd() % 16);
      const b = new Uint8Array(n);
      for (let k = 0; k < n; k++) b[k] = rnd() % 3 === 0 ? prefixes[rnd() % prefixes.length] : rnd() & 0xff;
      check(b, i & 1 ? 32 : 16, bad);
    }
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('reads from an offset and counts only the bytes it was given', () => {
    // mov eax, [ebx+ecx*4+0x12345678] behind two bytes of something else; then cut one byte short.
    const b = Uint8Array.from([0x90, 0x90, 0x8b, 0x84, 0x8b, 0x78, 0x56, 0x34, 0x12]);
    expect(instructionLength(b, 2, 32)).toBe(7);
    expect(instructionLength(b.subarray(0, 8), 2, 32)).toBe(LEN_TRUNCATED);
    expect(instructionLength(Uint8Array.from([0x0f, 0xff]), 0, 32)).toBeLessThan(0);
  });
});
