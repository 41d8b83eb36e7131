/**
 * Binary translation (VMware's VMM; Adams & Agesen, ASPLOS 2006; Bugnion et al., TOCS 2012):
 * guest kernel code (virtual CPL 0) never runs directly. It is translated on demand into a
 * translation cache of real IA-32 code (translator.ts, tc.ts) that the CPU executes at real
 * ring 1; guest user code runs directly at ring 3, as under trap-and-emulate. The shared VMM model
 * (shadow paging, devices, delivery, the privileged-instruction emulation of trap-and-emulate) is
 * reused: this class extends TrapAndEmulate and changes where kernel code runs.
 *
 * Invariants:
 * - While the CPU runs a VM at ring 1, its EIP is in the TC. Every entry into the VMM (a callout,
 *   a fault inside the TC, an interrupt injection at a boundary) first puts the guest's EIP back
 *   (tc.toGuest), the shared code then sees exactly the guest's state, and on the way out the
 *   VMM dispatches the guest EIP to its translation (`leave`). No TC address reaches the guest.
 * - The virtual IF lives in the VM's virtual-CPU area (the inline CLI clears it there); the VMM
 *   copies it to `vm.v.if` on entry and back on exit (`syncIn`/`syncOut`).
 * - Interrupts are injected only where the TC position is a guest instruction boundary (`exact`).
 */
import { EventKind, type SilentKind, type TrapEvent } from '../../cpu/index.ts';
import { TrapAndEmulate } from '../trap-and-emulate/trap-emulate.ts';
import { decode } from '../vmm/decode.ts';
import { emulateIret, GuestFault, Unvirtualizable } from '../vmm/deliver.ts';
import { GuestPageFault } from '../vmm/guest-mem.ts';
import { TrapAction, TrapKind, TrapOp } from '../vmm/trap-log.ts';
import type { Vm } from '../vmm/vm.ts';
import type { Vmm } from '../vmm/vmm.ts';
import {
  descriptorCheck,
  farReturn,
  farTransfer,
  indirectTarget,
  popBytes,
  popf,
  push,
  pushf,
  readStack,
  storeRm16,
  storeTable,
  virtualSelector,
  ZF,
} from './callouts.ts';
import { adaptableStore, Cls, Co, classify } from './classify.ts';
import {
  AREA_FADJ,
  AREA_IOPL,
  AREA_PAGE,
  AREA_PENDING,
  AREA_TARGET,
  AREA_VIF,
  type Site,
  TABLE_ENTRIES,
  TABLE_PAGE,
  TABLE_PAGES,
  TC_PAGE,
  TC_PAGES,
  TranslationCache,
  type Unit,
} from './tc.ts';
import {
  CALLOUT_VECTOR,
  type CodeSource,
  emitIndEntry,
  emitMissStub,
  MAX_UNIT_BYTES,
  translateUnit,
} from './translator.ts';

const CS = 1;
const SS = 2;
const PF = 14;
const GP = 13;
const DB = 1;

/** Per-VM translator state. */
export interface BtState {
  tc: TranslationCache;
  /** Host frame of the virtual-CPU area. */
  area: number;
  /** Host frames of the RET lookup table. */
  table: number[];
  /** VMM slot base the TC was built for (a move flushes it). */
  base: number;
  /** The virtual-IF byte as the VMM last wrote it (a difference means the TC's CLI ran). */
  lastVif: number;
  /** Guest-physical pages write-protected because they hold translated code. */
  protectedPages: Set<number>;
  src: CodeSource;
  stats: {
    indirect: number;
    exits: number;
    transient: number;
    invalidations: number;
    /** Adaptive store callouts (open + close pairs) and the stores that hit translated bytes. */
    adaptiveStores: number;
    adaptiveHits: number;
  };
  /** Coherence faults per guest store EIP (adaptive translation watches these). */
  hot: Map<number, number>;
  /** Guest EIPs of stores retranslated into callouts (A&A's adaptive translation). */
  adaptive: Set<number>;
  /** Pages an adaptive store has open (linear page, guest-physical write address, size), in fours. */
  open: number[];
}

/** Coherence faults from one guest instruction before it is retranslated (A&A adapt after a few). */
export const ADAPT_AFTER = 4;

export class BinaryTranslation extends TrapAndEmulate {
  readonly bt: BtState[] = [];
  private inEvent = false;
  /** Where to continue after this VMM entry if the guest EIP did not move (and no unit died). */
  private resumeGuest = -1;
  private resumeTc = -1;
  private entryEpoch = 0;
  /** The handler has put a TC address in EIP itself. */
  private placed = false;
  /** The next dispatch re-runs one instruction from a transient unit (its page was just written). */
  private transientNext = false;
  private readonly ev: TrapEvent = {
    vector: 0,
    kind: EventKind.Exception,
    errorCode: -1,
    eip: 0,
    instrEip: 0,
    length: 0,
    faultAddr: 0,
  };

  constructor(vmm: Vmm) {
    super(vmm);
    const ram = vmm.pc.memory.ram;
    for (const vm of vmm.vms) {
      const area = vmm.frames.alloc();
      vm.shadow.mapVmmPage(AREA_PAGE, area, true);
      const frames: number[] = [];
      for (let i = 0; i < TC_PAGES; i++) {
        const f = vmm.frames.alloc();
        frames.push(f);
        vm.shadow.mapVmmPage(TC_PAGE + i, f, false);
      }
      const table: number[] = [];
      for (let i = 0; i < TABLE_PAGES; i++) {
        const f = vmm.frames.alloc();
        table.push(f);
        vm.shadow.mapVmmPage(TABLE_PAGE + i, f, false);
      }
      const tc = new TranslationCache(ram, frames, (h, n) => this.cpu.codeWritten(h, n));
      const prev = vm.mem.onWrite;
      vm.mem.onWrite = (h, n) => {
        prev?.(h, n);
        this.vmmWrote(vm, h);
      };
      const b: BtState = {
        tc,
        area,
        table,
        base: vm.shadow.vmmBase,
        lastVif: 0,
        protectedPages: new Set(),
        src: codeSource(vm),
        stats: { indirect: 0, exits: 0, transient: 0, invalidations: 0, adaptiveStores: 0, adaptiveHits: 0 },
        hot: new Map(),
        adaptive: new Set(),
        open: [],
      };
      tc.onKill = (u) => this.unhookIndirect(vm, b, u);
      this.bt.push(b);
      this.resetIndirect(vm, b);
    }
  }

  // ---- the RET lookup table in the area (inline indirect branches) ----

  private readArea32(b: BtState, off: number): number {
    const r = this.vmm.pc.memory.ram;
    const a = b.area + off;
    return (r[a] | (r[a + 1] << 8) | (r[a + 2] << 16) | (r[a + 3] << 24)) >>> 0;
  }

  tableLinear(vm: Vm): number {
    return (vm.shadow.vmmBase + TABLE_PAGE * 4096) >>> 0;
  }
  private tableEntry(b: BtState, i: number): number {
    return b.table[i >>> 10] + 4 * (i & 1023);
  }
  private writeTable(b: BtState, i: number, v: number): void {
    const r = this.vmm.pc.memory.ram;
    const a = this.tableEntry(b, i);
    r[a] = v & 0xff;
    r[a + 1] = (v >>> 8) & 0xff;
    r[a + 2] = (v >>> 16) & 0xff;
    r[a + 3] = (v >>> 24) & 0xff;
  }

  /** A fresh TC: emit the miss stub and point every table entry at it. */
  private resetIndirect(vm: Vm, b: BtState): void {
    const stub = (this.tcLinear(vm) + emitMissStub(b.tc, this.areaLinear(vm))) >>> 0;
    const r32 = new Int32Array(this.vmm.pc.memory.ram.buffer, this.vmm.pc.memory.ram.byteOffset);
    for (const f of b.table) r32.fill(stub | 0, f >>> 2, (f >>> 2) + 1024);
  }

  /** A unit died: the one table entry that could lead to its entry check goes back to the miss stub. */
  private unhookIndirect(vm: Vm, b: BtState, u: Unit): void {
    const tcLin = this.tcLinear(vm);
    const i = u.guestEip & (TABLE_ENTRIES - 1);
    const a = this.tableEntry(b, i);
    const r = this.vmm.pc.memory.ram;
    const cur = (r[a] | (r[a + 1] << 8) | (r[a + 2] << 16) | (r[a + 3] << 24)) >>> 0;
    if (cur === (tcLin + u.indEntry) >>> 0) this.writeTable(b, i, (tcLin + b.tc.missStub) >>> 0);
  }

  /** The inline RET lookup missed: find (or translate) the target, enter it in the table, go there. */
  private indirectMiss(vm: Vm, b: BtState): void {
    const cpu = this.cpu;
    const tc = b.tc;
    const target = this.readArea32(b, AREA_TARGET);
    this.chargeLookup(vm, b);
    cpu.eip = target;
    cpu.ip = target;
    this.checkFlat(vm);
    let u: Unit;
    try {
      u = this.unitFor(vm, b, target);
    } catch (e) {
      if (!(e instanceof GuestPageFault)) throw e;
      vm.v.cr2 = e.lin;
      this.reflect(vm, PF, e.errorCode, target, false, target, 0);
      return;
    }
    if (u.indEntry < 0) {
      if (tc.used + 64 > tc.size) this.flushTc(vm, b, 1);
      else emitIndEntry(tc, u, this.areaLinear(vm));
    }
    const tcLin = this.tcLinear(vm);
    if (u.valid && u.gen === tc.gen && u.indEntry >= 0)
      this.writeTable(b, target & (TABLE_ENTRIES - 1), (tcLin + u.indEntry) >>> 0);
    this.injectPending(vm);
    if (cpu.ip >>> 0 === target && cpu.cpl === 1 && u.valid && u.gen === tc.gen) {
      const to = (tcLin + u.start) >>> 0;
      cpu.eip = to;
      cpu.ip = to;
      this.placed = true;
    }
  }

  /** Frames each VM needs for the TC and its area (VmmOptions.reservedFramesPerVm). */
  static readonly FRAMES_PER_VM = TC_PAGES + TABLE_PAGES + 1;

  tcLinear(vm: Vm): number {
    return (vm.shadow.vmmBase + TC_PAGE * 4096) >>> 0;
  }
  areaLinear(vm: Vm): number {
    return (vm.shadow.vmmBase + AREA_PAGE * 4096) >>> 0;
  }

  /** The guest EIP the CPU stands for (its TC EIP mapped back), for snapshots and tests. */
  guestEip(vm: Vm, eip: number, cpl: number): number {
    if (cpl !== 1) return eip >>> 0;
    const off = (eip - this.tcLinear(vm)) >>> 0;
    const b = this.bt[vm.index];
    if (off >= b.tc.size) return eip >>> 0;
    return b.tc.toGuest(off)?.guest ?? eip >>> 0;
  }

  /** True when `eip` at ring 1 is inside this VM's TC. */
  inTc(vm: Vm, eip: number): boolean {
    return (eip - this.tcLinear(vm)) >>> 0 < this.bt[vm.index].tc.size;
  }

  // ---- the virtual IF in the area ----

  /** The virtual IF as the TC left it (area.vif holds 0x200 or 0: its byte 1 is 2 or 0). */
  areaVif(vm: Vm): boolean {
    return this.vmm.pc.memory.ram[this.bt[vm.index].area + AREA_VIF + 1] !== 0;
  }

  private syncIn(vm: Vm, b: BtState): void {
    const ram = this.vmm.pc.memory.ram;
    const cur = ram[b.area + AREA_VIF + 1];
    if (cur !== b.lastVif) {
      vm.v.if = cur !== 0;
      b.lastVif = cur;
    }
  }
  /** Everything the inline sequences read from the area, as the VMM now sees it. */
  private syncOut(vm: Vm, b: BtState): void {
    const v = vm.v.if ? 2 : 0;
    const ram = this.vmm.pc.memory.ram;
    ram[b.area + AREA_VIF + 1] = v;
    b.lastVif = v;
    const iopl = (vm.v.iopl & 3) << 12;
    const tf = vm.vmmOwnsTf && (this.cpu.flags & 0x100) !== 0 ? 0x100 : 0;
    this.writeArea32(b, AREA_IOPL, iopl);
    this.writeArea32(b, AREA_FADJ, iopl - 0x200 - tf);
    ram[b.area + AREA_PENDING] = vm.devices.pic.hasInterrupt() ? 1 : 0;
  }
  private writeArea32(b: BtState, off: number, v: number): void {
    const r = this.vmm.pc.memory.ram;
    const a = b.area + off;
    r[a] = v & 0xff;
    r[a + 1] = (v >>> 8) & 0xff;
    r[a + 2] = (v >>> 16) & 0xff;
    r[a + 3] = (v >>> 24) & 0xff;
  }

  /** Before each run of the CPU: the pending-interrupt byte may have changed (serial input). */
  beforeRun(vm: Vm): void {
    const b = this.bt[vm.index];
    this.vmm.pc.memory.ram[b.area + AREA_PENDING] = vm.devices.pic.hasInterrupt() ? 1 : 0;
  }

  // ---- events ----

  override onGuestEvent(vm: Vm, ev: TrapEvent): void {
    const cpu = this.cpu;
    const b = this.bt[vm.index];
    this.syncIn(vm, b);
    this.resumeGuest = -1;
    this.resumeTc = -1;
    this.placed = false;
    this.transientNext = false;
    this.entryEpoch = b.tc.epoch;
    let skipLeave = false;
    this.inEvent = true;
    try {
      const tcLin = this.tcLinear(vm);
      const offI = (ev.instrEip - tcLin) >>> 0;
      const offE = (ev.eip - tcLin) >>> 0;
      // An adaptive store's page is open only across the store itself: anything else first shuts it
      // (a store that faulted wrote nothing; it re-runs, and faults as before if it must).
      if (b.open.length > 0 && b.tc.sites.get(offI)?.co !== Co.StoreClose) this.closeStore(vm, b, false);
      if (cpu.cpl === 1 && (offI < b.tc.size || offE < b.tc.size)) {
        if (ev.kind === EventKind.Software && ev.vector === CALLOUT_VECTOR) {
          const site = b.tc.sites.get(offI);
          if (site) {
            this.callout(vm, b, site);
            return;
          }
        }
        // A fault or trap raised by translated code: the guest sees its own EIP.
        const mE = offE < b.tc.size ? b.tc.toGuest(offE) : null;
        const mI = offI < b.tc.size ? b.tc.toGuest(offI) : mE;
        if (!mE || !mI)
          throw new Error(`event inside the TC at an untranslated address 0x${ev.eip.toString(16)}`);
        if (ev.kind === EventKind.Exception && ev.vector === DB && vm.vmmTf && !vm.gdtStep && !mE.exact) {
          // The STI window closes on a guest instruction boundary: keep stepping through the rewrite.
          cpu.dr[6] &= ~0x4000;
          skipLeave = true;
          return;
        }
        // A fault at a precise point of a sequence restarts there (the guest state is whole; a
        // hidden fault leaves it so); anything else resumes only at a guest boundary.
        if (mE.exact || (mE.precise && offE === offI && ev.kind === EventKind.Exception)) {
          this.resumeGuest = mE.guest;
          this.resumeTc = offE;
        }
        cpu.eip = mE.guest;
        cpu.ip = mE.guest;
        const e = this.ev;
        e.vector = ev.vector;
        e.kind = ev.kind;
        e.errorCode = ev.errorCode;
        e.eip = mE.guest;
        e.instrEip = mI.guest;
        e.length = ev.length;
        e.faultAddr = ev.faultAddr;
        super.onGuestEvent(vm, e);
      } else {
        super.onGuestEvent(vm, ev);
      }
    } finally {
      this.inEvent = false;
      if (!skipLeave) this.leave(vm, b);
      else this.syncOut(vm, b);
    }
  }

  override onSilent(vm: Vm, kind: SilentKind, eip: number, cpl: number, value: number, extra: number): void {
    // At ring 1 only the VMM's own code runs (the real IRET of a return to guest user mode):
    // every sensitive guest kernel instruction was rewritten. Guest user mode is judged as before.
    if (cpl === 1) return;
    super.onSilent(vm, kind, eip, cpl, value, extra);
  }

  override injectPending(vm: Vm): void {
    if (this.inEvent || this.vmm.current !== vm.index) {
      super.injectPending(vm);
      return;
    }
    // From the VMM's boundary: the CPU may be anywhere in the TC.
    const cpu = this.cpu;
    const b = this.bt[vm.index];
    this.syncIn(vm, b);
    this.resumeGuest = -1;
    this.resumeTc = -1;
    this.placed = false;
    this.transientNext = false;
    this.entryEpoch = b.tc.epoch;
    if (cpu.cpl === 1) {
      // At a boundary `ip` is the next instruction (`eip` may still name the last one retired).
      const off = (cpu.ip - this.tcLinear(vm)) >>> 0;
      if (off < b.tc.size && b.base === vm.shadow.vmmBase) {
        const wants = vm.v.if && vm.state === 'runnable' && !vm.gdtStep && vm.devices.pic.hasInterrupt();
        if (!wants) {
          this.syncOut(vm, b);
          return;
        }
        const m = b.tc.toGuest(off);
        if (!m?.exact) {
          // Inside a rewritten sequence: the interrupt waits for the next boundary.
          this.syncOut(vm, b);
          return;
        }
        cpu.eip = m.guest;
        cpu.ip = m.guest;
        this.resumeGuest = m.guest;
        this.resumeTc = off;
      }
    }
    this.inEvent = true;
    try {
      super.injectPending(vm);
    } finally {
      this.inEvent = false;
      this.leave(vm, b);
    }
  }

  /**
   * Leaving the VMM: a guest at ring 1 goes back into the TC — where it was if nothing moved, else
   * to the translation of its current EIP (translated now if need be).
   */
  private leave(vm: Vm, b: BtState): void {
    const cpu = this.cpu;
    try {
      if (this.vmm.current !== vm.index) return;
      if (b.base !== vm.shadow.vmmBase) {
        // The VMM moved its region (address-space compression): every TC address changed.
        this.flushTc(vm, b, 2);
        b.base = vm.shadow.vmmBase;
      }
      if (vm.terminal || cpu.cpl !== 1 || this.placed) return;
      const eip = cpu.ip >>> 0;
      if (this.resumeTc >= 0 && eip === this.resumeGuest && b.tc.epoch === this.entryEpoch) {
        const to = (this.tcLinear(vm) + this.resumeTc) >>> 0;
        cpu.eip = to;
        cpu.ip = to;
        return;
      }
      this.dispatch(vm, b, eip, this.transientNext);
    } catch (e) {
      if (e instanceof Unvirtualizable) this.vmm.vmCannotContinue(vm, e);
      else throw e;
    } finally {
      this.transientNext = false;
      this.placed = false;
      this.syncOut(vm, b);
      if (vm.state !== 'runnable') this.vmm.requestStop();
    }
  }

  /** Put the CPU at the translation of guest `eip` (translating it if needed). */
  private dispatch(vm: Vm, b: BtState, eip: number, transient: boolean): void {
    const cpu = this.cpu;
    for (let guard = 0; ; guard++) {
      this.checkFlat(vm);
      try {
        const u = this.unitFor(vm, b, eip, transient);
        const to = (this.tcLinear(vm) + u.start) >>> 0;
        cpu.eip = to;
        cpu.ip = to;
        return;
      } catch (e) {
        if (!(e instanceof GuestPageFault) || guard >= 3) throw e;
        // Fetching the guest's code faulted: the guest's own #PF, at that EIP.
        vm.v.cr2 = e.lin;
        this.reflect(vm, PF, e.errorCode, eip, false, eip, 0);
        if (cpu.cpl !== 1) return;
        eip = cpu.ip >>> 0;
        transient = false;
      }
    }
  }

  /** Translated code needs a flat 32-bit kernel CS and SS (its VMM references are absolute). */
  private checkFlat(vm: Vm): void {
    const cpu = this.cpu;
    const flat = (s: number) => cpu.segBase[s] === 0 && cpu.segLim[s] >= 0xffffffff;
    if (!cpu.code32 || !flat(CS) || !flat(SS)) {
      throw new Unvirtualizable(
        `binary translation runs guest kernel code with flat 32-bit CS and SS only (CS base 0x${(cpu.segBase[CS] >>> 0).toString(16)}, ` +
          `SS base 0x${(cpu.segBase[SS] >>> 0).toString(16)}, ${cpu.code32 ? '32' : '16'}-bit code) in VM ${vm.index}`,
      );
    }
  }

  /** The live unit for guest `eip`, translated now if there is none. */
  unitFor(vm: Vm, b: BtState, eip: number, transient = false): Unit {
    const tc = b.tc;
    if (!transient) {
      const u = tc.units.get(eip);
      if (u?.valid && u.gen === tc.gen && vm.mem.peek(eip) === u.gpa) {
        u.dispatches++;
        return u;
      }
    }
    if (tc.used + MAX_UNIT_BYTES > tc.size) this.flushTc(vm, b, 1);
    const u = translateUnit(
      tc,
      b.src,
      eip,
      this.areaLinear(vm),
      transient,
      transient ? 1 : undefined,
      this.tableLinear(vm),
      b.adaptive,
    );
    if (transient) b.stats.transient++;
    else this.protect(vm, b, u);
    u.dispatches++;
    this.vmm.record(
      vm,
      TrapKind.Translation,
      0,
      TrapAction.Translated,
      this.vmm.cost.btTranslate + this.vmm.cost.btPerInsn * u.insns,
      0,
      u.insns,
      u.end - u.start,
      u.ident,
      (this.tcLinear(vm) + u.start) >>> 0,
      eip,
    );
    const first = vm.mem.fetch(eip, u.listing[0]?.len ?? 1);
    this.vmm.log.setInstruction(first, 0, first.length);
    return u;
  }

  /** Write-protect (in every shadow alias) the guest pages a new unit was translated from. */
  private protect(vm: Vm, b: BtState, u: Unit): void {
    for (const p of u.pages) {
      if (b.protectedPages.has(p)) continue;
      b.protectedPages.add(p);
      const host = vm.map.toHost(p);
      if (host < 0) continue;
      for (const lin of vm.shadow.writeProtectFrame(host)) this.cpu.invlpg(lin);
    }
  }

  /** Empty the TC (reason 1: full, 2: the VMM region moved, 3: VM reset). */
  private flushTc(vm: Vm, b: BtState, reason: number): void {
    const units = b.tc.units.size;
    const used = b.tc.used;
    b.tc.flush();
    b.protectedPages.clear();
    this.resetIndirect(vm, b);
    this.vmm.record(
      vm,
      TrapKind.TcFlush,
      reason,
      TrapAction.Dropped,
      this.vmm.cost.tcFlush + this.vmm.cost.perUnit * units,
      0,
      units,
      used,
      0,
      0,
    );
  }

  /** Drop the translations of guest-physical page `page` (a write is about to land there). */
  private invalidatePage(vm: Vm, b: BtState, page: number, lin: number): void {
    const n = b.tc.invalidatePage(page);
    b.protectedPages.delete(page);
    b.stats.invalidations++;
    this.vmm.record(
      vm,
      TrapKind.TcInvalidate,
      0,
      TrapAction.Dropped,
      this.vmm.cost.tcInvalidate + this.vmm.cost.perUnit * n,
      0,
      page,
      n,
      lin,
      0,
    );
  }

  /** The VMM itself stored into guest RAM (emulation, frames): keep the TC coherent too. */
  private vmmWrote(vm: Vm, host: number): void {
    const b = this.bt[vm.index];
    if (!b || b.protectedPages.size === 0) return;
    const gpa = host - vm.map.sliceBase;
    if (gpa < 0 || gpa >= vm.map.memBytes) return;
    const page = (gpa & ~0xfff) >>> 0;
    if (b.protectedPages.has(page)) this.invalidatePage(vm, b, page, this.cpu.eip >>> 0);
  }

  protected override pageFault(vm: Vm, ev: TrapEvent): void {
    const b = this.bt[vm.index];
    const lin = ev.faultAddr >>> 0;
    const write = (ev.errorCode & 2) !== 0;
    const user = (ev.errorCode & 4) !== 0;
    let page = -1;
    if (
      b.protectedPages.size > 0 &&
      !vm.shadow.inVmmRegion(lin) &&
      vm.mem.walk(lin, write, user, false) === true
    ) {
      const p = (vm.mem.info.gpa & ~0xfff) >>> 0;
      if (b.protectedPages.has(p)) page = p;
    }
    if (page >= 0 && write && this.cpu.cpl === 1) this.countCoherenceFault(vm, b, ev, lin, page);
    if (page >= 0 && write) {
      this.invalidatePage(vm, b, page, lin);
      // The store re-runs alone, from a unit that protects nothing, so it cannot fault again.
      if (this.cpu.cpl === 1) this.transientNext = true;
    }
    super.pageFault(vm, ev);
    if (page >= 0 && !write) {
      vm.shadow.writeProtect(lin);
      this.cpu.invlpg(lin);
    }
  }

  // ---- callouts ----

  private callout(vm: Vm, b: BtState, site: Site): void {
    const cpu = this.cpu;
    const vmm = this.vmm;
    site.count++;
    b.tc.stats.callouts++;
    this.stiShadow = false;
    vmm.eventCpl = 0;
    vmm.eventCs = cpu.segSel[CS] & ~3;
    if (vm.gdtStep) this.finishGdtWrite(vm);
    if (vm.vmmTf) this.interruptWindow(vm);
    const eip = site.guestEip;
    cpu.eip = eip;
    cpu.ip = eip;
    try {
      if (site.co === Co.Exit) {
        this.exit(vm, b, site);
        return;
      }
      if (site.co === Co.IndMiss) {
        this.indirectMiss(vm, b);
        return;
      }
      if (site.co === Co.StoreOpen || site.co === Co.StoreClose) {
        // No interrupt between the two: the page is open only for the store.
        if (site.co === Co.StoreOpen) this.openStore(vm, b, site);
        else this.closeStore(vm, b, true);
        this.vmm.charge(vm, this.vmm.cost.btCallout);
        this.resumeGuest = site.guestEip;
        this.resumeTc = site.resume;
        return;
      }
      const next = (eip + site.len) >>> 0;
      const ins = site.bytes;
      if (site.co === Co.Ret) {
        // The hottest callout: no decoding (the opcode is known), one guest page walk.
        let p = 0;
        let size = 4;
        while (ins[p] !== 0xc3 && ins[p] !== 0xc2) if (ins[p++] === 0x66) size = 2;
        const op = ins[p];
        const t = readStack(cpu, vm, size);
        const extra = op === 0xc2 ? ins[site.len - 2] | (ins[site.len - 1] << 8) : 0;
        popBytes(cpu, size + extra);
        cpu.eip = t;
        cpu.ip = t;
        this.chargeLookup(vm, b);
        if (vm.state === 'runnable') this.injectPending(vm);
        return;
      }
      const bytes = ins;
      const insn = decode(bytes, true, cpu.regs);
      if (!insn) return;
      const goNext = () => {
        cpu.eip = next;
        cpu.ip = next;
      };
      const logCo = (op: number, before: number, after: number, extra = 0) => {
        vmm.record(
          vm,
          TrapKind.Callout,
          op,
          TrapAction.Emulated,
          this.vmm.cost.btCallout + extra,
          0,
          before,
          after,
          0,
          0,
          eip,
        );
        vmm.log.setInstruction(ins, 0, ins.length);
      };
      switch (site.co) {
        case Co.Privileged: {
          const before = vmm.log.total;
          if (!this.emulate(vm, insn, eip, bytes)) {
            this.reflect(vm, GP, 0, eip, false, eip, site.len);
            break;
          }
          if (vmm.log.total > before) this.rebate(vm);
          break;
        }
        case Co.Pushf: {
          const img = pushf(cpu, vm, insn.opsz32);
          goNext();
          logCo(TrapOp.PUSHF, img, vm.v.if ? 1 : 0);
          break;
        }
        case Co.Popf: {
          const was = vm.v.if ? 1 : 0;
          const img = popf(cpu, vm, insn.opsz32, (on) => this.setVirtualIf(vm, on));
          goNext();
          logCo(TrapOp.POPF, was, img);
          break;
        }
        case Co.Int: {
          if (insn.opcode === 0xce) {
            if (!cpu.cond(0)) {
              goNext();
              logCo(TrapOp.INT, 4, 0);
              break;
            }
            this.reflect(vm, 4, -1, next, true, eip, site.len);
          } else if (insn.opcode === 0xf1) this.reflect(vm, DB, -1, next, false, eip, site.len);
          else if (insn.opcode === 0xcc) this.reflect(vm, 3, -1, next, true, eip, site.len);
          else this.reflect(vm, insn.imm, -1, next, true, eip, site.len);
          break;
        }
        case Co.Iret:
          if (emulateIret(cpu, vm, insn.opsz32)) {
            logCo(TrapOp.IRET, eip, cpu.eip >>> 0, 200);
          } else {
            // A return to guest ring 3: the real IRET right after the callout does it.
            this.resumeGuest = eip;
            this.resumeTc = site.resume;
          }
          break;
        case Co.JmpInd:
        case Co.CallInd: {
          const t = indirectTarget(vm, cpu, insn);
          if (site.co === Co.CallInd) push(cpu, vm, insn.opsz32 ? 4 : 2, next);
          cpu.eip = t;
          cpu.ip = t;
          this.chargeLookup(vm, b);
          break;
        }
        case Co.Far:
          this.far(vm, insn, ins, site, next);
          logCo(site.op, eip, cpu.eip >>> 0, 300);
          break;
        case Co.StoreSys: {
          const v = vm.v;
          let val = 0;
          if (site.op === TrapOp.SGDT) storeTable(vm, cpu, insn, v.gdtr);
          else if (site.op === TrapOp.SIDT) storeTable(vm, cpu, insn, v.idtr);
          else if (site.op === TrapOp.SMSW) {
            val = v.cr0 >>> 0;
            if (insn.mod === 3 && insn.opsz32) cpu.regs[insn.rm] = val;
            else storeRm16(vm, cpu, insn, val);
          } else {
            val = site.op === TrapOp.SLDT ? v.ldtr.sel : v.tr.sel;
            storeRm16(vm, cpu, insn, val);
          }
          goNext();
          if (site.op === TrapOp.SGDT) val = v.gdtr.base;
          if (site.op === TrapOp.SIDT) val = v.idtr.base;
          logCo(site.op, val, 0);
          break;
        }
        case Co.SegRead: {
          let val: number;
          if (insn.opcode === 0x0e || insn.opcode === 0x16) {
            val = virtualSelector(cpu, insn.opcode === 0x0e ? CS : SS);
            push(cpu, vm, insn.opsz32 ? 4 : 2, val);
          } else {
            val = virtualSelector(cpu, insn.reg);
            storeRm16(vm, cpu, insn, val);
          }
          goNext();
          logCo(site.op, cpu.segSel[insn.opcode === 0x16 || insn.reg === SS ? SS : CS], val);
          break;
        }
        case Co.DescCheck: {
          const sel =
            insn.mod === 3
              ? cpu.regs[insn.rm] & 0xffff
              : vm.mem.read((cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0, 2);
          const which = (
            {
              [TrapOp.LAR]: 'lar',
              [TrapOp.LSL]: 'lsl',
              [TrapOp.VERR]: 'verr',
              [TrapOp.VERW]: 'verw',
            } as const
          )[site.op as 36 | 37 | 38 | 39];
          const [zf, val] = descriptorCheck(vm, cpu, which, sel);
          cpu.setFlagBits(zf ? ZF : 0, ZF);
          if (zf && (which === 'lar' || which === 'lsl')) {
            if (insn.opsz32) cpu.regs[insn.reg] = val;
            else cpu.r16[insn.reg * 2] = val & 0xffff;
          }
          goNext();
          logCo(site.op, sel, zf ? 1 : 0);
          break;
        }
        case Co.Cpuid:
          // Pre-VT x86 lets CPUID run anywhere: the physical CPU answers, right after the callout.
          this.resumeGuest = eip;
          this.resumeTc = site.resume;
          logCo(TrapOp.CPUID, cpu.regs[0] >>> 0, 0);
          break;
        default:
          throw new Unvirtualizable(
            `binary translation does not translate the instruction at 0x${eip.toString(16)} ` +
              `(${Array.from(ins, (x) => x.toString(16).padStart(2, '0')).join(' ')}): 16-bit control transfer or SYSENTER/SYSEXIT`,
          );
      }
      // A callout that fell through continues in its unit (if the unit is still alive).
      if (!site.ends && this.resumeTc < 0 && cpu.ip >>> 0 === next && cpu.cpl === 1) {
        this.resumeGuest = next;
        this.resumeTc = site.resume;
      }
    } catch (e) {
      if (e instanceof GuestPageFault) {
        vm.v.cr2 = e.lin;
        cpu.eip = eip;
        cpu.ip = eip;
        this.reflect(vm, PF, e.errorCode, eip, false, eip, site.len);
      } else if (e instanceof GuestFault) {
        cpu.eip = eip;
        cpu.ip = eip;
        this.reflect(vm, e.vector, e.errorCode, eip, false, eip, site.len);
      } else if (e instanceof Unvirtualizable) this.vmm.vmCannotContinue(vm, e);
      else throw e;
    } finally {
      vmm.eventCs = -1;
    }
    if (vm.state === 'runnable' && !this.stiShadow) this.injectPending(vm);
    if (vm.state !== 'runnable') vmm.requestStop();
  }

  /** An exit stub fired: translate the successor if needed, chain the branch to it, go there. */
  private exit(vm: Vm, b: BtState, site: Site): void {
    const cpu = this.cpu;
    const target = site.guestEip;
    b.stats.exits++;
    this.checkFlat(vm);
    const u = this.unitFor(vm, b, target);
    if (site.exit && !site.unit.transient) b.tc.link(site.exit, u);
    // Interrupts are taken at unit boundaries: this is one.
    this.injectPending(vm);
    if (cpu.ip >>> 0 === target && cpu.cpl === 1 && u.valid) {
      const to = (this.tcLinear(vm) + u.start) >>> 0;
      cpu.eip = to;
      cpu.ip = to;
      this.placed = true;
    }
  }

  private far(
    vm: Vm,
    insn: ReturnType<typeof decode> & object,
    ins: Uint8Array,
    site: Site,
    next: number,
  ): void {
    const cpu = this.cpu;
    const op32 = insn.opsz32;
    const o = insn.opcode;
    if (o === 0xcb || o === 0xca) {
      const extra = o === 0xca ? ins[site.len - 2] | (ins[site.len - 1] << 8) : 0;
      farReturn(cpu, vm, op32, extra);
      return;
    }
    let sel: number;
    let off: number;
    if (o === 0xea || o === 0x9a) {
      const n = site.len;
      sel = ins[n - 2] | (ins[n - 1] << 8);
      off = op32
        ? (ins[n - 6] | (ins[n - 5] << 8) | (ins[n - 4] << 16) | (ins[n - 3] << 24)) >>> 0
        : ins[n - 4] | (ins[n - 3] << 8);
    } else {
      if (insn.mod === 3) throw new GuestFault(6, -1);
      const a = (cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0;
      off = vm.mem.read(a, op32 ? 4 : 2);
      sel = vm.mem.read((a + (op32 ? 4 : 2)) >>> 0, 2);
    }
    const call = o === 0x9a || (o === 0xff && insn.reg === 3);
    farTransfer(cpu, vm, sel, off, call, op32, next);
  }

  // ---- adaptive translation (Adams & Agesen 2006 §4.2) ----

  /**
   * A store from translated code hit a page write-protected because it holds translated code. Each
   * such fault costs a round trip and drops every translation of the page; an instruction that keeps
   * doing it (kernel data sharing a page with kernel code) is retranslated into callouts around it.
   */
  private countCoherenceFault(vm: Vm, b: BtState, ev: TrapEvent, lin: number, page: number): void {
    const eip = ev.instrEip >>> 0;
    if (b.adaptive.has(eip)) return;
    const n = (b.hot.get(eip) ?? 0) + 1;
    b.hot.set(eip, n);
    if (n < ADAPT_AFTER) return;
    const bytes = b.src.fetch(eip, 15);
    const c = classify(bytes, eip);
    if (!c || c.cls !== Cls.Ident || !adaptableStore(bytes.subarray(0, c.len))) return;
    // Only if the VMM can compute the store's address itself: its ModR/M operand is the address that faulted.
    const insn = decode(bytes.subarray(0, c.len), true, this.cpu.regs, true);
    if (!insn || insn.mod === 3) return;
    const ea = (this.cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0;
    if ((lin - ea) >>> 0 >= storeSize(bytes)) return;
    b.adaptive.add(eip);
    b.hot.delete(eip);
    // Its units go; the next translation brackets the store with the callouts.
    for (const u of [...b.tc.units.values()]) if (u.listing.some((l) => l.eip === eip)) b.tc.kill(u);
    this.vmm.record(
      vm,
      TrapKind.AdaptiveRetranslation,
      0,
      TrapAction.Translated,
      this.vmm.cost.adaptive,
      0,
      n,
      lin,
      page,
      0,
      eip,
    );
    this.vmm.log.setInstruction(bytes, 0, c.len);
  }

  /** Before an adaptive store: make its page(s) writable in the shadow if coherence protects them. */
  private openStore(vm: Vm, b: BtState, site: Site): void {
    const cpu = this.cpu;
    b.stats.adaptiveStores++;
    const insn = decode(site.bytes, true, cpu.regs, true);
    if (!insn || insn.mod === 3) return;
    const lin = (cpu.segBase[insn.eaSeg] + insn.eaOff) >>> 0;
    const size = storeSize(site.bytes);
    const last = (lin + size - 1) >>> 0;
    for (const a of last >>> 12 === lin >>> 12 ? [lin] : [lin, last & ~0xfff]) {
      // Never a page of the guest's GDT: the VMM must see each write there (shadow GDT).
      if (vm.shadow.inVmmRegion(a) || this.onGuestGdt(vm, a)) continue;
      // Only a page the guest lets the kernel write and already marked dirty: otherwise the store
      // faults as usual (the guest's own #PF, or the VMM setting D).
      if (vm.mem.walk(a, true, false, false) !== true) continue;
      const w = vm.mem.info;
      const p = (w.gpa & ~0xfff) >>> 0;
      if (!w.dirty || !b.protectedPages.has(p)) continue;
      vm.shadow.fill(a, w.gpa, true, w.user && !w.wpOverride, w.large, true);
      cpu.invlpg(a);
      const from = a === lin ? w.gpa : p;
      b.open.push(
        (a & ~0xfff) >>> 0,
        from,
        a === lin ? Math.min(size, 4096 - (lin & 0xfff)) : (last & 0xfff) + 1,
        p,
      );
    }
  }

  /**
   * After the store (or when anything else enters the VMM first): protect the pages again. A store
   * that really wrote translated bytes (`done`) drops that page's translations, as a fault would.
   */
  private closeStore(vm: Vm, b: BtState, done: boolean): void {
    const o = b.open;
    for (let i = 0; i < o.length; i += 4) {
      vm.shadow.writeProtect(o[i]);
      this.cpu.invlpg(o[i]);
      if (done && this.touchesCode(b, o[i + 3], o[i + 1], o[i + 2])) {
        b.stats.adaptiveHits++;
        this.invalidatePage(vm, b, o[i + 3], (o[i] | (o[i + 1] & 0xfff)) >>> 0);
      }
    }
    o.length = 0;
  }

  /** Do bytes [gpa, gpa + n) of guest-physical page `page` hold code some live unit was translated from? */
  private touchesCode(b: BtState, page: number, gpa: number, n: number): boolean {
    const s = b.tc.pageUnits.get(page);
    if (!s) return false;
    for (const u of s) {
      for (const l of u.listing) {
        let g: number | null;
        if (((l.eip ^ u.guestEip) & ~0xfff) === 0) g = u.gpa + (l.eip - u.guestEip);
        else g = b.src.gpa(l.eip);
        if (g === null || (g + l.len - 1) >>> 12 !== g >>> 12) return true; // unsure: say yes
        if (g < gpa + n && gpa < g + l.len) return true;
      }
    }
    return false;
  }

  /** An indirect branch looked up by the VMM: counted and costed, not logged one by one. */
  private chargeLookup(vm: Vm, b: BtState): void {
    b.stats.indirect++;
    this.vmm.charge(vm, this.vmm.cost.btLookup);
  }

  /**
   * The shared emulation priced its record as a trap (a fault round trip + decoding); under BT the
   * same work is reached by a callout from translated code.
   */
  private rebate(vm: Vm): void {
    const log = this.vmm.log;
    if (log.count === 0) return;
    const r = log.get(log.count - 1);
    const c = this.vmm.cost;
    const cost = Math.max(c.btCallout, r.cost - (c.roundTrip + c.simpleWork) + c.btCallout);
    log.setOutcome(r.action, cost);
    this.vmm.charge(vm, cost - r.cost);
  }
}

/** Bytes an adaptive store may write: 4 for one-byte opcodes, 16 for two-byte ones (SSE). */
function storeSize(b: Uint8Array): number {
  let p = 0;
  while (p < b.length && [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3].includes(b[p]))
    p++;
  return b[p] === 0x0f ? 16 : 4;
}

/** Guest kernel code as the guest would fetch it: through its own page tables, supervisor. */
function codeSource(vm: Vm): CodeSource {
  const mem = vm.mem;
  return {
    fetch(lin: number, n: number): Uint8Array {
      const out = new Uint8Array(n);
      let k = 0;
      while (k < n) {
        const a = (lin + k) >>> 0;
        if (mem.walk(a, false, false, true) !== true) break;
        const g = mem.info.gpa;
        const run = Math.min(n - k, 4096 - (a & 0xfff));
        for (let i = 0; i < run; i++) out[k + i] = mem.readPhys8((g + i) >>> 0);
        k += run;
      }
      return out.subarray(0, k);
    },
    gpa(lin: number): number | null {
      return mem.walk(lin >>> 0, false, false, true) === true ? mem.info.gpa : null;
    },
    faultCode(lin: number): number {
      const r = mem.walk(lin >>> 0, false, false, false);
      return r === true ? 0 : r;
    },
  };
}
