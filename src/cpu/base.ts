/**
 * CpuBase: the architectural register file and the lazy-flags machinery.
 * Everything lives in typed arrays or plain number fields so the hot loop stays monomorphic.
 */
import type { InterruptLine, IoBus, MemoryBus } from './bus.ts';
import { AF, ARITH, CF, OF, PF, SF, ZF } from './constants.ts';
import type { CpuTiming } from './timing.ts';

// Lazy-flag operation kinds (what produced lzA/lzB/lzR).
export const LZ_ADD = 0;
export const LZ_ADC = 1; // add with carry-in 1
export const LZ_SUB = 2;
export const LZ_SBB = 3; // subtract with borrow-in 1
export const LZ_LOGIC = 4; // CF=OF=AF=0

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let b = i;
  b ^= b >> 4;
  b ^= b >> 2;
  b ^= b >> 1;
  PARITY[i] = (b & 1) === 0 ? PF : 0;
}

/**
 * Observation of an architecturally silent event (see Cpu.observer): something sensitive that does
 * not trap (Robin & Irvine 2000). Observer arguments: `value` and `extra` as documented per kind.
 */
export enum SilentKind {
  /**
   * POPF at CPL > IOPL (protected mode, not V86): the IF bit of the image was ignored. Reported on
   * EVERY such POPF, whatever the real IF is; `value` = the attempted image. The observer compares
   * the image's IF with what it expected (a VMM: the guest's virtual IF).
   */
  PopfIfDropped = 1,
  /**
   * IRET at CPL > IOPL: the IF bit of the image was ignored (every such IRET; `value` = image,
   * `extra` = the privilege level returned to). Reported with the CPL before the return.
   */
  IretIfDropped = 2,
  /** POPF/IRET at CPL > 0 tried to change IOPL; dropped (only when it differs from the real IOPL). */
  IoplDropped = 3,
  /** PUSH CS/SS or MOV r/m16, CS/SS at CPL > 0: `value` = the selector read (its RPL = real CPL). */
  SegmentRead = 4,
  /** SGDT/SIDT at CPL > 0: `value` = the base stored, `extra` = the limit stored. */
  TableRead = 5,
  /** SLDT/STR at CPL > 0: `value` = the selector stored. */
  SelectorRead = 6,
  /** SMSW at CPL > 0: `value` = what it stored (the real CR0 bits). */
  MswRead = 7,
  /** LAR/LSL/VERR/VERW at CPL > 0: `value` = the selector examined, `extra` = 1 if ZF was set. */
  DescriptorCheck = 8,
  /** PUSHF at CPL > 0: `value` = the EFLAGS image pushed (the real IF and IOPL). */
  FlagsRead = 9,
}

export class CpuBase {
  readonly mem: MemoryBus;
  readonly io: IoBus;
  readonly intr: InterruptLine;
  ram: Uint8Array;
  /** Per RAM page: may have been written by this CPU (MemoryBus.written). */
  readonly ramWritten: Uint8Array;
  ram32: Int32Array | null;

  /** General registers EAX..EDI with 16- and 8-bit views on the same buffer. */
  private readonly regBuf = new ArrayBuffer(36);
  readonly regs = new Int32Array(this.regBuf, 0, 8);
  readonly r16 = new Uint16Array(this.regBuf, 0, 16);
  readonly r8 = new Uint8Array(this.regBuf, 0, 32);
  /**
   * The same registers plus a constant 0 at index 8: pre-decoded address arithmetic
   * (`regsZ[base] + (regsZ[index] << scale) + disp`) names "no base" / "no index" as register 8.
   */
  readonly regsZ = new Int32Array(this.regBuf);

  /** EIP of the instruction being executed (the fault EIP). */
  eip = 0;
  /** Next fetch offset inside CS while decoding; becomes `eip` when an instruction retires. */
  ip = 0;

  /** EFLAGS except the lazily computed arithmetic bits listed in `lzMask`. */
  flags = 2;
  lzMask = 0;
  lzOp = 0;
  lzA = 0;
  lzB = 0;
  lzR = 0;
  lzBits = 32;

  // Segment registers ES CS SS DS FS GS, then LDTR and TR: selector + hidden descriptor cache.
  readonly segSel = new Int32Array(8);
  readonly segBase = new Int32Array(8);
  readonly segLim = new Float64Array(8);
  readonly segAr = new Int32Array(8);
  /** Precomputed access-check bits per segment (see mmu.ts). */
  readonly segChk = new Int32Array(8);

  cpl = 0;
  cr0 = 0;
  cr2 = 0;
  cr3 = 0;
  cr4 = 0;
  readonly dr = new Int32Array(8);
  gdtBase = 0;
  gdtLimit = 0xffff;
  idtBase = 0;
  idtLimit = 0x3ff;

  // MSRs.
  sysenterCs = 0;
  sysenterEsp = 0;
  sysenterEip = 0;
  tscOffset = 0;

  instructions = 0;
  /** Modelled hardware timing (timing.ts): null = the TSC counts retired instructions only. */
  timing: CpuTiming | null = null;
  /** Cycles charged so far by the timing model and by a VMM's cost model (timing.ts). */
  chargedCycles = 0;
  // VMX (src/cpu/vmx): in non-root operation; EPT on; preemption-timer deadline (instructions);
  // CR2 before the last #PF (a #PF that exits leaves CR2 unchanged); last EPT leaf writable+dirty.
  vmxNonRoot = false;
  eptOn = false;
  vmxTimerAt = Number.POSITIVE_INFINITY;
  vmxCr2 = 0;
  eptW = false;
  /** The last EPT walk's leaf allowed reads / instruction fetches (vmx/ept.ts). */
  eptR = true;
  eptX = true;
  /** Set when the run loop must leave its fast path at the next instruction boundary. */
  attention = false;
  /**
   * A conditional branch inside a pre-decoded block was taken (block-fused.ts); `sideRec` is the
   * arena offset of its operands. It set `attention` too, so the run loop's one per-record test
   * sees it; the loop clears both and goes on at c.ip through the link kept in that record.
   * A boolean, read on the loop's shared path: a rare path that loads or compares something for
   * the first time deoptimizes fastLoop (no type feedback yet).
   */
  sideExit = false;
  sideRec = 0;
  /** Set when INTR must be re-sampled at the next boundary. */
  checkIntr = false;
  halted = false;
  shutdownReason = '';
  a20Mask = -1;

  // Decoder state of the current instruction.
  opsz32 = false;
  adsz32 = false;
  segOv = -1;
  rep = 0;
  lock = false;
  /** Default operand/address size from CS.D. */
  code32 = false;
  /** SS.B: 32-bit stack pointer. */
  ss32 = false;

  constructor(mem: MemoryBus, io: IoBus, intr: InterruptLine) {
    this.mem = mem;
    this.io = io;
    this.intr = intr;
    this.ram = mem.ram;
    this.ramWritten = mem.written ?? new Uint8Array((mem.ram.length + 4095) >>> 12);
    this.ram32 =
      mem.ram.byteOffset % 4 === 0
        ? new Int32Array(mem.ram.buffer, mem.ram.byteOffset, mem.ram.byteLength >>> 2)
        : null;
  }

  // ---- lazy flags -------------------------------------------------------------------------

  /** Record an arithmetic result; a, b, r must already be truncated to `bits`. */
  /** The time-stamp counter before TSC_OFFSET/IA32_TIME_STAMP_COUNTER writes (timing.ts). */
  tscNow(): number {
    return this.timing === null ? this.instructions : this.instructions + this.chargedCycles;
  }

  setLazy(op: number, a: number, b: number, r: number, bits: number, mask: number): void {
    this.lzOp = op;
    this.lzA = a;
    this.lzB = b;
    this.lzR = r;
    this.lzBits = bits;
    this.lzMask = mask;
  }

  getCF(): number {
    if ((this.lzMask & CF) === 0) return this.flags & CF;
    const a = this.lzA >>> 0;
    const r = this.lzR >>> 0;
    switch (this.lzOp) {
      case LZ_ADD:
        return r < a ? 1 : 0;
      case LZ_ADC:
        return r <= a ? 1 : 0;
      case LZ_SUB:
        return a < this.lzB >>> 0 ? 1 : 0;
      case LZ_SBB:
        return a <= this.lzB >>> 0 ? 1 : 0;
      default:
        return 0;
    }
  }
  getZF(): boolean {
    if ((this.lzMask & ZF) === 0) return (this.flags & ZF) !== 0;
    return this.lzR === 0;
  }
  getSF(): boolean {
    if ((this.lzMask & SF) === 0) return (this.flags & SF) !== 0;
    return ((this.lzR >>> (this.lzBits - 1)) & 1) !== 0;
  }
  getOF(): boolean {
    if ((this.lzMask & OF) === 0) return (this.flags & OF) !== 0;
    const a = this.lzA;
    const b = this.lzB;
    const r = this.lzR;
    let v: number;
    switch (this.lzOp) {
      case LZ_ADD:
      case LZ_ADC:
        v = (a ^ r) & (b ^ r);
        break;
      case LZ_SUB:
      case LZ_SBB:
        v = (a ^ b) & (a ^ r);
        break;
      default:
        return false;
    }
    return ((v >>> (this.lzBits - 1)) & 1) !== 0;
  }
  getPF(): boolean {
    if ((this.lzMask & PF) === 0) return (this.flags & PF) !== 0;
    return PARITY[this.lzR & 0xff] !== 0;
  }
  getAF(): boolean {
    if ((this.lzMask & AF) === 0) return (this.flags & AF) !== 0;
    if (this.lzOp === LZ_LOGIC) return false;
    return ((this.lzA ^ this.lzB ^ this.lzR) & 0x10) !== 0;
  }

  /** Fold the lazy flags into `flags` (so the six status bits are all stored). */
  materialize(): void {
    const m = this.lzMask;
    if (m === 0) return;
    let f = this.flags & ~m;
    if (m & CF && this.getCF()) f |= CF;
    if (m & PF && this.getPF()) f |= PF;
    if (m & AF && this.getAF()) f |= AF;
    if (m & ZF && this.getZF()) f |= ZF;
    if (m & SF && this.getSF()) f |= SF;
    if (m & OF && this.getOF()) f |= OF;
    this.flags = f;
    this.lzMask = 0;
  }

  /** The architectural EFLAGS value. */
  getEflags(): number {
    this.materialize();
    return this.flags | 2;
  }

  /** Set flags in `mask` from `value` (status bits become non-lazy). */
  setFlagBits(value: number, mask: number): void {
    this.materialize();
    this.flags = (this.flags & ~mask) | (value & mask) | 2;
  }

  /** Write CF without disturbing the other lazy flags. */
  setCF(on: boolean | number): void {
    this.lzMask &= ~CF;
    this.flags = on ? this.flags | CF : this.flags & ~CF;
  }

  /** Evaluate condition code cc (0–15, as in Jcc/SETcc/CMOVcc). */
  cond(cc: number): boolean {
    let r: boolean;
    switch (cc >> 1) {
      case 0:
        r = this.getOF();
        break;
      case 1:
        r = this.getCF() !== 0;
        break;
      case 2:
        r = this.getZF();
        break;
      case 3:
        r = this.getCF() !== 0 || this.getZF();
        break;
      case 4:
        r = this.getSF();
        break;
      case 5:
        r = this.getPF();
        break;
      case 6:
        r = this.getSF() !== this.getOF();
        break;
      default:
        r = this.getZF() || this.getSF() !== this.getOF();
        break;
    }
    return (cc & 1) === 0 ? r : !r;
  }

  /** Set ZF/SF/PF from a result and clear CF/OF/AF (logic-op rule). */
  setLogic(r: number, bits: number): void {
    this.lzOp = LZ_LOGIC;
    this.lzA = r;
    this.lzB = 0;
    this.lzR = r;
    this.lzBits = bits;
    this.lzMask = ARITH;
  }

  static parity(v: number): number {
    return PARITY[v & 0xff];
  }
}
