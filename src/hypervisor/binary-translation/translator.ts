/**
 * The translator: one translation unit (at most 12 guest instructions, ending at the first
 * unconditional control transfer; a Jcc is a side exit) from guest kernel code into real IA-32
 * code in the TC (Adams & Agesen 2006).
 *
 *   IDENT            the guest bytes, unchanged
 *   CLI              mov dword gs:[area.vif], 0         (inline: the virtual IF lives in the area)
 *   STI              vif ← 0x200 inline; a callout only when an interrupt is pending (area.pending)
 *   PUSHF            pushfd, then fix its IF/IOPL/TF from the area with LEA (no flag touched)
 *   POPF             vif ← image.IF, then a real popfd (arithmetic flags; ring 1 keeps the real IF);
 *                    a callout when the image changes IOPL or enables a pending interrupt
 *   RET, JMP/CALL r/m  the inline lookup: target → area, jmp [table + (target & 0xffff)*4]
 *   Jcc              jcc rel32 → the target's unit, or → exit stub; the unit goes on with the
 *                    fall-through (a unit may hold several conditional branches: its side exits)
 *   JMP rel          jmp rel32 → the target's unit, or jmp gs:[cell] (chaining writes the cell)
 *   CALL rel         push <guest return EIP>; then as JMP rel
 *   LOOP/JECXZ rel8  loop +2; jmp short over; jmp → taken; over: jmp → fall-through
 *   sensitive        int 0xBB                            (callout: the VMM looks the TC address up)
 *   IRET             int 0xBB; iret                      (the VMM emulates a return to guest ring 0;
 *                                                          to guest ring 3 it resumes at the real IRET)
 *   CPUID            int 0xBB; cpuid                     (the physical CPU answers, as it would natively)
 *   MOV r32, GS      movzx r32, word gs:[area.gssel]     (the guest's GS selector, held by the VMM;
 *   MOV r16, GS      mov r16, gs:[area.gssel]             zero-extended to 32 bits as our CPU does)
 *   PUSH GS          push dword gs:[area.gssel]          (our CPU's 32-bit PUSH Sreg writes 4 bytes; 66: a word)
 *   unit end         as JMP rel to the next guest instruction
 *   exit stub        [jmp gs:[cell]] int 0xBB            (translate the target, chain, continue)
 *
 * A branch whose target unit already exists (and was translated from the same guest-physical
 * bytes) goes straight to it; any other goes through a chaining cell (tc.ts): chaining writes
 * that cell, never the translated code, so the CPU keeps the blocks it decoded from the TC.
 *
 * `int 0xBB` at real ring 1 is a real software interrupt: the CPU hands it to the VMM's monitor
 * like any other event; the VMM recognises it by its TC address (tc.sites), never by the vector.
 */
import { GuestPageFault } from '../vmm/guest-mem.ts';
import { TrapOp } from '../vmm/trap-log.ts';
import { type Classified, Cls, Co, classify } from './classify.ts';
import { How } from './listing.ts';
import {
  AREA_FADJ,
  AREA_GSSEL,
  AREA_IOPL,
  AREA_PENDING,
  AREA_SCR,
  AREA_SCR2,
  AREA_TARGET,
  AREA_VIF,
  type Exit,
  Map_,
  type TranslationCache,
  type Unit,
} from './tc.ts';

export const CALLOUT_VECTOR = 0xbb;
/** The GS override: translated code reaches the VMM's area, table and cells through GS (vmm-gs.ts). */
const VMM_SEG = 0x65;
/** Guest code bytes fetched at a time while translating. */
const WINDOW = 96;
/** Most guest instructions per unit (VMware's limit). */
export const MAX_UNIT_INSNS = 12;
/** Upper bound of one unit's code: 13 instructions of at most 64 bytes (the inline POPF's sequence) + 14 stubs. */
export const MAX_UNIT_BYTES = 13 * 64 + 14 * 9 + 16;
/** Upper bound of one unit's exits (a conditional branch per instruction, the end's, LOOP's two). */
export const MAX_UNIT_EXITS = 16;

/** Guest code bytes as the guest kernel would fetch them (through its own page tables). */
export interface CodeSource {
  /** Up to `n` bytes at guest-linear `lin`, stopping at the first unmapped byte. */
  fetch(lin: number, n: number): Uint8Array;
  /** The same into `out` from index 0 (no allocation); returns how many bytes were fetched. */
  fetchInto(lin: number, n: number, out: Uint8Array): number;
  /** Guest-physical address of `lin`, or the #PF error code (as ~code) when the fetch would fault. */
  gpa(lin: number): number | null;
  /** Error code of a supervisor fetch fault at `lin`. */
  faultCode(lin: number): number;
}

/** The listing's `rewritten` column by class, where the case below does not name it itself. */
const CLS_HOW: number[] = [];
CLS_HOW[Cls.Cli] = How.Cli;
CLS_HOW[Cls.Jcc] = How.Jcc;
CLS_HOW[Cls.Jmp] = How.Jmp;
CLS_HOW[Cls.Call] = How.Call;
CLS_HOW[Cls.Loop] = How.Loop;

// The unit being written. Translation is not re-entrant, so its state lives here rather than in
// closures made per unit (the translator runs ~20 k times per Linux boot: allocation matters).
let tc_: TranslationCache;
let src_: CodeSource;
let u_: Unit;
let base_ = 0;
let transient_ = false;
let areaLin_ = 0;
let tableLin_ = 0;
let cellLin_ = 0;
/** The unit's code (copied into the TC at the end). */
const buf = new Uint8Array(MAX_UNIT_BYTES + 64);
let bn = 0;
/** Exits whose stub comes after the body: buf index of a rel32 to aim at the stub (or -1), whether the stub starts with jmp gs:[cell]. */
const pendAt: number[] = [];
const pendExit: Exit[] = [];
const pendViaCell: boolean[] = [];
/** Exits that went straight to an existing unit (entered in its `incoming` once committed). */
const direct: Exit[] = [];
const pages: number[] = [];

/** The guest code window being translated (`winN` bytes fetched at `winAt`): no view is made per instruction. */
const win = new Uint8Array(WINDOW);
let winN = 0;

const NO_BYTES = new Uint8Array(0);
const pos = () => base_ + bn;
function emit(a: number, b = -1, c = -1, d = -1): void {
  buf[bn++] = a;
  if (b >= 0) buf[bn++] = b;
  if (c >= 0) buf[bn++] = c;
  if (d >= 0) buf[bn++] = d;
}
/** Copy `n` guest bytes of the window from `at`. */
function emitWin(at: number, n: number): void {
  for (let i = 0; i < n; i++) buf[bn + i] = win[at + i];
  bn += n;
}
function emit32(v: number): void {
  buf[bn] = v;
  buf[bn + 1] = v >>> 8;
  buf[bn + 2] = v >>> 16;
  buf[bn + 3] = v >>> 24;
  bn += 4;
}
function addPage(g: number | null): void {
  if (g === null) return;
  const p = (g & ~0xfff) >>> 0;
  if (!pages.includes(p)) pages.push(p);
}
/** The live unit a branch to guest `target` may go straight to: same EIP, same guest-physical bytes. */
function existing(target: number): Unit | null {
  if (transient_) return null;
  if (target === u_.guestEip) return u_;
  const t = tc_.units.get(target);
  if (!t?.valid || t.gen !== tc_.gen) return null;
  return src_.gpa(target) === t.gpa ? t : null;
}
function newExit(target: number, t: Unit | null, patch: number, cell: number): Exit {
  const e: Exit = { target: target >>> 0, patch, cell, stub: 0, linked: t, from: u_ };
  u_.exits.push(e);
  return e;
}
function pend(at: number, e: Exit, viaCell: boolean): void {
  pendAt.push(at);
  pendExit.push(e);
  pendViaCell.push(viaCell);
}
/** The rel32 of a branch (its opcode already emitted): to the target's unit, else to its exit stub. */
function branchRel32(target: number): void {
  const t = existing(target);
  const e = newExit(target, t, pos(), t || transient_ ? -1 : tc_.newCell());
  if (t) {
    direct.push(e);
    pend(-1, e, false); // its stub, for when the target goes
    emit32((t.start - (pos() + 4)) | 0);
  } else {
    pend(bn, e, e.cell >= 0);
    emit32(0);
  }
}
/** An unconditional jump to guest `target`: jmp rel32 to its unit, or jmp gs:[cell]. */
function jmpTo(target: number): void {
  if (transient_ || existing(target)) {
    emit(0xe9);
    branchRel32(target);
    return;
  }
  const e = newExit(target, null, -1, tc_.newCell());
  emit(VMM_SEG, 0xff, 0x25);
  emit32((cellLin_ + 4 * e.cell) >>> 0); // jmp gs:[cell]
  pend(-1, e, false);
}
function jmpExit(target: number): void {
  tc_.mapInsn(pos(), target, true);
  jmpTo(target);
}
/** A callout site for the guest instruction of `len` bytes at window index `at`. */
function site(
  co: number,
  op: number,
  guest: number,
  at: number,
  len: number,
  ends: boolean,
  kind: number = Map_.Exact,
): void {
  const here = pos();
  tc_.mapInsn(here, guest, kind);
  emit(0xcd, CALLOUT_VECTOR);
  tc_.sites.set(here, {
    co,
    op,
    guestEip: guest,
    len,
    resume: pos(),
    ends,
    bytes: win.slice(at, at + len),
    unit: u_,
    exit: null,
    count: 0,
  });
}
const area = (off: number) => emit32((areaLin_ + off) >>> 0);
/** mov gs:[area+off], ecx / mov ecx, gs:[area+off] (and EDX with reg = 2). */
function toArea(off: number, reg = 1): void {
  emit(VMM_SEG, 0x89, 0x05 | (reg << 3));
  area(off);
}
function fromArea(off: number, reg = 1): void {
  emit(VMM_SEG, 0x8b, 0x05 | (reg << 3));
  area(off);
}
/** A forward rel8 jump whose displacement is filled in later (`land`). */
function jump8(op: number): number {
  emit(op, 0);
  return bn;
}
function land(after: number): void {
  buf[after - 1] = bn - after;
}
/** The inline lookup once ECX holds the guest target (guest ECX saved in area.scr). */
function lookup(): void {
  toArea(AREA_TARGET); // mov gs:[target], ecx
  emit(0x0f, 0xb7, 0xc9); // movzx ecx, cx
  emit(VMM_SEG, 0xff, 0x24, 0x8d);
  emit32(tableLin_); // jmp gs:[table + ecx*4]
}

/**
 * Translate the unit starting at guest EIP `eip` into `tc` (which must have MAX_UNIT_BYTES free).
 * `areaLin`: linear address of the VM's virtual-CPU area. Throws GuestPageFault when the first
 * instruction cannot be fetched (the guest's own fault, at `eip`).
 */
export function translateUnit(
  tc: TranslationCache,
  src: CodeSource,
  eip: number,
  areaLin: number,
  transient: boolean,
  maxInsns = MAX_UNIT_INSNS,
  /** Linear address of the RET lookup table. */
  tableLin = 0,
  /** Guest EIPs of stores retranslated adaptively (bracketed by StoreOpen/StoreClose callouts). */
  adaptive: ReadonlySet<number> | null = null,
  /** Linear address of the chaining cells. */
  cellLin = 0,
  /** Guest return addresses of the CALLs translated so far (filled here): RET targets. */
  retSites: Set<number> | null = null,
): Unit {
  const gpa0 = src.gpa(eip);
  if (gpa0 === null) throw new GuestPageFault(eip >>> 0, src.faultCode(eip));
  const u = tc.newUnit(eip >>> 0, gpa0, transient);
  const base = u.start;
  tc_ = tc;
  src_ = src;
  u_ = u;
  base_ = base;
  transient_ = transient;
  areaLin_ = areaLin;
  tableLin_ = tableLin;
  cellLin_ = cellLin;
  bn = 0;
  pendAt.length = 0;
  pendExit.length = 0;
  pendViaCell.length = 0;
  direct.length = 0;
  pages.length = 0;
  if (!transient && tc.missStub >= 0 && retSites?.has(u.guestEip)) {
    // A CALL returns here: the RET lookup's entry check goes in front of the unit (a hit falls
    // into it; see emitIndEntry).
    tc.mapInsn(pos(), u.guestEip, false);
    fromArea(AREA_TARGET); // mov ecx, gs:[target]
    emit(0x8d, 0x89);
    emit32(-u.guestEip | 0); // lea ecx, [ecx - guest EIP]
    emit(0xe3, 0x05); // jecxz hit
    emit(0xe9);
    emit32((tc.missStub - (pos() + 4)) | 0); // jmp miss
    fromArea(AREA_SCR); // hit: mov ecx, gs:[scr]
    u.indEntry = base;
    u.start = pos();
  }

  let cur = eip >>> 0;
  let ended = false;
  let winAt = cur;
  winN = -1;
  const rows = tc.listings;
  let lastPage = -1;
  /** The previous instruction was STI: this one runs in its interrupt shadow (SDM Vol.2 STI). */
  let afterSti = false;
  for (let n = 0; (n < maxInsns || afterSti) && !ended; n++) {
    // One fetch (a guest page walk or two) serves several instructions.
    if (winN < 0 || (((cur - winAt) >>> 0) + 15 > winN && winN === WINDOW)) {
      winAt = cur;
      winN = src.fetchInto(cur, WINDOW, win);
    }
    // The instruction's bytes are win[at, at + c.len): classify, copy and list them from there.
    const at = (cur - winAt) >>> 0;
    const avail = Math.min(15, winN - at);
    const c = avail > 0 ? classify(win, cur, at, avail) : null;
    if (c === null || c.len > avail) {
      if (n === 0) {
        // The first instruction runs off into an unmapped page: the guest's own fetch fault.
        const miss = (cur + Math.max(0, avail)) >>> 0;
        throw new GuestPageFault(miss, src.faultCode(miss));
      }
      break; // translated up to here; the next unit faults for itself when reached
    }
    const last = (cur + c.len - 1) >>> 0;
    if (cur >>> 12 !== lastPage) {
      lastPage = cur >>> 12;
      addPage(src.gpa(cur));
    }
    if (last >>> 12 !== lastPage) {
      lastPage = last >>> 12;
      addPage(src.gpa(last));
    }
    const next = (cur + c.len) >>> 0;
    const len = c.len;
    const text = c.text;
    let how: number = How.Ident;
    const shadowed = afterSti;
    afterSti = false;
    const map0 = tc.mapped;
    const inline = inlineKind(c, at, tc.missStub >= 0);
    u.insns++;
    u.guestBytes += len;
    switch (c.cls) {
      case Cls.Ident:
        if (adaptive?.has(cur)) {
          // Adaptive translation: the VMM opens the store's page, the store runs, the VMM closes it.
          site(Co.StoreOpen, 0, cur, at, len, false);
          tc.mapInsn(pos(), cur, Map_.Precise);
          emitWin(at, len);
          site(Co.StoreClose, 0, next, at, len, false, Map_.Mid);
          u.rewritten++; // listed as IDENT: the guest's store itself runs unchanged
          break;
        }
        tc.mapInsn(pos(), cur, true);
        emitWin(at, len);
        u.ident++;
        break;
      case Cls.Bad:
        // Undecodable: the CPU raises #UD on the very same bytes, at the guest EIP.
        tc.mapInsn(pos(), cur, true);
        emitWin(at, len);
        u.ident++;
        ended = true;
        break;
      case Cls.Cli:
        tc.mapInsn(pos(), cur, true);
        emit(VMM_SEG, 0xc7, 0x05);
        area(AREA_VIF);
        emit32(0); // mov dword gs:[vif], 0
        u.rewritten++;
        break;
      case Cls.Jcc: {
        const op = win[at + c.opAt];
        const cc = op === 0x0f ? win[at + c.opAt + 1] & 0xf : op & 0xf;
        tc.mapInsn(pos(), cur, true);
        emit(0x0f, 0x80 | cc);
        branchRel32(c.target);
        u.rewritten++;
        // Not the end of the unit: the fall-through follows in line.
        break;
      }
      case Cls.Jmp:
        tc.mapInsn(pos(), cur, true);
        jmpTo(c.target);
        u.rewritten++;
        ended = true;
        break;
      case Cls.Call:
        retSites?.add(next);
        tc.mapInsn(pos(), cur, true);
        emit(0x68);
        emit32(next);
        // After the push the guest state is half-way through the CALL: no interrupt there.
        tc.mapInsn(pos(), cur, false);
        jmpTo(c.target);
        u.rewritten++;
        ended = true;
        break;
      case Cls.Loop: {
        tc.mapInsn(pos(), cur, true);
        // Keep the address-size prefix (JCXZ vs JECXZ, CX vs ECX), drop any others.
        for (let k = 0; k < c.opAt; k++)
          if (win[at + k] === 0x67) {
            emit(0x67);
            break;
          }
        emit(win[at + c.opAt], 2); // taken → +2
        tc.mapInsn(pos(), next, true);
        const over = jump8(0xeb); // not taken → the fall-through jump
        jmpExit(c.target);
        land(over);
        jmpExit(next);
        u.rewritten++;
        ended = true;
        break;
      }
      case Cls.CalloutEnd:
        if (inline === Inline.Indirect) {
          // JMP/CALL r/m32 through the same lookup as RET. The operand is read with the guest's own
          // ModR/M (reg := ECX) while ECX is still the guest's, so a fault there is precise; CALL
          // pushes the guest return address only once ECX is restored.
          const call = c.co === Co.CallInd;
          if (call) retSites?.add(next);
          tc.mapInsn(pos(), cur, true);
          toArea(AREA_SCR); // mov gs:[scr], ecx
          tc.mapInsn(pos(), cur, Map_.Precise);
          emitWin(at, c.opAt); // segment / address-size prefixes
          emit(0x8b, (win[at + c.opAt + 1] & 0xc7) | 0x08);
          emitWin(at + c.opAt + 2, len - c.opAt - 2); // mov ecx, r/m32
          tc.mapInsn(pos(), cur, Map_.Mid);
          if (call) {
            toArea(AREA_TARGET);
            fromArea(AREA_SCR);
            tc.mapInsn(pos(), cur, Map_.Precise);
            emit(0x68);
            emit32(next); // push <guest return EIP>
            tc.mapInsn(pos(), cur, Map_.Mid);
            toArea(AREA_SCR);
            fromArea(AREA_TARGET);
          }
          lookup();
          u.rewritten++;
          how = How.Lookup;
          ended = true;
          break;
        }
        if (c.co === Co.Ret && c.opAt === 0 && tc.missStub >= 0) {
          // Inline RET (VMware's indirect-branch lookup): pop the guest target, index the
          // lookup table with its low 16 bits and jump through it — to the target unit's entry
          // check, or to the miss stub (a callout). ECX is borrowed (saved in the area); flags untouched.
          tc.mapInsn(pos(), cur, true);
          emit(VMM_SEG, 0x89, 0x0d);
          emit32((areaLin + AREA_SCR) >>> 0); // mov gs:[scr], ecx
          tc.mapInsn(pos(), cur, true); // the POP is the only instruction that can fault
          emit(0x59); // pop ecx
          tc.mapInsn(pos(), cur, false);
          if (win[at] === 0xc2) {
            emit(0x8d, 0xa4, 0x24); // lea esp, [esp + imm16]
            emit32(win[at + 1] | (win[at + 2] << 8));
          }
          emit(VMM_SEG, 0x89, 0x0d);
          emit32((areaLin + AREA_TARGET) >>> 0); // mov gs:[target], ecx
          emit(0x0f, 0xb7, 0xc9); // movzx ecx, cx
          emit(VMM_SEG, 0xff, 0x24, 0x8d);
          emit32(tableLin); // jmp gs:[table + ecx*4]
          u.rewritten++;
          how = How.Lookup;
          ended = true;
          break;
        }
        site(c.co, c.op, cur, at, len, true);
        if (c.co === Co.Iret) {
          // A return to guest ring 3 continues here: a real IRET (its faults are the guest's).
          tc.mapInsn(pos(), cur, true);
          emit(0xcf);
        } else if (c.op === TrapOp.FAR_RET) {
          // Likewise a far RET to an outer ring (after a call gate from user mode): the guest's RETF.
          tc.mapInsn(pos(), cur, true);
          emitWin(at, len);
        }
        u.rewritten++;
        how = How.Callout;
        ended = true;
        break;
      case Cls.Callout:
        if (inline === Inline.Pushf) {
          // The real image has IF = 1 and IOPL = 0 (the VMM's); area.vif + area.fadj make it the
          // guest's. LEA and MOV only: the guest's flags are what PUSHFD just saved.
          tc.mapInsn(pos(), cur, true);
          emit(0x9c); // pushfd — the only instruction that can fault
          tc.mapInsn(pos(), cur, Map_.Mid);
          toArea(AREA_SCR);
          toArea(AREA_SCR2, 2);
          emit(0x8b, 0x0c, 0x24); // mov ecx, [esp]
          fromArea(AREA_VIF, 2);
          emit(0x8d, 0x0c, 0x11); // lea ecx, [ecx + edx]
          fromArea(AREA_FADJ, 2);
          emit(0x8d, 0x0c, 0x11); // lea ecx, [ecx + edx]
          emit(0x89, 0x0c, 0x24); // mov [esp], ecx
          fromArea(AREA_SCR);
          fromArea(AREA_SCR2, 2);
          u.rewritten++;
          how = How.Pushf;
          break;
        }
        if (inline === Inline.Popf) {
          // Flags are free until the real POPFD reloads them from the image.
          tc.mapInsn(pos(), cur, true);
          toArea(AREA_SCR);
          tc.mapInsn(pos(), cur, Map_.Precise);
          emit(0x8b, 0x0c, 0x24); // mov ecx, [esp] — the only read that can fault
          tc.mapInsn(pos(), cur, Map_.Mid);
          emit(0x81, 0xe1);
          emit32(0x3000); // and ecx, IOPL
          emit(VMM_SEG, 0x3b, 0x0d);
          area(AREA_IOPL); // cmp ecx, gs:[iopl]
          const toCo = jump8(0x75); // jne → callout (IOPL changes: rare)
          emit(0x8b, 0x0c, 0x24); // mov ecx, [esp]
          emit(0x81, 0xe1);
          emit32(0x200); // and ecx, IF
          toArea(AREA_VIF);
          const off1 = jump8(0xe3); // jecxz → done (IF = 0: nothing becomes deliverable)
          fromArea(AREA_PENDING);
          const off2 = jump8(0xe3); // jecxz → done (no interrupt waiting)
          land(toCo);
          fromArea(AREA_SCR);
          const coAt = pos();
          site(Co.Popf, c.op, cur, at, len, false, Map_.Mid); // the full POPF in the VMM
          const toNext = jump8(0xeb);
          land(off1);
          land(off2);
          fromArea(AREA_SCR);
          emit(0x9d); // popfd: status flags, TF, DF, NT, AC, ID (IF/IOPL stay the VMM's at ring 1)
          land(toNext);
          (tc.sites.get(coAt) as { resume: number }).resume = pos();
          u.rewritten++;
          how = How.Popf;
          break;
        }
        if (inline === Inline.Sti) {
          tc.mapInsn(pos(), cur, true);
          toArea(AREA_SCR);
          tc.mapInsn(pos(), cur, Map_.Mid);
          fromArea(AREA_PENDING);
          const quiet = jump8(0xe3); // jecxz → no interrupt waiting
          fromArea(AREA_SCR);
          const coAt = pos();
          site(c.co, c.op, cur, at, len, false, Map_.Mid); // the full STI (with its shadow) in the VMM
          const toNext = jump8(0xeb);
          land(quiet);
          fromArea(AREA_SCR);
          emit(VMM_SEG, 0xc7, 0x05);
          area(AREA_VIF);
          emit32(0x200); // mov dword gs:[vif], IF
          land(toNext);
          (tc.sites.get(coAt) as { resume: number }).resume = pos();
          afterSti = true;
          u.rewritten++;
          how = How.Sti;
          break;
        }
        if (inline === Inline.GsRead) {
          // The guest's GS selector as the area holds it while the VMM holds GS (vmm-gs.ts): one
          // TC instruction, so a fault in it (the push beyond the stack's cut limit, a hidden or
          // the guest's page fault) is the guest instruction's, exactly as for a copied PUSH.
          tc.mapInsn(pos(), cur, true);
          const o = win[at + c.opAt];
          if (c.opsz16) emit(0x66);
          if (o === 0x8c) {
            const r = win[at + c.opAt + 1] & 7;
            if (c.opsz16)
              emit(VMM_SEG, 0x8b, 0x05 | (r << 3)); // mov r16, gs:[gssel]
            else emit(VMM_SEG, 0x0f, 0xb7, 0x05 | (r << 3)); // movzx r32, word gs:[gssel]
          } else emit(VMM_SEG, 0xff, 0x35); // push dword (word) gs:[gssel]
          area(AREA_GSSEL);
          u.rewritten++;
          how = How.GsRead;
          break;
        }
        site(c.co, c.op, cur, at, len, false);
        if (c.co === Co.Cpuid) {
          // The physical CPU answers; after it the guest is at the next instruction.
          tc.mapInsn(pos(), cur, true);
          emit(0x0f, 0xa2);
        }
        u.rewritten++;
        how = How.Callout;
        break;
    }
    // The instruction after STI: no interrupt before it completes (its first TC instruction is
    // not a boundary; the STI callout's single step also runs on to the next exact point).
    if (shadowed && tc.mapped > map0) tc.setMapKind(map0, Map_.Mid);
    rows.add(win, at, len, c.cls === Cls.Ident ? How.Ident : how || (CLS_HOW[c.cls] ?? How.Rewritten), text);
    cur = next;
  }
  if (!ended) jmpExit(cur);
  // Exit stubs after the body: each a callout the VMM recognises by its address (behind a
  // jmp gs:[cell] when a conditional branch reaches it: the cell chains it).
  for (let i = 0; i < pendExit.length; i++) {
    const e = pendExit[i];
    const first = pos();
    if (pendViaCell[i]) {
      tc.mapInsn(first, e.target, true);
      emit(VMM_SEG, 0xff, 0x25);
      emit32((cellLin + 4 * e.cell) >>> 0);
    }
    const stub = pos();
    e.stub = stub;
    tc.mapInsn(stub, e.target, true);
    emit(0xcd, CALLOUT_VECTOR);
    tc.sites.set(stub, {
      co: Co.Exit,
      op: 0,
      guestEip: e.target,
      len: 0,
      resume: pos(),
      ends: true,
      bytes: NO_BYTES,
      unit: u,
      exit: e,
      count: 0,
    });
    const at = pendAt[i];
    if (at < 0) continue;
    const rel = (first - (base + at + 4)) | 0;
    buf[at] = rel;
    buf[at + 1] = rel >>> 8;
    buf[at + 2] = rel >>> 16;
    buf[at + 3] = rel >>> 24;
  }
  u.pages = pages.slice();
  u.end = base + bn;
  tc.write(base, buf.subarray(0, bn));
  for (const e of pendExit) if (e.cell >= 0) tc.setCell(e.cell, e.stub);
  for (const e of direct) {
    e.linked?.incoming.push(e);
    tc.stats.linked++;
  }
  tc.commit(u);
  return u;
}

const Inline = { None: 0, Pushf: 1, Popf: 2, Sti: 3, Indirect: 4, GsRead: 5 } as const;

/** Which callouts are translated inline instead (the plain 32-bit forms; the rest call out). `at`: the window index. */
function inlineKind(c: Classified, at: number, lookup: boolean): number {
  if (c.co === Co.Interpret) return gsRead(at, c.opAt) ? Inline.GsRead : Inline.None;
  if (c.opsz16) return Inline.None;
  if (c.co === Co.Pushf && c.opAt === 0) return Inline.Pushf;
  if (c.co === Co.Popf && c.opAt === 0) return Inline.Popf;
  if (c.co === Co.Privileged && c.op === TrapOp.STI && c.opAt === 0) return Inline.Sti;
  if ((c.co === Co.JmpInd || c.co === Co.CallInd) && lookup) {
    for (let k = 0; k < c.opAt; k++) if (win[at + k] >= 0xf0) return Inline.None; // LOCK/REP: left to the callout
    return Inline.Indirect;
  }
  return Inline.None;
}

/**
 * MOV r32/r16←GS (register destination) and PUSH GS with no prefix but an operand-size one: they
 * only read the guest's GS selector (SDM Vol.2 MOV, PUSH). The memory form (a 16-bit store through
 * the guest's own ModR/M), the loads of GS and a `gs:` data access stay on the interpreter.
 */
function gsRead(at: number, opAt: number): boolean {
  for (let k = 0; k < opAt; k++) if (win[at + k] !== 0x66) return false;
  const o = win[at + opAt];
  if (o === 0x8c) return win[at + opAt + 1] >= 0xc0 && ((win[at + opAt + 1] >> 3) & 7) === 5;
  return o === 0x0f && win[at + opAt + 1] === 0xa8;
}

/** The shared miss stub of the RET lookup: restore the guest's ECX, call out (Co.IndMiss). */
export function emitMissStub(tc: TranslationCache, areaLin: number): number {
  const at = tc.used;
  const b: number[] = [VMM_SEG, 0x8b, 0x0d];
  const a = (areaLin + AREA_SCR) >>> 0;
  b.push(a & 0xff, (a >>> 8) & 0xff, (a >>> 16) & 0xff, a >>> 24);
  tc.mapInsn(at, 0, false);
  tc.mapInsn(at + 7, 0, false);
  b.push(0xcd, CALLOUT_VECTOR);
  const u = tc.newUnit(0, 0, true);
  tc.sites.set(at + 7, {
    co: Co.IndMiss,
    op: 0,
    guestEip: 0,
    len: 0,
    resume: at + 9,
    ends: true,
    bytes: new Uint8Array(0),
    unit: u,
    exit: null,
    count: 0,
  });
  tc.write(at, b);
  tc.used = at + b.length;
  tc.missStub = at;
  return at;
}

/**
 * A unit's entry check for the RET lookup table: is the popped target this unit's guest EIP?
 * (Compared without touching the guest's flags: LEA and JECXZ.) Yes: restore ECX, enter the
 * unit; no: the miss stub.
 */
export function emitIndEntry(tc: TranslationCache, u: Unit, areaLin: number): number {
  const at = tc.used;
  const b: number[] = [];
  const d32 = (v: number) => b.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  b.push(VMM_SEG, 0x8b, 0x0d);
  d32((areaLin + AREA_TARGET) >>> 0); // mov ecx, gs:[target]
  b.push(0x8d, 0x89);
  d32(-u.guestEip | 0); // lea ecx, [ecx - guest EIP]
  b.push(0xe3, 0x05); // jecxz hit
  b.push(0xe9);
  d32((tc.missStub - (at + b.length + 4)) | 0); // jmp miss
  b.push(VMM_SEG, 0x8b, 0x0d);
  d32((areaLin + AREA_SCR) >>> 0); // hit: mov ecx, gs:[scr]
  b.push(0xe9);
  d32((u.start - (at + b.length + 4)) | 0); // jmp unit
  tc.mapInsn(at, u.guestEip, false);
  tc.write(at, b);
  tc.used = at + b.length;
  u.indEntry = at;
  return at;
}
