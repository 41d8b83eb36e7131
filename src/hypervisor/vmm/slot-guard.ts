/**
 * Hiding the VMM's own 4 MiB slot from the guest kernel: segment truncation, as VMware's VMM did
 * on 32-bit x86 (Bugnion et al., "Bringing Virtualization to the x86 Architecture with the Original
 * VMware Workstation", ACM TOCS 30(4), 2012; the reason AMD64 long mode, which drops segment
 * limits, first broke VMware's 64-bit guests).
 *
 * The real CPU reads the shadow GDT/LDT through linear addresses, so those pages must be mapped
 * while the guest runs, and the guest kernel runs at real ring 1 — a *supervisor* level for paging
 * (SDM Vol.3 §4.6.1): no page bit can tell its explicit reads from the CPU's implicit descriptor
 * reads. Segmentation can: descriptor-table reads use linear addresses directly, every guest access
 * goes through a segment. So the VMM keeps its slot at the top of the linear space and gives every
 * guest segment it shadows a limit that stops below it:
 *
 * - the shadow GDT/LDT descriptors (`truncateTable`) and the segment caches the VMM loads itself
 *   (`enforce`, after each event and before each run) cover at most `slotBase − 1 − base`;
 * - a guest access beyond that raises #GP(0) (#SS(0) through SS; SDM Vol.3 §5.3), which the VMM
 *   catches like any event. It then gives the access the guest's own view for one instruction
 *   (`startStep`): the segment caches get the guest's limits back, the slot's page-directory entry
 *   is handed to ordinary shadow paging (`ShadowPaging.vacate`), and the real TF is set. The
 *   instruction restarts: its access now walks the guest's page tables (a hidden fill, or the
 *   guest's own #PF with the CPU's CR2 and error code) and the #DB after it puts the slot and the
 *   truncation back (`endStep`). If it faults again with the guest's own limits, the #GP/#SS is
 *   the guest's and is reflected. No instruction emulator is needed: the real CPU performs the
 *   access, the VMM only changes which mapping and limits it sees for that one instruction.
 * - An instruction that itself reads descriptors (a segment load, far transfer, IRET, LAR/LSL/
 *   VERR/VERW) still needs the shadow GDT/LDT during its step: for it only the slot's pages
 *   outside the shadow tables are handed over.
 *
 * Not covered (README): expand-down data segments and segments whose base lies in the slot cannot
 * be truncated from above; LSL at guest ring 0 reads the truncated limit (a sensitive instruction
 * that does not trap — the silent-event observer logs it).
 */
import type { Cpu } from '../../cpu/index.ts';
import { AR_CODE, AR_DC, AR_S, AR_UNUSABLE } from './descriptors.ts';
import type { Vm } from './vm.ts';

const TF = 0x100;
const DB = 1;
const PF = 14;
const CS = 1;
const SEGS = 6;
const G = 0x800000;

/**
 * The limit a segment of base `base` may keep so that it ends below `slotBase` (byte-granular
 * value; `gran`: the descriptor counts in 4 KiB units, so the cut is rounded down to a page).
 * Returns `limit` unchanged when the segment already stops below the slot, -1 when it cannot be
 * truncated from above (its base lies in or above the slot).
 */
export function truncatedLimit(base: number, limit: number, slotBase: number, gran: boolean): number {
  const b = base >>> 0;
  const s = slotBase >>> 0;
  if (b >= s) return -1;
  const room = s - 1 - b; // highest offset below the slot
  if (limit >>> 0 <= room) return limit >>> 0;
  if (!gran) return room;
  const pages = Math.floor((room + 1) / 4096);
  return pages === 0 ? -1 : pages * 4096 - 1;
}

/** Expand-up segments only: an expand-down data segment covers the top of its range. */
function truncatable(ar: number): boolean {
  if (ar & AR_UNUSABLE || (ar & AR_S) === 0) return false;
  return (ar & AR_CODE) !== 0 || (ar & AR_DC) === 0;
}

/** True when the instruction in `b` reads descriptors from the GDT/LDT (SDM Vol.3 §3.4.3, §5.8). */
export function readsDescriptors(b: Uint8Array): boolean {
  let i = 0;
  // Prefixes: operand/address size, LOCK, REP, segment overrides.
  while (i < b.length && [0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65].includes(b[i]))
    i++;
  const op = b[i];
  const reg = ((b[i + 1] ?? 0) >> 3) & 7;
  switch (op) {
    case 0x8e: // MOV Sreg, r/m
    case 0x07: // POP ES
    case 0x17: // POP SS
    case 0x1f: // POP DS
    case 0xc4: // LES
    case 0xc5: // LDS
    case 0xea: // JMP ptr16:32
    case 0x9a: // CALL ptr16:32
    case 0xca: // RETF imm16
    case 0xcb: // RETF
    case 0xcf: // IRET
      return true;
    case 0xff: // CALL/JMP m16:32
      return reg === 3 || reg === 5;
    case 0x0f: {
      const op2 = b[i + 1];
      const reg2 = ((b[i + 2] ?? 0) >> 3) & 7;
      if (op2 === 0xa1 || op2 === 0xa9) return true; // POP FS/GS
      if (op2 === 0xb2 || op2 === 0xb4 || op2 === 0xb5) return true; // LSS/LFS/LGS
      if (op2 === 0x02 || op2 === 0x03) return true; // LAR/LSL
      if (op2 === 0x00) return reg2 === 4 || reg2 === 5; // VERR/VERW
      return false;
    }
    default:
      return false;
  }
}

/** Per-VM bookkeeping. */
interface GuardState {
  /** The guest's own limit of each segment cache the VMM truncated (by selector and base). */
  fullSel: Int32Array;
  fullBase: Int32Array;
  fullLimit: Float64Array;
  /** Guest limits of the shadow descriptors truncateTable cut, by table offset. */
  gdt: Map<number, number>;
  ldt: Map<number, number>;
  /** The guest's TF when the step began (it keeps it). */
  tf: number;
}

export class SlotGuard {
  private readonly st: GuardState[] = [];
  /** The current event ended a step because it faulted with the guest's own limits. */
  private ownFault = false;
  /**
   * Binary translation: guest kernel code never runs itself, the TC does, at real ring 1 and from
   * the slot. So at ring 1 CS keeps its full limit (the TC is fetched through it; the translator
   * rewrites every guest `cs:` data access), the segment register holding `vmmSel` is the VMM's own
   * full-limit data segment (the TC's way into its area; never cut), and an access beyond a cut
   * limit is not lent the slot but handed to `interpret`, which performs that one guest instruction
   * with the guest's own view (../binary-translation/interpreter.ts). Unset under trap-and-emulate.
   */
  tcRing = false;
  vmmSel = -1;
  interpret: ((vm: Vm, instrEip: number) => boolean) | null = null;

  constructor(private readonly cpu: Cpu) {}

  private state(vm: Vm): GuardState {
    let s = this.st[vm.index];
    if (s === undefined) {
      s = {
        fullSel: new Int32Array(SEGS).fill(-1),
        fullBase: new Int32Array(SEGS),
        fullLimit: new Float64Array(SEGS),
        gdt: new Map(),
        ldt: new Map(),
        tf: 0,
      };
      this.st[vm.index] = s;
    }
    return s;
  }

  /**
   * Cut every segment descriptor of a freshly built shadow GDT/LDT below the VMM's slot, keeping
   * each cut descriptor's own limit for the steps.
   */
  truncateTable(vm: Vm, which: 'gdt' | 'ldt', bytes: Uint8Array): void {
    const map = this.state(vm)[which];
    map.clear();
    const slotBase = vm.shadow.vmmBase;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let off = 0; off + 8 <= bytes.length; off += 8) {
      const lo = dv.getUint32(off, true);
      const hi = dv.getUint32(off + 4, true);
      if ((hi & 0x1000) === 0) continue; // system descriptors are not in the shadow
      const ar = (hi >>> 8) & 0xf0ff;
      if (!truncatable(ar)) continue;
      const base = ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
      const raw = (lo & 0xffff) | (hi & 0xf0000);
      const gran = (hi & G) !== 0;
      const limit = gran ? ((raw << 12) | 0xfff) >>> 0 : raw;
      const cut = truncatedLimit(base, limit, slotBase, gran);
      if (cut < 0 || cut === limit) continue;
      const nraw = gran ? cut >>> 12 : cut;
      dv.setUint32(off, ((lo & 0xffff0000) | (nraw & 0xffff)) >>> 0, true);
      dv.setUint32(off + 4, ((hi & ~0xf0000) | (nraw & 0xf0000)) >>> 0, true);
      map.set(off, limit);
    }
  }

  /**
   * Truncate the live segment caches (the VMM loads CS/SS itself on every delivery and IRET, and
   * the boot state is flat). Cheap when nothing changed: six compares.
   */
  enforce(vm: Vm): void {
    if (vm.slotStep) return;
    const cpu = this.cpu;
    const slotBase = vm.shadow.vmmBase;
    let st: GuardState | undefined;
    const keepCs = this.tcRing && cpu.cpl === 1;
    for (let s = 0; s < SEGS; s++) {
      const ar = cpu.segAr[s];
      if (!truncatable(ar) || cpu.segSel[s] === this.vmmSel) continue;
      if (s === CS && keepCs) {
        // The TC runs through CS: give back a cut a real IRET/RETF loaded from the shadow table.
        st ??= this.state(vm);
        const full = this.guestLimit(st, CS);
        if (full > cpu.segLim[CS] >>> 0) cpu.setSeg(CS, cpu.segSel[CS], cpu.segBase[CS], full, ar);
        continue;
      }
      const lim = cpu.segLim[s] >>> 0;
      const cut = truncatedLimit(cpu.segBase[s], lim, slotBase, (ar & 0x8000) !== 0);
      if (cut < 0 || cut === lim) continue;
      st ??= this.state(vm);
      st.fullSel[s] = cpu.segSel[s];
      st.fullBase[s] = cpu.segBase[s];
      st.fullLimit[s] = lim;
      cpu.setSeg(s, cpu.segSel[s], cpu.segBase[s], cut, ar);
    }
  }

  /** The guest's own limit of segment cache `s` of the running VM (its descriptor's, uncut). */
  guestLimitOf(vm: Vm, s: number): number {
    return this.guestLimit(this.state(vm), s);
  }

  /** The guest's own limit of segment cache `s` (its descriptor's, before truncation). */
  private guestLimit(st: GuardState, s: number): number {
    const cpu = this.cpu;
    const sel = cpu.segSel[s];
    const lim = cpu.segLim[s] >>> 0;
    if (st.fullSel[s] === sel && st.fullBase[s] === cpu.segBase[s] && st.fullLimit[s] > lim)
      return st.fullLimit[s];
    const table = sel & 4 ? st.ldt : st.gdt;
    const full = table.get(sel & 0xfff8);
    return full !== undefined && full > lim ? full : lim;
  }

  /**
   * A #GP(0)/#SS(0) the VMM's own emulation did not claim, or a fault in the slot: run the
   * instruction once more with the guest's limits and mapping (see the header). Returns false when
   * the fault is the guest's own (it already faulted that way during a step).
   */
  startStep(vm: Vm, instrEip: number): boolean {
    if (this.ownFault) {
      this.ownFault = false;
      return false;
    }
    const cpu = this.cpu;
    // Translated code runs from the slot: it cannot be lent away under its own instruction.
    if (this.interpret !== null && cpu.cpl === 1) return this.interpret(vm, instrEip);
    const st = this.state(vm);
    const lin = (cpu.segBase[CS] + instrEip) >>> 0;
    let bytes: Uint8Array;
    try {
      bytes = vm.mem.fetch(lin, 15);
    } catch {
      bytes = new Uint8Array(0); // the fetch itself lies in the slot: nothing to classify
    }
    for (let s = 0; s < SEGS; s++) {
      const full = this.guestLimit(st, s);
      if (full !== cpu.segLim[s] >>> 0) cpu.setSeg(s, cpu.segSel[s], cpu.segBase[s], full, cpu.segAr[s]);
    }
    vm.slotStep = true;
    st.tf = cpu.flags & TF;
    vm.shadow.vacate(readsDescriptors(bytes));
    this.flushSlot(vm);
    cpu.flags |= TF;
    cpu.attention = true;
    return true;
  }

  /**
   * Any event while a step runs. A #DB ends it (returns true: the VMM's own step, nothing for the
   * guest — unless the guest had TF set itself, then the #DB is also its own); a page fault the guest's tables allow is a hidden fill inside the step (it restarts
   * the same instruction); anything else ends the step first and is then handled normally (a
   * #GP/#SS is then the guest's own).
   */
  onEventInStep(vm: Vm, vector: number, faultAddr: number, errorCode: number): boolean {
    const cpu = this.cpu;
    if (vector === DB) {
      // The guest's own TF across the lent instruction: this #DB is its single-step trap too.
      const guestTf = this.state(vm).tf !== 0;
      if (!guestTf) cpu.dr[6] &= ~0x4000;
      this.endStep(vm);
      return !guestTf;
    }
    if (
      vector === PF &&
      vm.mem.walk(faultAddr >>> 0, (errorCode & 2) !== 0, (errorCode & 4) !== 0, false) === true
    )
      return false;
    this.endStep(vm);
    this.ownFault = true;
    return false;
  }

  /** The handler of this event is done: a later #GP is not "the one that ended a step". */
  eventDone(): void {
    this.ownFault = false;
  }

  /** Put the slot and the truncated limits back; the real TF is the guest's again. */
  endStep(vm: Vm): void {
    const cpu = this.cpu;
    const st = this.state(vm);
    vm.slotStep = false;
    vm.shadow.reoccupy();
    this.flushSlot(vm);
    if (!st.tf && !vm.vmmOwnsTf) cpu.flags &= ~TF;
    this.enforce(vm);
  }

  /** Drop the TLB's entries for the slot (its mapping changed hands). */
  private flushSlot(vm: Vm): void {
    const base = vm.shadow.vmmBase;
    for (let p = 0; p < 1024; p++) this.cpu.invlpg((base + p * 4096) >>> 0);
  }
}
