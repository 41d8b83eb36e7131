/**
 * The single opcode table (SDM Vol.2 Appendix A notation). It feeds the disassembler, the
 * interpreter's LOCK validity check, the decoder-consistency test (every form the table calls
 * valid executes without #UD, every invalid one raises #UD) and the Popek–Goldberg classifier
 * used by the UI and the hypervisor.
 *
 * Entry syntax: "mnemonic operands tags". Mnemonic "a|b" = 16-bit|32-bit operand size form.
 * Operands (comma-separated): Eb Ev Ew Ed Gb Gv Gw Ib Iz Iw Ibs Jb Jz M Mp Ma Ms Mq Ap Ob Ov Sw
 *   Cd Dd Rd Xb Xv Yb Yv 1, fixed registers (al cl dx eAX eCX… es cs ss ds fs gs), "none".
 * Tags: L = LOCK allowed (memory destination); P = privileged (CPL 0 only, #GP otherwise);
 *   I = IOPL-sensitive (CPL ≤ IOPL, and in V86 mode IOPL = 3); S = sensitive but unprivileged
 *   (Robin & Irvine 2000: executes at any CPL yet reads or depends on privileged state);
 *   R = real mode / V86 #UD (protected mode only); F = flags-writing; C = reads flags (condition).
 */

export interface OpInfo {
  mnemonic: string;
  /** 32-bit operand-size mnemonic when it differs (cwde, iretd, …). */
  mnemonic32: string;
  operands: string[];
  lock: boolean;
  privileged: boolean;
  ioplSensitive: boolean;
  sensitive: boolean;
  pmOnly: boolean;
  writesFlags: boolean;
  readsFlags: boolean;
  /** Needs a ModR/M byte. */
  modrm: boolean;
}

const MODRM_OPS = /^(E|G|M|S|C|D|R)/;

function parse(spec: string): OpInfo {
  const parts = spec.split(' ');
  const [m16, m32] = parts[0].split('|');
  const ops = parts[1] && parts[1] !== 'none' ? parts[1].split(',') : [];
  const tags = parts[2] ?? '';
  return {
    mnemonic: m16,
    mnemonic32: m32 ?? m16,
    operands: ops,
    lock: tags.includes('L'),
    privileged: tags.includes('P'),
    ioplSensitive: tags.includes('I'),
    sensitive: tags.includes('S'),
    pmOnly: tags.includes('R'),
    writesFlags: tags.includes('F'),
    readsFlags: tags.includes('C'),
    modrm: ops.some((o) => MODRM_OPS.test(o)),
  };
}

const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const SHIFT = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', 'shl', 'sar']; // /6 is the undocumented SAL alias
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];

const one: Record<number, string> = {};
for (let i = 0; i < 8; i++) {
  const m = ALU[i];
  const lk = i === 7 ? 'F' : 'LF';
  const c = i === 2 || i === 3 ? 'C' : '';
  one[i * 8] = `${m} Eb,Gb ${lk}${c}`;
  one[i * 8 + 1] = `${m} Ev,Gv ${lk}${c}`;
  one[i * 8 + 2] = `${m} Gb,Eb F${c}`;
  one[i * 8 + 3] = `${m} Gv,Ev F${c}`;
  one[i * 8 + 4] = `${m} al,Ib F${c}`;
  one[i * 8 + 5] = `${m} eAX,Iz F${c}`;
}
Object.assign(one, {
  6: 'push es S',
  7: 'pop es S',
  14: 'push cs S',
  22: 'push ss S',
  23: 'pop ss S',
  30: 'push ds S',
  31: 'pop ds S',
  39: 'daa none FC',
  47: 'das none FC',
  55: 'aaa none FC',
  63: 'aas none FC',
  96: 'pusha|pushad none',
  97: 'popa|popad none',
  98: 'bound Gv,Ma',
  99: 'arpl Ew,Gw RF',
  104: 'push Iz',
  105: 'imul Gv,Ev,Iz F',
  106: 'push Ibs',
  107: 'imul Gv,Ev,Ibs F',
  108: 'insb Yb,dx I',
  109: 'insw|insd Yv,dx I',
  110: 'outsb dx,Xb I',
  111: 'outsw|outsd dx,Xv I',
  132: 'test Eb,Gb F',
  133: 'test Ev,Gv F',
  134: 'xchg Eb,Gb L',
  135: 'xchg Ev,Gv L',
  136: 'mov Eb,Gb',
  137: 'mov Ev,Gv',
  138: 'mov Gb,Eb',
  139: 'mov Gv,Ev',
  140: 'mov Ev,Sw S',
  141: 'lea Gv,M',
  142: 'mov Sw,Ew S',
  144: 'nop none',
  152: 'cbw|cwde none',
  153: 'cwd|cdq none',
  154: 'call Ap S',
  155: 'fwait none',
  156: 'pushf|pushfd none SC',
  157: 'popf|popfd none SF',
  158: 'sahf none F',
  159: 'lahf none C',
  160: 'mov al,Ob',
  161: 'mov eAX,Ov',
  162: 'mov Ob,al',
  163: 'mov Ov,eAX',
  164: 'movsb Yb,Xb',
  165: 'movsw|movsd Yv,Xv',
  166: 'cmpsb Xb,Yb F',
  167: 'cmpsw|cmpsd Xv,Yv F',
  168: 'test al,Ib F',
  169: 'test eAX,Iz F',
  170: 'stosb Yb,al',
  171: 'stosw|stosd Yv,eAX',
  172: 'lodsb al,Xb',
  173: 'lodsw|lodsd eAX,Xv',
  174: 'scasb al,Yb F',
  175: 'scasw|scasd eAX,Yv F',
  194: 'ret Iw',
  195: 'ret none',
  196: 'les Gv,Mp',
  197: 'lds Gv,Mp',
  200: 'enter Iw,Ib',
  201: 'leave none',
  202: 'retf Iw S',
  203: 'retf none S',
  204: 'int3 none S',
  205: 'int Ib S',
  206: 'into none SC',
  207: 'iret|iretd none SF',
  212: 'aam Ib F',
  213: 'aad Ib F',
  214: 'salc none C',
  215: 'xlatb none',
  224: 'loopne Jb C',
  225: 'loope Jb C',
  226: 'loop Jb',
  227: 'jcxz Jb',
  228: 'in al,Ib I',
  229: 'in eAX,Ib I',
  230: 'out Ib,al I',
  231: 'out Ib,eAX I',
  232: 'call Jz',
  233: 'jmp Jz',
  234: 'jmp Ap S',
  235: 'jmp Jb',
  236: 'in al,dx I',
  237: 'in eAX,dx I',
  238: 'out dx,al I',
  239: 'out dx,eAX I',
  241: 'int1 none',
  244: 'hlt none P',
  245: 'cmc none FC',
  248: 'clc none F',
  249: 'stc none F',
  250: 'cli none I',
  251: 'sti none I',
  252: 'cld none',
  253: 'std none',
});
for (let i = 0; i < 8; i++) {
  one[0x40 + i] = `inc ${R16[i]}v F`;
  one[0x48 + i] = `dec ${R16[i]}v F`;
  one[0x50 + i] = `push ${R16[i]}v`;
  one[0x58 + i] = `pop ${R16[i]}v`;
  if (i > 0) one[0x90 + i] = `xchg ${R16[i]}v,eAX`;
  one[0xb0 + i] = `mov ${['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'][i]},Ib`;
  one[0xb8 + i] = `mov ${R16[i]}v,Iv`;
}
for (let i = 0; i < 16; i++) one[0x70 + i] = `j${CC[i]} Jb C`;

/** Groups keyed "opcode/reg" (hex opcode, 0F-prefixed as "0fxx"). */
const groups: Record<string, string> = {};
for (let r = 0; r < 8; r++) {
  const lk = r === 7 ? 'F' : 'LF';
  groups[`80/${r}`] = `${ALU[r]} Eb,Ib ${lk}`;
  groups[`81/${r}`] = `${ALU[r]} Ev,Iz ${lk}`;
  groups[`82/${r}`] = `${ALU[r]} Eb,Ib ${lk}`;
  groups[`83/${r}`] = `${ALU[r]} Ev,Ibs ${lk}`;
  const sh = SHIFT[r];
  groups[`c0/${r}`] = `${sh} Eb,Ib F`;
  groups[`c1/${r}`] = `${sh} Ev,Ib F`;
  groups[`d0/${r}`] = `${sh} Eb,1 F`;
  groups[`d1/${r}`] = `${sh} Ev,1 F`;
  groups[`d2/${r}`] = `${sh} Eb,cl F`;
  groups[`d3/${r}`] = `${sh} Ev,cl F`;
}
Object.assign(groups, {
  '8f/0': 'pop Ev',
  'c6/0': 'mov Eb,Ib',
  'c7/0': 'mov Ev,Iz',
  'f6/0': 'test Eb,Ib F',
  'f6/1': 'test Eb,Ib F',
  'f6/2': 'not Eb L',
  'f6/3': 'neg Eb LF',
  'f6/4': 'mul Eb F',
  'f6/5': 'imul Eb F',
  'f6/6': 'div Eb F',
  'f6/7': 'idiv Eb F',
  'f7/0': 'test Ev,Iz F',
  'f7/1': 'test Ev,Iz F',
  'f7/2': 'not Ev L',
  'f7/3': 'neg Ev LF',
  'f7/4': 'mul Ev F',
  'f7/5': 'imul Ev F',
  'f7/6': 'div Ev F',
  'f7/7': 'idiv Ev F',
  'fe/0': 'inc Eb LF',
  'fe/1': 'dec Eb LF',
  'ff/0': 'inc Ev LF',
  'ff/1': 'dec Ev LF',
  'ff/2': 'call Ev',
  'ff/3': 'call Mp S',
  'ff/4': 'jmp Ev',
  'ff/5': 'jmp Mp S',
  'ff/6': 'push Ev',
  '0f00/0': 'sldt Ew RS',
  '0f00/1': 'str Ew RS',
  '0f00/2': 'lldt Ew RP',
  '0f00/3': 'ltr Ew RP',
  '0f00/4': 'verr Ew RSF',
  '0f00/5': 'verw Ew RSF',
  '0f01/0': 'sgdt Ms S',
  '0f01/1': 'sidt Ms S',
  '0f01/2': 'lgdt Ms P',
  '0f01/3': 'lidt Ms P',
  '0f01/4': 'smsw Ew S',
  '0f01/6': 'lmsw Ew P',
  '0f01/7': 'invlpg M P',
  '0fba/4': 'bt Ev,Ib F',
  '0fba/5': 'bts Ev,Ib LF',
  '0fba/6': 'btr Ev,Ib LF',
  '0fba/7': 'btc Ev,Ib LF',
  '0fc7/1': 'cmpxchg8b Mq LF',
});
/** Opcodes whose meaning depends on ModR/M.reg (the rest of the group is invalid). */
const GROUP_OPS = new Set([
  0x80, 0x81, 0x82, 0x83, 0x8f, 0xc0, 0xc1, 0xc6, 0xc7, 0xd0, 0xd1, 0xd2, 0xd3, 0xf6, 0xf7, 0xfe, 0xff,
]);
const GROUP_OPS_0F = new Set([0x00, 0x01, 0xba, 0xc7]);

const two: Record<number, string> = {
  2: 'lar Gv,Ev RSF',
  3: 'lsl Gv,Ev RSF',
  6: 'clts none P',
  8: 'invd none P',
  9: 'wbinvd none P',
  11: 'ud2 none',
  31: 'nop Ev,Gv',
  32: 'mov Rd,Cd P',
  33: 'mov Rd,Dd P',
  34: 'mov Cd,Rd P',
  35: 'mov Dd,Rd P',
  48: 'wrmsr none P',
  49: 'rdtsc none',
  50: 'rdmsr none P',
  52: 'sysenter none',
  53: 'sysexit none P',
  160: 'push fs S',
  161: 'pop fs S',
  162: 'cpuid none',
  163: 'bt Ev,Gv F',
  164: 'shld Ev,Gv,Ib F',
  165: 'shld Ev,Gv,cl F',
  168: 'push gs S',
  169: 'pop gs S',
  171: 'bts Ev,Gv LF',
  175: 'imul Gv,Ev F',
  172: 'shrd Ev,Gv,Ib F',
  173: 'shrd Ev,Gv,cl F',
  176: 'cmpxchg Eb,Gb LF',
  177: 'cmpxchg Ev,Gv LF',
  178: 'lss Gv,Mp',
  179: 'btr Ev,Gv LF',
  180: 'lfs Gv,Mp',
  181: 'lgs Gv,Mp',
  182: 'movzx Gv,Eb',
  183: 'movzx Gv,Ew',
  187: 'btc Ev,Gv LF',
  188: 'bsf Gv,Ev F',
  189: 'bsr Gv,Ev F',
  190: 'movsx Gv,Eb',
  191: 'movsx Gv,Ew',
  192: 'xadd Eb,Gb LF',
  193: 'xadd Ev,Gv LF',
};
for (let i = 0; i < 16; i++) {
  two[0x40 + i] = `cmov${CC[i]} Gv,Ev C`;
  two[0x80 + i] = `j${CC[i]} Jz C`;
  two[0x90 + i] = `set${CC[i]} Eb C`;
}
for (let i = 0; i < 8; i++) two[0xc8 + i] = `bswap ${R16[i]}v`; // 16-bit form undefined (SDM)

function build(src: Record<number, string>): (OpInfo | null)[] {
  const t: (OpInfo | null)[] = new Array(256).fill(null);
  for (const [k, v] of Object.entries(src)) t[Number(k)] = parse(v);
  return t;
}
export const ONE_BYTE = build(one);
export const TWO_BYTE = build(two);
const GROUP = new Map<string, OpInfo>(Object.entries(groups).map(([k, v]) => [k, parse(v)]));

/** The table entry for an opcode (0F-prefixed when `twoByte`) and ModR/M reg field. */
export function lookup(op: number, twoByte: boolean, reg: number): OpInfo | null {
  if (twoByte) {
    if (GROUP_OPS_0F.has(op)) return GROUP.get(`0f${op.toString(16).padStart(2, '0')}/${reg}`) ?? null;
    return TWO_BYTE[op];
  }
  if (GROUP_OPS.has(op)) return GROUP.get(`${op.toString(16).padStart(2, '0')}/${reg}`) ?? null;
  return ONE_BYTE[op];
}

/** True when the opcode needs ModR/M.reg to be identified. */
export function isGroup(op: number, twoByte: boolean): boolean {
  return twoByte ? GROUP_OPS_0F.has(op) : GROUP_OPS.has(op);
}

/** Prefix bytes. */
export const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);

/** ESC (x87) opcodes D8–DF: decoded as "esc" forms (no FPU is modelled). */
export function isEsc(op: number): boolean {
  return op >= 0xd8 && op <= 0xdf;
}

/** Every defined form as [opcode, twoByte, reg | -1] — for consistency tests. */
export function allForms(): Array<[number, boolean, number, OpInfo]> {
  const out: Array<[number, boolean, number, OpInfo]> = [];
  for (let op = 0; op < 256; op++) {
    for (const tb of [false, true]) {
      if (isGroup(op, tb)) {
        for (let r = 0; r < 8; r++) {
          const e = lookup(op, tb, r);
          if (e) out.push([op, tb, r, e]);
        }
      } else {
        const e = tb ? TWO_BYTE[op] : ONE_BYTE[op];
        if (e) out.push([op, tb, -1, e]);
      }
    }
  }
  return out;
}
