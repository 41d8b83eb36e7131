/**
 * Intel-syntax disassembler driven by the opcode table (table.ts). Output style: lowercase,
 * ", " between operands, hex as 0x… (0–9 in decimal), size keywords only when no register
 * operand fixes the size, branch targets absolute.
 */
import type { OpInfo } from './table.ts';
import { isEsc, isGroup, lookup, PREFIXES } from './table.ts';
import { x87Text } from './x87.ts';

export interface Disassembly {
  text: string;
  length: number;
}

const R8N = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const R16N = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const R32N = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const SREG = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'];
const MEM16 = ['bx+si', 'bx+di', 'bp+si', 'bp+di', 'si', 'di', 'bp', 'bx'];

function hex(v: number): string {
  v >>>= 0;
  return v <= 9 ? String(v) : `0x${v.toString(16)}`;
}

/**
 * Disassemble one instruction starting at bytes[offset]. `mode` is the code size (16 or 32).
 * `address` is the instruction's offset in its code segment (for branch targets; default offset).
 */
export function disassemble(
  bytes: ArrayLike<number>,
  offset: number,
  mode: 16 | 32,
  address: number = offset,
): Disassembly {
  let p = offset;
  const end = bytes.length;
  const byte = (): number => {
    if (p >= end) throw RANGE;
    return bytes[p++] & 0xff;
  };
  try {
    let opsz = mode === 32;
    let adsz = mode === 32;
    let seg = '';
    let rep = '';
    let lock = false;
    let b = byte();
    while (PREFIXES.has(b) && p - offset < 15) {
      if (b === 0x66) opsz = mode !== 32;
      else if (b === 0x67) adsz = mode !== 32;
      else if (b === 0xf0) lock = true;
      else if (b === 0xf2) rep = 'repne';
      else if (b === 0xf3) rep = 'rep';
      else seg = SREG[[0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].indexOf(b)];
      b = byte();
    }
    let two = false;
    if (b === 0x0f) {
      two = true;
      b = byte();
    }
    // 0F AE /0 FXSAVE, /1 FXRSTOR m512byte (SDM Vol. 2A FXSAVE): executed with the x87 (CPUID.FXSR)
    // but absent from table.ts, which lists what the default, FPU-less PC decodes.
    if (two && b === 0xae) {
      const m = byte();
      const reg = (m >> 3) & 7;
      if (m >= 0xc0 || reg > 1) return { text: '(bad)', length: p - offset };
      return done(`${reg === 0 ? 'fxsave' : 'fxrstor'} ${memOperand(m)}`);
    }
    if (!two && isEsc(b)) {
      const m = byte();
      const text = x87Text(b, m, m < 0xc0 ? memOperand(m) : '');
      if (text === '(bad)') return { text, length: p - offset };
      return done(`${lock ? 'lock ' : ''}${text}`);
    }
    let modrm = -1;
    let info: OpInfo | null = null;
    if (isGroup(b, two)) {
      modrm = byte();
      info = lookup(b, two, (modrm >> 3) & 7);
    } else info = lookup(b, two, 0);
    if (!info) return { text: '(bad)', length: Math.max(1, p - offset) };
    if (info.modrm && modrm < 0) modrm = byte();
    let mem = '';
    // MOV CRn/DRn ignore ModR/M.mod: the operand is always a register (SDM MOV CR).
    const crdr = two && b >= 0x20 && b <= 0x23;
    if (modrm >= 0 && modrm < 0xc0 && !crdr) mem = memOperand(modrm);
    const needsMem = info.operands.some(
      (o) => o === 'M' || o === 'Mp' || o === 'Ma' || o === 'Ms' || o === 'Mq',
    );
    if (needsMem && modrm >= 0xc0) return { text: '(bad)', length: p - offset };
    const ops: string[] = [];
    let regSized = false;
    const sizeName = (o: string): string => {
      switch (o) {
        case 'Eb':
          return 'byte';
        case 'Ew':
          return 'word';
        case 'Ed':
          return 'dword';
        case 'Ev':
          return opsz ? 'dword' : 'word';
        case 'Mp':
          return opsz ? 'fword' : 'dword';
        case 'Mq':
          return 'qword';
        case 'Ma':
          return opsz ? 'qword' : 'dword';
        case 'Ms':
          return 'fword';
        default:
          return '';
      }
    };
    let memOp = -1;
    for (const o of info.operands) {
      const t = operand(o);
      if (t.startsWith('[') || t.includes(':[')) memOp = ops.length;
      ops.push(t);
    }
    let mn = opsz ? info.mnemonic32 : info.mnemonic;
    if (mn === 'lea' && memOp >= 0) ops[memOp] = ops[memOp].replace(/^[a-z]s:/, '');
    if (!two && b === 0x90 && opsz !== (mode === 32)) {
      mn = 'xchg';
      ops.push(opsz ? 'eax' : 'ax', opsz ? 'eax' : 'ax');
    }
    if (mn === 'imul' && ops.length === 3 && ops[0] === ops[1]) ops.splice(1, 1);
    if (two && b === 0x1f && ((modrm >> 3) & 7) === 0) ops.splice(1, 1);
    if (b === 0xe3 && !two) mn = adsz ? 'jecxz' : 'jcxz';
    if (memOp >= 0) {
      const o = info.operands[memOp];
      const sz = sizeName(o);
      const show = (sz !== '' && !regSized) || o === 'Mp' || o === 'Ms' || o === 'Mq' || o === 'Ma';
      if ((mn === 'call' || mn === 'jmp') && o === 'Mp') ops[memOp] = `far ${ops[memOp]}`;
      else if (show && mn !== 'lea') ops[memOp] = `${sz} ptr ${ops[memOp]}`;
    }
    const isString = /^(movs|cmps|stos|lods|scas|ins|outs)[bwd]$/.test(mn);
    let text = mn;
    if (isString) {
      if (seg) text = `${mn} ${seg}:`;
      if (rep) text = `${rep === 'rep' && /^(cmps|scas)/.test(mn) ? 'repe' : rep} ${text}`;
    } else if (ops.length) text = `${mn} ${ops.join(', ')}`;
    if (lock) text = `lock ${text}`;
    return done(text);

    function memOperand(m: number): string {
      const mod = m >> 6;
      const rm = m & 7;
      let s: string;
      let dflt = 'ds';
      if (!adsz) {
        let disp = 0;
        let base = '';
        if (mod === 0 && rm === 6) disp = byte() | (byte() << 8);
        else {
          base = MEM16[rm];
          if (base.startsWith('bp')) dflt = 'ss';
          if (mod === 1) disp = (byte() << 24) >> 24;
          else if (mod === 2) disp = ((byte() | (byte() << 8)) << 16) >> 16;
        }
        s = base === '' ? `[${hex(disp & 0xffff)}]` : `[${base}${dispStr(disp)}]`;
      } else {
        let parts = '';
        let disp = 0;
        let absolute = false;
        if (rm === 4) {
          const sib = byte();
          const base = sib & 7;
          const idx = (sib >> 3) & 7;
          const scale = 1 << (sib >> 6);
          if (base === 5 && mod === 0) {
            disp = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
            absolute = idx === 4;
          } else {
            parts = R32N[base];
            if (base === 4 || base === 5) dflt = 'ss';
          }
          // With no base register the scale is always shown (an index-only SIB address).
          if (idx !== 4)
            parts += `${parts ? '+' : ''}${R32N[idx]}${scale > 1 || parts === '' ? `*${scale}` : ''}`;
        } else if (rm === 5 && mod === 0) {
          disp = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
          absolute = true;
        } else {
          parts = R32N[rm];
          if (rm === 5) dflt = 'ss';
        }
        if (mod === 1) disp = (byte() << 24) >> 24;
        else if (mod === 2) disp = byte() | (byte() << 8) | (byte() << 16) | (byte() << 24);
        if (absolute || parts === '') s = `[${hex(disp)}]`;
        else s = `[${parts}${dispStr(disp | 0)}]`;
      }
      // Like most disassemblers, show the segment only when an override changes the default.
      return seg && seg !== dflt ? `${seg}:${s}` : s;
    }

    function operand(o: string): string {
      const reg = (modrm >> 3) & 7;
      switch (o) {
        case 'Eb':
          if (modrm >= 0xc0) {
            regSized = true;
            return R8N[modrm & 7];
          }
          return mem;
        case 'Ew':
          if (modrm >= 0xc0) {
            regSized = true;
            // SLDT/STR/SMSW to a register store the full register with a 32-bit operand size.
            const wide = opsz && two && ((b === 0x00 && reg < 2) || (b === 0x01 && reg === 4));
            return (wide ? R32N : R16N)[modrm & 7];
          }
          return mem;
        case 'Ev':
          if (modrm >= 0xc0) {
            regSized = true;
            return (opsz ? R32N : R16N)[modrm & 7];
          }
          return mem;
        case 'M':
        case 'Mp':
        case 'Ma':
        case 'Ms':
        case 'Mq':
          return mem;
        case 'Gb':
          regSized = true;
          return R8N[reg];
        case 'Gw':
          regSized = true;
          return R16N[reg];
        case 'Gv':
          regSized = true;
          return (opsz ? R32N : R16N)[reg];
        case 'Sw':
          return SREG[reg] ?? '(bad)';
        case 'Cd':
          return `cr${reg}`;
        case 'Dd':
          return `dr${reg}`;
        case 'Rd':
          regSized = true;
          return R32N[modrm & 7];
        case 'Ib':
          return hex(byte());
        case 'Ibs': {
          const v = (byte() << 24) >> 24;
          return hex(opsz ? v : v & 0xffff);
        }
        case 'Iw':
          return hex(byte() | (byte() << 8));
        case 'Iz':
        case 'Iv':
          return hex(
            opsz ? byte() | (byte() << 8) | (byte() << 16) | (byte() << 24) : byte() | (byte() << 8),
          );
        case 'Jb': {
          const d = (byte() << 24) >> 24;
          return hex(target(d));
        }
        case 'Jz': {
          const d = opsz
            ? byte() | (byte() << 8) | (byte() << 16) | (byte() << 24)
            : ((byte() | (byte() << 8)) << 16) >> 16;
          return hex(target(d));
        }
        case 'Ap': {
          const off = opsz
            ? byte() | (byte() << 8) | (byte() << 16) | (byte() << 24)
            : byte() | (byte() << 8);
          const sel = byte() | (byte() << 8);
          return `far ${hex(sel)}:${hex(off)}`;
        }
        case 'Ob':
        case 'Ov': {
          const a = adsz ? byte() | (byte() << 8) | (byte() << 16) | (byte() << 24) : byte() | (byte() << 8);
          const s = `[${hex(a)}]`;
          return seg && seg !== 'ds' ? `${seg}:${s}` : s;
        }
        case 'eAX':
          return opsz ? 'eax' : 'ax';
        case '1':
          return '1';
        default:
          if (o.endsWith('v') && R16N.includes(o.slice(0, 2))) {
            const i = R16N.indexOf(o.slice(0, 2));
            return (opsz ? R32N : R16N)[i];
          }
          if (o.endsWith('d') && R16N.includes(o.slice(0, 2))) return R32N[R16N.indexOf(o.slice(0, 2))];
          return o;
      }
    }

    function target(d: number): number {
      const next = address + (p - offset);
      const t = next + d;
      return opsz ? t >>> 0 : t & 0xffff;
    }

    function done(text: string): Disassembly {
      return { text, length: p - offset };
    }
  } catch (e) {
    if (e === RANGE) return { text: '(truncated)', length: Math.max(1, end - offset) };
    throw e;
  }
}

const RANGE = { range: true };

function dispStr(d: number): string {
  if (d === 0) return '';
  return d < 0 ? `-${hex(-d)}` : `+${hex(d)}`;
}
