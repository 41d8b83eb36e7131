/**
 * Keeping the TC coherent with guest code: translating a unit on demand and write-protecting the
 * guest pages it came from, dropping a page's units when a store lands there (a hidden fault on a
 * protected page, or the VMM's own store), flushing a full TC, and adaptive translation of the
 * stores that keep faulting on protected pages (Adams & Agesen 2006 §4.2).
 */
import type { TrapEvent } from '../../cpu/index.ts';
import { decode } from '../vmm/decode.ts';
import { TrapAction, TrapKind } from '../vmm/trap-log.ts';
import type { Vm } from '../vmm/vm.ts';
import { BtAreaVmm } from './area.ts';
import { adaptableStore, Cls, classify } from './classify.ts';
import { ADAPT_AFTER, type BtState, storeSize } from './state.ts';
import type { Site, Unit } from './tc.ts';
import { MAX_UNIT_BYTES, MAX_UNIT_EXITS, translateUnit } from './translator.ts';

export abstract class BtCoherence extends BtAreaVmm {
  /** The next dispatch re-runs one instruction from a transient unit (its page was just written). */
  protected transientNext = false;

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
    if (tc.used + MAX_UNIT_BYTES > tc.size || tc.cellsFree < MAX_UNIT_EXITS) this.flushTc(vm, b, 1);
    const u = translateUnit(
      tc,
      b.src,
      eip,
      this.areaLinear(vm),
      transient,
      transient ? 1 : undefined,
      this.tableLinear(vm),
      b.adaptive,
      this.cellLinear(vm),
      b.retSites,
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
    // The first instruction's bytes, as just translated (the guest's own memory: coherence).
    this.vmm.log.setInstruction(tc.listings.bytes, u.byte0, tc.listings.len(u, 0));
    return u;
  }

  /** Write-protect (in every shadow alias) the guest pages a new unit was translated from. */
  protected protect(vm: Vm, b: BtState, u: Unit): void {
    for (const p of u.pages) {
      if (b.protectedPages.has(p)) continue;
      b.protectedPages.add(p);
      const host = vm.map.toHost(p);
      if (host < 0) continue;
      for (const lin of vm.shadow.writeProtectFrame(host)) this.cpu.invlpg(lin);
    }
  }

  /** Empty the TC (reason 1: full, 2: the VMM region moved, 3: VM reset). */
  protected flushTc(vm: Vm, b: BtState, reason: number): void {
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
  protected invalidatePage(vm: Vm, b: BtState, page: number, lin: number): void {
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
  protected vmmWrote(vm: Vm, host: number): void {
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

  // ---- adaptive translation (Adams & Agesen 2006 §4.2) ----

  /**
   * A store from translated code hit a page write-protected because it holds translated code. Each
   * such fault costs a round trip and drops every translation of the page; an instruction that keeps
   * doing it (kernel data sharing a page with kernel code) is retranslated into callouts around it.
   */
  protected countCoherenceFault(vm: Vm, b: BtState, ev: TrapEvent, lin: number, page: number): void {
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
    for (const u of [...b.tc.units.values()]) if (b.tc.listings.has(u, eip)) b.tc.kill(u);
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
  protected openStore(vm: Vm, b: BtState, site: Site): void {
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
  protected closeStore(vm: Vm, b: BtState, done: boolean): void {
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
  protected touchesCode(b: BtState, page: number, gpa: number, n: number): boolean {
    const s = b.tc.pageUnits.get(page);
    if (!s) return false;
    for (const u of s) {
      let eip = u.guestEip;
      for (let i = 0; i < u.insns; i++) {
        const len = b.tc.listings.len(u, i);
        let g: number | null;
        if (((eip ^ u.guestEip) & ~0xfff) === 0) g = u.gpa + (eip - u.guestEip);
        else g = b.src.gpa(eip);
        if (g === null || (g + len - 1) >>> 12 !== g >>> 12) return true; // unsure: say yes
        if (g < gpa + n && gpa < g + len) return true;
        eip = (eip + len) >>> 0;
      }
    }
    return false;
  }

  /** An indirect branch looked up by the VMM: counted and costed, not logged one by one. */
  protected chargeLookup(vm: Vm, b: BtState): void {
    b.stats.indirect++;
    this.vmm.charge(vm, this.vmm.cost.btLookup);
  }
}
