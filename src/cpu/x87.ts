/**
 * x87 (ESC D8–DF) mnemonics for the disassembler: on the default PC there is no FPU (ESC raises
 * #NM per CR0.EM/TS) and the trap log must still say which FPU instruction trapped — e.g. every
 * FP operation Linux's math emulator handles; the pc-fpu machine executes them (fpu/).
 * SDM Vol.2 Appendix A.5 (escape opcode maps).
 */

const ARITH = ['fadd', 'fmul', 'fcom', 'fcomp', 'fsub', 'fsubr', 'fdiv', 'fdivr'];
const IARITH = ['fiadd', 'fimul', 'ficom', 'ficomp', 'fisub', 'fisubr', 'fidiv', 'fidivr'];

/** Memory forms: [mnemonic, size keyword] by (opcode - 0xD8) * 8 + reg. Empty = invalid. */
const MEM: Array<[string, string]> = [
  ...ARITH.map((m): [string, string] => [m, 'dword']),
  ['fld', 'dword'],
  ['', ''],
  ['fst', 'dword'],
  ['fstp', 'dword'],
  ['fldenv', ''],
  ['fldcw', 'word'],
  ['fnstenv', ''],
  ['fnstcw', 'word'],
  ...IARITH.map((m): [string, string] => [m, 'dword']),
  ['fild', 'dword'],
  ['', ''],
  ['fist', 'dword'],
  ['fistp', 'dword'],
  ['', ''],
  ['fld', 'tbyte'],
  ['', ''],
  ['fstp', 'tbyte'],
  ...ARITH.map((m): [string, string] => [m, 'qword']),
  ['fld', 'qword'],
  ['', ''],
  ['fst', 'qword'],
  ['fstp', 'qword'],
  ['frstor', ''],
  ['', ''],
  ['fnsave', ''],
  ['fnstsw', 'word'],
  ...IARITH.map((m): [string, string] => [m, 'word']),
  ['fild', 'word'],
  ['', ''],
  ['fist', 'word'],
  ['fistp', 'word'],
  ['fbld', 'tbyte'],
  ['fild', 'qword'],
  ['fbstp', 'tbyte'],
  ['fistp', 'qword'],
];

const D9_SPECIAL: Record<number, string> = {
  208: 'fnop',
  224: 'fchs',
  225: 'fabs',
  228: 'ftst',
  229: 'fxam',
  232: 'fld1',
  233: 'fldl2t',
  234: 'fldl2e',
  235: 'fldpi',
  236: 'fldlg2',
  237: 'fldln2',
  238: 'fldz',
  240: 'f2xm1',
  241: 'fyl2x',
  242: 'fptan',
  243: 'fpatan',
  244: 'fxtract',
  245: 'fprem1',
  246: 'fdecstp',
  247: 'fincstp',
  248: 'fprem',
  249: 'fyl2xp1',
  250: 'fsqrt',
  251: 'fsincos',
  252: 'frndint',
  253: 'fscale',
  254: 'fsin',
  255: 'fcos',
};

/** Text for an ESC instruction: `op` D8–DF, `modrm`, and the formatted memory operand (mod ≠ 3). */
export function x87Text(op: number, modrm: number, mem: string): string {
  const reg = (modrm >> 3) & 7;
  const i = modrm & 7;
  const st = `st(${i})`;
  if (modrm < 0xc0) {
    const [m, size] = MEM[(op - 0xd8) * 8 + reg];
    if (!m) return '(bad)';
    return `${m} ${size ? `${size} ptr ` : ''}${mem}`;
  }
  switch (op) {
    case 0xd8:
      return reg === 2 || reg === 3 ? `${ARITH[reg]} ${st}` : `${ARITH[reg]} st, ${st}`;
    case 0xd9:
      if (reg === 0) return `fld ${st}`;
      if (reg === 1) return `fxch ${st}`;
      return D9_SPECIAL[modrm] ?? '(bad)';
    case 0xda:
      if (modrm === 0xe9) return 'fucompp';
      return reg < 4 ? `${['fcmovb', 'fcmove', 'fcmovbe', 'fcmovu'][reg]} st, ${st}` : '(bad)';
    case 0xdb:
      if (modrm === 0xe2) return 'fnclex';
      if (modrm === 0xe3) return 'fninit';
      if (reg < 4) return `${['fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu'][reg]} st, ${st}`;
      if (reg === 5) return `fucomi st, ${st}`;
      if (reg === 6) return `fcomi st, ${st}`;
      return '(bad)';
    case 0xdc:
      // Register forms of DC swap SUB/SUBR and DIV/DIVR (SDM Table A-14).
      if (reg === 2 || reg === 3) return '(bad)';
      return `${['fadd', 'fmul', '', '', 'fsubr', 'fsub', 'fdivr', 'fdiv'][reg]} ${st}, st`;
    case 0xdd:
      if (reg === 0) return `ffree ${st}`;
      if (reg === 2) return `fst ${st}`;
      if (reg === 3) return `fstp ${st}`;
      if (reg === 4) return `fucom ${st}`;
      if (reg === 5) return `fucomp ${st}`;
      return '(bad)';
    case 0xde:
      if (modrm === 0xd9) return 'fcompp';
      if (reg === 2 || reg === 3) return '(bad)';
      return `${['faddp', 'fmulp', '', '', 'fsubrp', 'fsubp', 'fdivrp', 'fdivp'][reg]} ${st}, st`;
    default:
      if (modrm === 0xe0) return 'fnstsw ax';
      if (reg === 5) return `fucomip st, ${st}`;
      if (reg === 6) return `fcomip st, ${st}`;
      return '(bad)';
  }
}
