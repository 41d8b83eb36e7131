/**
 * What the translator does with one guest instruction (Adams & Agesen 2006 §3: IDENT vs
 * rewritten). The length comes from the CPU's pre-decoder or its table-driven length decoder (one opcode table for the
 * interpreter, the disassembler and this); the class from the opcode, ModR/M.reg and prefixes.
 * The sensitive list is Robin & Irvine's (USENIX Security 2000) plus every
 * privileged instruction and all control flow.
 */
import { disassemble, instructionLength, opcodeInfo, predecode } from '../../cpu/index.ts';
import { TrapOp } from '../vmm/trap-log.ts';

/** Translation class of a guest instruction. */
export const Cls = {
  /** Innocuous: copied byte for byte. */
  Ident: 0,
  /** Jcc rel8/rel32. */
  Jcc: 1,
  /** JMP rel8/rel32. */
  Jmp: 2,
  /** CALL rel32: push the guest return address, jump to the target's translation. */
  Call: 3,
  /** LOOP/LOOPE/LOOPNE/JECXZ (rel8 only): kept, with both exits re-targeted. */
  Loop: 4,
  /** CLI: one store clearing the virtual IF in the VM's virtual-CPU area. */
  Cli: 5,
  /** A callout after which execution may continue in the same unit (PUSHF, OUT, MOV CR3, …). */
  Callout: 6,
  /** A callout that transfers control (RET, JMP/CALL r/m, INT n, IRET, far transfers, HLT). */
  CalloutEnd: 7,
  /** An instruction that cannot be decoded: copied so the CPU raises #UD itself; ends the unit. */
  Bad: 8,
} as const;
export type Cls = (typeof Cls)[keyof typeof Cls];

/** Callout sub-kinds the VMM dispatches on (stored per callout site). */
export const Co = {
  /** Emulated by the shared privileged-instruction emulation (TrapOp in `op`). */
  Privileged: 1,
  Pushf: 2,
  Popf: 3,
  /** INT n / INT3 / INTO / INT1: reflected through the guest IDT. */
  Int: 4,
  /** IRET: emulated to guest ring 0, or continues into a real IRET to guest ring 3. */
  Iret: 5,
  /** RET / RET imm16: pop the guest return address, look up its translation. */
  Ret: 6,
  /** JMP r/m32. */
  JmpInd: 7,
  /** CALL r/m32. */
  CallInd: 8,
  /** Far JMP/CALL/RET. */
  Far: 9,
  /** SGDT/SIDT/SLDT/STR/SMSW: store the virtual value. */
  StoreSys: 10,
  /** PUSH CS/SS, MOV r/m16 ← CS/SS: the virtual selector (RPL 0 for the kernel). */
  SegRead: 11,
  /** LAR/LSL/VERR/VERW: answered from the guest's own descriptor at its own CPL. */
  DescCheck: 12,
  /** CPUID: the VMM leaves the answer to the physical CPU (a real CPUID follows the callout). */
  Cpuid: 13,
  /** Exit stub: the unit's direct branch has no translated successor yet (chaining). */
  Exit: 14,
  /** A transient unit (one instruction re-run after a write to its own page) ends here. */
  Resync: 15,
  /** Not translated (16-bit control transfer, SYSENTER/SYSEXIT): the VM stops with the reason. */
  Unsupported: 16,
  /** The RET lookup table had no entry for the target (the shared miss stub). */
  IndMiss: 17,
  /** Adaptive translation: before a store that kept faulting, open its page (write-protected for coherence). */
  StoreOpen: 18,
  /** …and after it: protect the page again; drop translations only if the store hit translated bytes. */
  StoreClose: 19,
  /**
   * An instruction naming GS (the VMM's segment while the TC runs: vmm-gs.ts) or reading data
   * through CS (whose limit stays full at ring 1): performed on the VMM's interpreter.
   */
  Interpret: 20,
} as const;

export interface Classified {
  len: number;
  cls: Cls;
  /** Callout kind (Co) for Callout/CalloutEnd. */
  co: number;
  /** TrapOp for the log. */
  op: number;
  /** Branch target (guest EIP) for Jcc/Jmp/Call/Loop. */
  target: number;
  /** Offset of the opcode byte (after prefixes). */
  opAt: number;
  /** Disassembly (Intel syntax) for the UI; '' when the length came from the CPU's pre-decoder (see `textOf`). */
  text: string;
  opsz16: boolean;
}

/** Prefix bytes (1 = a prefix), as a table: the translator tests every byte of every instruction. */
const PREFIX = new Uint8Array(256);
for (const x of [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]) PREFIX[x] = 1;

// Helpers at module level: closures made per call cost an allocation (and a name) each time.
const rel8 = (b: Uint8Array, p: number, next: number) => (next + ((b[p + 1] << 24) >> 24)) >>> 0;
const rel32 = (b: Uint8Array, at: number, next: number) =>
  (next + (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24))) >>> 0;
const reg = (b: Uint8Array, at: number) => (b[at] >> 3) & 7;
const mod = (b: Uint8Array, at: number) => b[at] >> 6;
function set(r: Classified, cls: Cls, co: number, op: number): Classified {
  r.cls = cls;
  r.co = co;
  r.op = op;
  return r;
}
const priv = (r: Classified, op: number) => set(r, Cls.Callout, Co.Privileged, op);

/** The answer of `classify`: one object, overwritten by each call (the translator calls it per guest instruction). */
const r: Classified = { len: 0, cls: Cls.Ident, co: 0, op: 0, target: 0, opAt: 0, text: '', opsz16: false };

/**
 * Classify the instruction at `b[at]` (guest bytes at guest EIP `eip`, at most `avail` of them
 * readable; 32-bit code). The result is valid until the next call.
 */
export function classify(
  b: Uint8Array,
  eip: number,
  at = 0,
  avail: number = Math.min(15, b.length - at),
): Classified | null {
  if (avail <= 0) return null;
  // The block cache's pre-decoder gives the length of everything it runs natively (most kernel
  // code) without building text; the disassembler covers the rest (system instructions, x87, …).
  const pd = predecode(b, at, eip, avail, 0xffffffff);
  let len: number;
  let text = '';
  if (pd !== null) len = pd.len;
  else {
    // The disassembler's length without its text (a '(bad)' one is negative; `textOf` builds the rest).
    const n = instructionLength(at === 0 && avail === b.length ? b : b.subarray(at, at + avail), 0, 32);
    if (n === 0) return null;
    len = Math.abs(n);
    if (n < 0) text = '(bad)';
  }
  r.len = len;
  r.cls = Cls.Ident;
  r.co = 0;
  r.op = 0;
  r.target = 0;
  r.opAt = 0;
  r.text = text;
  r.opsz16 = false;
  if (text === '(bad)') {
    r.cls = Cls.Bad;
    r.len = Math.max(1, len);
    return r;
  }
  let p = at;
  const end = at + avail;
  let gsOrCs = 0;
  while (p < end && PREFIX[b[p]] === 1) {
    if (b[p] === 0x66) r.opsz16 = true;
    else if (b[p] === 0x65 || b[p] === 0x2e) gsOrCs = b[p];
    p++;
  }
  r.opAt = p - at;
  const o = b[p];
  const next = (eip + r.len) | 0;
  if (gsOrCs !== 0 && overrideMatters(b, p, gsOrCs))
    return set(r, Cls.Callout, Co.Interpret, TrapOp.INTERPRET);
  if (namesGs(b, p)) return set(r, Cls.Callout, Co.Interpret, TrapOp.INTERPRET);
  // 16-bit operand size on a control transfer truncates EIP: not translated (no 32-bit kernel uses it).
  if (o >= 0x70 && o <= 0x7f) {
    r.target = rel8(b, p, next);
    return r.opsz16 ? set(r, Cls.CalloutEnd, Co.Unsupported, 0) : set(r, Cls.Jcc, 0, 0);
  }
  switch (o) {
    case 0xeb:
      r.target = rel8(b, p, next);
      return r.opsz16 ? set(r, Cls.CalloutEnd, Co.Unsupported, 0) : set(r, Cls.Jmp, 0, 0);
    case 0xe9:
      r.target = rel32(b, p + 1, next);
      return r.opsz16 ? set(r, Cls.CalloutEnd, Co.Unsupported, 0) : set(r, Cls.Jmp, 0, 0);
    case 0xe8:
      r.target = rel32(b, p + 1, next);
      return r.opsz16 ? set(r, Cls.CalloutEnd, Co.Unsupported, 0) : set(r, Cls.Call, 0, 0);
    case 0xe0:
    case 0xe1:
    case 0xe2:
    case 0xe3:
      r.target = rel8(b, p, next);
      return r.opsz16 ? set(r, Cls.CalloutEnd, Co.Unsupported, 0) : set(r, Cls.Loop, 0, 0);
    case 0xc3:
    case 0xc2:
      return set(r, Cls.CalloutEnd, Co.Ret, 0);
    case 0xca:
    case 0xcb:
      return set(r, Cls.CalloutEnd, Co.Far, TrapOp.FAR_RET);
    case 0x9a:
      return set(r, Cls.CalloutEnd, Co.Far, TrapOp.FAR_CALL);
    case 0xea:
      return set(r, Cls.CalloutEnd, Co.Far, TrapOp.FAR_JMP);
    case 0xff: {
      const g = reg(b, p + 1);
      if (g === 2) return set(r, Cls.CalloutEnd, Co.CallInd, 0);
      if (g === 4) return set(r, Cls.CalloutEnd, Co.JmpInd, 0);
      if (g === 3) return set(r, Cls.CalloutEnd, Co.Far, TrapOp.FAR_CALL);
      if (g === 5) return set(r, Cls.CalloutEnd, Co.Far, TrapOp.FAR_JMP);
      return r;
    }
    case 0xcf:
      return set(r, Cls.CalloutEnd, Co.Iret, TrapOp.IRET);
    case 0xcc:
    case 0xcd:
    case 0xce:
    case 0xf1:
      return set(r, Cls.CalloutEnd, Co.Int, TrapOp.INT);
    case 0xfa:
      return set(r, Cls.Cli, 0, TrapOp.CLI);
    case 0xfb:
      return priv(r, TrapOp.STI);
    case 0x9c:
      return set(r, Cls.Callout, Co.Pushf, TrapOp.PUSHF);
    case 0x9d:
      return set(r, Cls.Callout, Co.Popf, TrapOp.POPF);
    case 0xf4:
      return set(r, Cls.CalloutEnd, Co.Privileged, TrapOp.HLT);
    case 0xe4:
    case 0xe5:
    case 0xec:
    case 0xed:
      return priv(r, TrapOp.IN);
    case 0xe6:
    case 0xe7:
    case 0xee:
    case 0xef:
      return priv(r, TrapOp.OUT);
    case 0x6c:
    case 0x6d:
      return priv(r, TrapOp.INS);
    case 0x6e:
    case 0x6f:
      return priv(r, TrapOp.OUTS);
    case 0x0e:
    case 0x16:
      return set(r, Cls.Callout, Co.SegRead, TrapOp.PUSH_SEG);
    case 0x17:
      return priv(r, TrapOp.SEG_LOAD);
    case 0x8c: {
      const s = reg(b, p + 1);
      return s === 1 || s === 2 ? set(r, Cls.Callout, Co.SegRead, TrapOp.MOV_FROM_SEG) : r;
    }
    case 0x8e:
      return reg(b, p + 1) === 2 ? priv(r, TrapOp.SEG_LOAD) : r;
    case 0x0f:
      break;
    default:
      return r;
  }
  const o2 = b[p + 1];
  if (o2 >= 0x80 && o2 <= 0x8f) {
    r.target = rel32(b, p + 2, next);
    return r.opsz16 ? set(r, Cls.CalloutEnd, Co.Unsupported, 0) : set(r, Cls.Jcc, 0, 0);
  }
  const m = p + 2;
  switch (o2) {
    case 0x00: {
      const g = reg(b, m);
      if (g === 0) return set(r, Cls.Callout, Co.StoreSys, TrapOp.SLDT);
      if (g === 1) return set(r, Cls.Callout, Co.StoreSys, TrapOp.STR);
      if (g === 2) return priv(r, TrapOp.LLDT);
      if (g === 3) return priv(r, TrapOp.LTR);
      if (g === 4) return set(r, Cls.Callout, Co.DescCheck, TrapOp.VERR);
      if (g === 5) return set(r, Cls.Callout, Co.DescCheck, TrapOp.VERW);
      return r;
    }
    case 0x01: {
      const g = reg(b, m);
      const mem = mod(b, m) !== 3;
      if (g === 0 && mem) return set(r, Cls.Callout, Co.StoreSys, TrapOp.SGDT);
      if (g === 1 && mem) return set(r, Cls.Callout, Co.StoreSys, TrapOp.SIDT);
      if (g === 2 && mem) return priv(r, TrapOp.LGDT);
      if (g === 3 && mem) return priv(r, TrapOp.LIDT);
      if (g === 4) return set(r, Cls.Callout, Co.StoreSys, TrapOp.SMSW);
      if (g === 6) return priv(r, TrapOp.LMSW);
      if (g === 7 && mem) return priv(r, TrapOp.INVLPG);
      return r;
    }
    case 0x02:
      return set(r, Cls.Callout, Co.DescCheck, TrapOp.LAR);
    case 0x03:
      return set(r, Cls.Callout, Co.DescCheck, TrapOp.LSL);
    case 0x06:
      return priv(r, TrapOp.CLTS);
    case 0x08:
      return priv(r, TrapOp.INVD);
    case 0x09:
      return priv(r, TrapOp.WBINVD);
    case 0x20:
    case 0x22:
      return priv(r, o2 === 0x20 ? TrapOp.MOV_FROM_CR : TrapOp.MOV_TO_CR);
    case 0x21:
    case 0x23:
      return priv(r, TrapOp.MOV_DR);
    case 0x30:
      return priv(r, TrapOp.WRMSR);
    case 0x31:
      // RDTSC is innocuous at ring 1 unless the guest set CR4.TSD (mirrored into the real CR4): then
      // the copy faults by itself and the shared emulation answers for guest ring 0.
      return r;
    case 0x32:
      return priv(r, TrapOp.RDMSR);
    case 0xa2:
      return set(r, Cls.Callout, Co.Cpuid, TrapOp.CPUID);
    case 0xb2:
      return priv(r, TrapOp.SEG_LOAD);
    case 0x34:
    case 0x35:
      // SYSENTER/SYSEXIT from the guest kernel would enter/leave real ring 0: not translated.
      return set(r, Cls.CalloutEnd, Co.Unsupported, 0);
    default:
      return r;
  }
}

/**
 * A GS or CS override the translated copy could not honour: GS is the VMM's while the TC runs, and
 * CS's full limit at ring 1 would reach the slot. Ignored where the instruction has no data
 * operand: branch hints on Jcc (2E/3E), the multi-byte NOP 0F 1F and LEA (compilers pad with
 * `nop cs:[…]`).
 */
function overrideMatters(b: Uint8Array, p: number, prefix: number): boolean {
  const o = b[p];
  if (prefix === 0x2e && ((o >= 0x70 && o <= 0x7f) || (o === 0x0f && b[p + 1] >= 0x80 && b[p + 1] <= 0x8f)))
    return false;
  if (o === 0x8d || (o === 0x0f && b[p + 1] === 0x1f)) return false;
  return true;
}

/** MOV r/m←GS, MOV GS←r/m, PUSH GS, POP GS, LGS: the guest's GS is held by the VMM (vmm-gs.ts). */
function namesGs(b: Uint8Array, p: number): boolean {
  const o = b[p];
  if (o === 0x8c || o === 0x8e) return reg(b, p + 1) === 5;
  if (o !== 0x0f) return false;
  const o2 = b[p + 1];
  return o2 === 0xa8 || o2 === 0xa9 || o2 === 0xb5;
}

/** The disassembly of a classified instruction (computed only when a listing is shown). */
export function textOf(bytes: Uint8Array, eip: number): string {
  try {
    return disassemble(bytes, 0, 32, eip).text;
  } catch {
    return '(truncated)';
  }
}

/**
 * Whether an innocuous instruction may become an adaptive store (A&A 2006 §4.2): it writes memory
 * through its ModR/M operand (so the VMM can compute the address from the guest registers), at
 * most 16 bytes (not x87 state saves, FXSAVE, or descriptor-table stores), and not the stack.
 */
export function adaptableStore(b: Uint8Array): boolean {
  let p = 0;
  while (p < b.length && PREFIX[b[p]] === 1) p++;
  let o = b[p];
  const two = o === 0x0f;
  if (two) o = b[++p];
  if (p + 1 >= b.length || b[p + 1] >> 6 === 3) return false;
  if (!two && o >= 0xd8 && o <= 0xdf) return false;
  if (two && (o === 0xae || o === 0x00 || o === 0x01)) return false;
  if (!two && (o === 0xff || o === 0x8f)) return false; // PUSH/POP r/m, indirect branches
  const info = opcodeInfo(o, two, (b[p + 1] >> 3) & 7);
  return info?.modrm === true;
}
