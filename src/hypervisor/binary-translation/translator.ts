/**
 * The translator: one translation unit (at most 12 guest instructions, ending at the first
 * control transfer) from guest kernel code into real IA-32 code in the TC (Adams & Agesen 2006).
 *
 *   IDENT            the guest bytes, unchanged
 *   CLI              mov byte ss:[area.vif], 0          (inline: the virtual IF lives in the area)
 *   Jcc / JMP rel    jcc rel32 / jmp rel32 → exit stub   (patched to the successor: chaining)
 *   CALL rel         push <guest return EIP>; jmp rel32 → exit stub
 *   LOOP/JECXZ rel8  loop +2; jmp +5; jmp → taken stub; jmp → fall-through stub
 *   sensitive        int 0xBB                            (callout: the VMM looks the TC address up)
 *   IRET             int 0xBB; iret                      (the VMM emulates a return to guest ring 0;
 *                                                          to guest ring 3 it resumes at the real IRET)
 *   CPUID            int 0xBB; cpuid                     (the physical CPU answers, as it would natively)
 *   unit end         jmp rel32 → exit stub
 *   exit stub        int 0xBB                            (translate the target, chain, continue)
 *
 * `int 0xBB` at real ring 1 is a real software interrupt: the CPU hands it to the VMM's monitor
 * like any other event; the VMM recognises it by its TC address (tc.sites), never by the vector.
 */
import { GuestPageFault } from '../vmm/guest-mem.ts';
import { Cls, Co, classify } from './classify.ts';
import { AREA_SCR, AREA_TARGET, AREA_VIF, type Exit, type TranslationCache, type Unit } from './tc.ts';

export const CALLOUT_VECTOR = 0xbb;
/** Most guest instructions per unit (VMware's limit). */
export const MAX_UNIT_INSNS = 12;
/** Upper bound of one unit's code: 12 × (15 bytes + a 10-byte rewrite) + 13 stubs. */
export const MAX_UNIT_BYTES = 12 * 25 + 13 * 2 + 16;

/** Guest code bytes as the guest kernel would fetch them (through its own page tables). */
export interface CodeSource {
  /** Up to `n` bytes at guest-linear `lin`, stopping at the first unmapped byte. */
  fetch(lin: number, n: number): Uint8Array;
  /** Guest-physical address of `lin`, or the #PF error code (as ~code) when the fetch would fault. */
  gpa(lin: number): number | null;
  /** Error code of a supervisor fetch fault at `lin`. */
  faultCode(lin: number): number;
}

const REWRITE_NAMES: Record<number, string> = {
  [Cls.Cli]: 'inline: clear the virtual IF',
  [Cls.Jcc]: 'jcc → successor',
  [Cls.Jmp]: 'jmp → successor',
  [Cls.Call]: 'push guest return EIP; jmp → successor',
  [Cls.Loop]: 'loop with re-targeted exits',
};

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
): Unit {
  const gpa0 = src.gpa(eip);
  if (gpa0 === null) throw new GuestPageFault(eip >>> 0, src.faultCode(eip));
  const u = tc.newUnit(eip >>> 0, gpa0, transient);
  const base = u.start;
  const buf: number[] = [];
  const pos = () => base + buf.length;
  const pending: { at: number; exit: Exit }[] = [];
  const pages = new Set<number>();
  const emit = (...b: number[]) => {
    for (const x of b) buf.push(x & 0xff);
  };
  const emit32 = (v: number) => emit(v, v >>> 8, v >>> 16, v >>> 24);
  /** A rel32 whose target is the stub of a new exit to guest `target`. */
  const exitRel32 = (target: number) => {
    const e: Exit = { target: target >>> 0, patch: pos(), stub: 0, linked: null, from: u };
    u.exits.push(e);
    pending.push({ at: buf.length, exit: e });
    emit32(0);
  };
  const jmpExit = (target: number) => {
    tc.mapInsn(pos(), target, true);
    emit(0xe9);
    exitRel32(target);
  };
  const site = (co: number, op: number, guest: number, bytes: Uint8Array, ends: boolean) => {
    const at = pos();
    tc.mapInsn(at, guest, true);
    emit(0xcd, CALLOUT_VECTOR);
    tc.sites.set(at, {
      co,
      op,
      guestEip: guest,
      len: bytes.length,
      resume: pos(),
      ends,
      bytes: bytes.slice(),
      unit: u,
      exit: null,
      count: 0,
    });
  };

  let cur = eip >>> 0;
  let ended = false;
  for (let n = 0; n < maxInsns && !ended; n++) {
    const bytes = src.fetch(cur, 15);
    const c = bytes.length > 0 ? classify(bytes, cur) : null;
    if (c === null || c.len > bytes.length) {
      if (n === 0) {
        // The first instruction runs off into an unmapped page: the guest's own fetch fault.
        const miss = (cur + bytes.length) >>> 0;
        throw new GuestPageFault(miss, src.faultCode(miss));
      }
      break; // translated up to here; the next unit faults for itself when reached
    }
    for (let k = 0; k < c.len; k += 4096 - ((cur + k) & 0xfff)) {
      const g = src.gpa((cur + k) >>> 0);
      if (g !== null) pages.add((g & ~0xfff) >>> 0);
    }
    const g = src.gpa((cur + c.len - 1) >>> 0);
    if (g !== null) pages.add((g & ~0xfff) >>> 0);
    const next = (cur + c.len) >>> 0;
    const ins = bytes.subarray(0, c.len);
    let how = '';
    u.insns++;
    u.guestBytes += c.len;
    switch (c.cls) {
      case Cls.Ident:
        tc.mapInsn(pos(), cur, true);
        emit(...ins);
        u.ident++;
        break;
      case Cls.Bad:
        // Undecodable: the CPU raises #UD on the very same bytes, at the guest EIP.
        tc.mapInsn(pos(), cur, true);
        emit(...ins);
        u.ident++;
        ended = true;
        break;
      case Cls.Cli:
        tc.mapInsn(pos(), cur, true);
        emit(0x36, 0xc6, 0x05);
        emit32((areaLin + AREA_VIF) >>> 0);
        emit(0);
        u.rewritten++;
        break;
      case Cls.Jcc: {
        const op = ins[c.opAt];
        const cc = op === 0x0f ? ins[c.opAt + 1] & 0xf : op & 0xf;
        tc.mapInsn(pos(), cur, true);
        emit(0x0f, 0x80 | cc);
        exitRel32(c.target);
        jmpExit(next);
        u.rewritten++;
        ended = true;
        break;
      }
      case Cls.Jmp:
        tc.mapInsn(pos(), cur, true);
        emit(0xe9);
        exitRel32(c.target);
        u.rewritten++;
        ended = true;
        break;
      case Cls.Call:
        tc.mapInsn(pos(), cur, true);
        emit(0x68);
        emit32(next);
        // After the push the guest state is half-way through the CALL: no interrupt there.
        tc.mapInsn(pos(), cur, false);
        emit(0xe9);
        exitRel32(c.target);
        u.rewritten++;
        ended = true;
        break;
      case Cls.Loop: {
        tc.mapInsn(pos(), cur, true);
        // Keep the address-size prefix (JCXZ vs JECXZ, CX vs ECX), drop any others.
        if (ins.subarray(0, c.opAt).includes(0x67)) emit(0x67);
        emit(ins[c.opAt], 2); // taken → +2
        tc.mapInsn(pos(), next, true);
        emit(0xeb, 5); // not taken → the fall-through jump
        jmpExit(c.target);
        jmpExit(next);
        u.rewritten++;
        ended = true;
        break;
      }
      case Cls.CalloutEnd:
        if (c.co === Co.Ret && c.opAt === 0 && tc.missStub >= 0) {
          // Inline RET (VMware's indirect-branch lookup): pop the guest target, index the
          // lookup table with its low 16 bits and jump through it — to the target unit's entry
          // check, or to the miss stub (a callout). ECX is borrowed (saved in the area); flags untouched.
          tc.mapInsn(pos(), cur, true);
          emit(0x36, 0x89, 0x0d);
          emit32((areaLin + AREA_SCR) >>> 0); // mov ss:[scr], ecx
          tc.mapInsn(pos(), cur, true); // the POP is the only instruction that can fault
          emit(0x59); // pop ecx
          tc.mapInsn(pos(), cur, false);
          if (ins[0] === 0xc2) {
            emit(0x8d, 0xa4, 0x24); // lea esp, [esp + imm16]
            emit32(ins[1] | (ins[2] << 8));
          }
          emit(0x36, 0x89, 0x0d);
          emit32((areaLin + AREA_TARGET) >>> 0); // mov ss:[target], ecx
          emit(0x0f, 0xb7, 0xc9); // movzx ecx, cx
          emit(0x36, 0xff, 0x24, 0x8d);
          emit32(tableLin); // jmp ss:[table + ecx*4]
          u.rewritten++;
          how = 'inline lookup';
          ended = true;
          break;
        }
        site(c.co, c.op, cur, ins, true);
        if (c.co === Co.Iret) {
          // A return to guest ring 3 continues here: a real IRET (its faults are the guest's).
          tc.mapInsn(pos(), cur, true);
          emit(0xcf);
        }
        u.rewritten++;
        how = 'callout';
        ended = true;
        break;
      case Cls.Callout:
        site(c.co, c.op, cur, ins, false);
        if (c.co === Co.Cpuid) {
          // The physical CPU answers; after it the guest is at the next instruction.
          tc.mapInsn(pos(), cur, true);
          emit(0x0f, 0xa2);
        }
        u.rewritten++;
        how = 'callout';
        break;
    }
    u.listing.push({
      eip: cur,
      len: c.len,
      text: c.text,
      rewritten: c.cls === Cls.Ident ? '' : how || REWRITE_NAMES[c.cls] || 'rewritten',
    });
    cur = next;
  }
  if (!ended) jmpExit(cur);
  // Exit stubs after the body: each a callout the VMM recognises by its address.
  for (const p of pending) {
    const stub = pos();
    p.exit.stub = stub;
    tc.mapInsn(stub, p.exit.target, true);
    emit(0xcd, CALLOUT_VECTOR);
    tc.sites.set(stub, {
      co: Co.Exit,
      op: 0,
      guestEip: p.exit.target,
      len: 0,
      resume: pos(),
      ends: true,
      bytes: new Uint8Array(0),
      unit: u,
      exit: p.exit,
      count: 0,
    });
    const rel = (stub - (base + p.at + 4)) | 0;
    buf[p.at] = rel & 0xff;
    buf[p.at + 1] = (rel >>> 8) & 0xff;
    buf[p.at + 2] = (rel >>> 16) & 0xff;
    buf[p.at + 3] = (rel >>> 24) & 0xff;
  }
  u.pages = [...pages];
  u.end = base + buf.length;
  tc.write(base, buf);
  tc.commit(u);
  return u;
}

/** The shared miss stub of the RET lookup: restore the guest's ECX, call out (Co.IndMiss). */
export function emitMissStub(tc: TranslationCache, areaLin: number): number {
  const at = tc.used;
  const b: number[] = [0x36, 0x8b, 0x0d];
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
  b.push(0x36, 0x8b, 0x0d);
  d32((areaLin + AREA_TARGET) >>> 0); // mov ecx, ss:[target]
  b.push(0x8d, 0x89);
  d32(-u.guestEip | 0); // lea ecx, [ecx - guest EIP]
  b.push(0xe3, 0x05); // jecxz hit
  b.push(0xe9);
  d32((tc.missStub - (at + b.length + 4)) | 0); // jmp miss
  b.push(0x36, 0x8b, 0x0d);
  d32((areaLin + AREA_SCR) >>> 0); // hit: mov ecx, ss:[scr]
  b.push(0xe9);
  d32((u.start - (at + b.length + 4)) | 0); // jmp unit
  tc.mapInsn(at, u.guestEip, false);
  tc.write(at, b);
  tc.used = at + b.length;
  u.indEntry = at;
  return at;
}
