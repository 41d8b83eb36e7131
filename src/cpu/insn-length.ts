/**
 * The length of one instruction, from the same opcode table as the disassembler (disasm.ts) but
 * without building its text: the VMM sizes every trapping instruction it logs and the binary
 * translator sizes what the block pre-decoder leaves (system instructions, x87, 16-bit code),
 * and the disassembler's strings and closures were ~20 MB of garbage per Linux boot under BT.
 * Its answer equals `disassemble(...).length` for every byte string (insn-length.test.ts checks).
 * Prefixes, ModR/M, SIB and displacement per SDM Vol. 2A §2.1–2.2.
 */
import { isEsc, isGroup, lookup, PREFIXES } from './table.ts';
import { x87Text } from './x87.ts';

/** The bytes end inside the instruction (the disassembler's '(truncated)'). */
export const LEN_TRUNCATED = 0;

/** Bytes a ModR/M memory operand adds after the ModR/M byte, or -1 when its SIB lies past `end`. */
function memBytes(bytes: ArrayLike<number>, p: number, end: number, m: number, adsz: boolean): number {
  const mod = m >> 6;
  const rm = m & 7;
  if (!adsz) {
    if (mod === 0) return rm === 6 ? 2 : 0;
    return mod === 1 ? 1 : 2;
  }
  let n = 0;
  if (rm === 4) {
    if (p >= end) return -1;
    n = 1;
    if ((bytes[p] & 7) === 5 && mod === 0) n += 4;
  } else if (rm === 5 && mod === 0) n = 4;
  if (mod === 1) n += 1;
  else if (mod === 2) n += 4;
  return n;
}

/**
 * Length of the instruction at `bytes[offset]` (at most `bytes.length - offset` readable) in
 * `mode`-bit code: positive; LEN_TRUNCATED (0); or, for what the table does not know (the
 * disassembler's '(bad)'), minus the length the disassembler gives it (what it consumed, >= 1).
 */
export function instructionLength(bytes: ArrayLike<number>, offset: number, mode: 16 | 32): number {
  const end = bytes.length;
  let p = offset;
  if (p >= end) return LEN_TRUNCATED;
  let opsz = mode === 32;
  let adsz = mode === 32;
  let b = bytes[p++] & 0xff;
  while (PREFIXES.has(b) && p - offset < 15) {
    if (b === 0x66) opsz = mode !== 32;
    else if (b === 0x67) adsz = mode !== 32;
    if (p >= end) return LEN_TRUNCATED;
    b = bytes[p++] & 0xff;
  }
  let two = false;
  if (b === 0x0f) {
    two = true;
    if (p >= end) return LEN_TRUNCATED;
    b = bytes[p++] & 0xff;
  }
  if (two && b === 0xae) {
    // FXSAVE/FXRSTOR m512 (see disasm.ts).
    if (p >= end) return LEN_TRUNCATED;
    const m = bytes[p++] & 0xff;
    if (m >= 0xc0 || ((m >> 3) & 7) > 1) return bad(p - offset);
    return withMem(bytes, p, end, m, adsz, offset);
  }
  if (!two && isEsc(b)) {
    // x87: its length is the ModR/M and memory operand whether or not the form is valid; the
    // validity comes from the x87 text table (rare code: its one string does not matter).
    if (p >= end) return LEN_TRUNCATED;
    const m = bytes[p++] & 0xff;
    const len = m < 0xc0 ? withMem(bytes, p, end, m, adsz, offset) : p - offset;
    return len > 0 && x87Text(b, m, '') === '(bad)' ? -len : len;
  }
  let modrm = -1;
  let info: ReturnType<typeof lookup>;
  if (isGroup(b, two)) {
    if (p >= end) return LEN_TRUNCATED;
    modrm = bytes[p++] & 0xff;
    info = lookup(b, two, (modrm >> 3) & 7);
  } else info = lookup(b, two, 0);
  if (!info) return bad(Math.max(1, p - offset));
  if (info.modrm && modrm < 0) {
    if (p >= end) return LEN_TRUNCATED;
    modrm = bytes[p++] & 0xff;
  }
  // MOV CRn/DRn ignore ModR/M.mod: the operand is always a register (SDM MOV CR).
  const crdr = two && b >= 0x20 && b <= 0x23;
  if (modrm >= 0 && modrm < 0xc0 && !crdr) {
    const n = memBytes(bytes, p, end, modrm, adsz);
    if (n < 0) return LEN_TRUNCATED;
    p += n;
  }
  const ops = info.operands;
  let needsMem = false;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    if (o === 'M' || o === 'Mp' || o === 'Ma' || o === 'Ms' || o === 'Mq') needsMem = true;
  }
  if (needsMem && modrm >= 0xc0) return bad(p - offset);
  for (let i = 0; i < ops.length; i++) p += immBytes(ops[i], opsz, adsz);
  return fits(p, end, offset);
}

/** Bytes an operand takes after the ModR/M and its displacement (immediates, offsets, far pointers). */
function immBytes(o: string, opsz: boolean, adsz: boolean): number {
  switch (o) {
    case 'Ib':
    case 'Ibs':
    case 'Jb':
      return 1;
    case 'Iw':
      return 2;
    case 'Iz':
    case 'Iv':
    case 'Jz':
      return opsz ? 4 : 2;
    case 'Ap':
      return opsz ? 6 : 4;
    case 'Ob':
    case 'Ov':
      return adsz ? 4 : 2;
    default:
      return 0;
  }
}

/** Length when the instruction ends with ModR/M `m`'s memory operand (read from `p` on). */
function withMem(
  bytes: ArrayLike<number>,
  p: number,
  end: number,
  m: number,
  adsz: boolean,
  offset: number,
): number {
  const n = memBytes(bytes, p, end, m, adsz);
  return n < 0 ? LEN_TRUNCATED : fits(p + n, end, offset);
}

function fits(p: number, end: number, offset: number): number {
  return p > end ? LEN_TRUNCATED : p - offset;
}

function bad(len: number): number {
  return -len;
}
