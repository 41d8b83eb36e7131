/**
 * Binary translation (VMware's VMM; Adams & Agesen, ASPLOS 2006; Bugnion et al., TOCS 2012):
 * guest kernel code (virtual CPL 0) never runs directly. It is translated on demand into a
 * translation cache of real IA-32 code (translator.ts, tc.ts) that the CPU executes at real
 * ring 1; guest user code runs directly at ring 3, as under trap-and-emulate. The shared
 * deprivileged-kernel model (../vmm/deprivileged.ts: shadow paging, shadow GDT/LDT, the VMM slot,
 * delivery, the privileged-instruction emulation) is reused; this technique changes where kernel
 * code runs. Layers: area.ts (the VMM's memory in the slot) ← coherence.ts (translating, write
 * protection, adaptive stores) ← slot-access.ts (guest instructions on the VMM's interpreter:
 * accesses beyond the limits cut below the slot, GS and CS-override instructions) ← this file
 * (entering/leaving the TC, callouts; GS is the VMM's while the TC runs, vmm-gs.ts).
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
import { decode } from '../vmm/decode.ts';
import { emulateIret, GuestFault, Unvirtualizable } from '../vmm/deliver.ts';
import { farOperand, farReturn, farTransfer, virtualSelector } from '../vmm/far-transfer.ts';
import { GuestPageFault } from '../vmm/guest-mem.ts';
import { regBit, TrapAction, TrapFlag, TrapKind, TrapOp } from '../vmm/trap-log.ts';
import type { Vm } from '../vmm/vm.ts';
import {
  descriptorCheck,
  indirectTarget,
  popBytes,
  popf,
  push,
  pushf,
  readStack,
  readStackAt,
  storeRm16,
  storeTable,
  ZF,
} from './callouts.ts';
import { Co } from './classify.ts';
import { BtSlotAccess } from './slot-access.ts';
import type { BtState } from './state.ts';
import { AREA_TARGET, type Site, TABLE_ENTRIES, type Unit } from './tc.ts';
import { CALLOUT_VECTOR, emitIndEntry } from './translator.ts';
import { holdGuestGs, releaseGuestGs } from './vmm-gs.ts';

export { ADAPT_AFTER } from './state.ts';

const EAX = 0;
const EDX = 2;
const CS = 1;
const SS = 2;
const PF = 14;
const GP = 13;
const DB = 1;

export class BinaryTranslation extends BtSlotAccess {
  private inEvent = false;
  /** Where to continue after this VMM entry if the guest EIP did not move (and no unit died). */
  private resumeGuest = -1;
  private resumeTc = -1;
  private entryEpoch = 0;
  /** The handler has put a TC address in EIP itself. */
  private placed = false;
  /** A callout falls through into a real IRET/RETF to guest ring 3: give the guest its GS back. */
  private toUser = false;
  private readonly ev: TrapEvent = {
    vector: 0,
    kind: EventKind.Exception,
    errorCode: -1,
    eip: 0,
    instrEip: 0,
    length: 0,
    faultAddr: 0,
  };

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
    this.eventVector = ev.vector;
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
      if (this.vmm.current === vm.index) {
        // GS is the VMM's exactly while the CPU is in the TC (vmm-gs.ts).
        if (cpu.cpl === 1 && !this.toUser && !vm.terminal) holdGuestGs(cpu, b);
        else releaseGuestGs(cpu, b);
        this.slotGuard?.enforce(vm);
      }
      this.toUser = false;
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
    if (!cpu.code32 || !this.flat(vm, CS) || !this.flat(vm, SS)) {
      throw new Unvirtualizable(
        `binary translation runs guest kernel code with flat 32-bit CS and SS only (CS base 0x${(cpu.segBase[CS] >>> 0).toString(16)}, ` +
          `SS base 0x${(cpu.segBase[SS] >>> 0).toString(16)}, ${cpu.code32 ? '32' : '16'}-bit code) in VM ${vm.index}`,
      );
    }
  }

  /** Segment `s` has base 0 and a 4 GiB limit by the guest's own limits (the VMM cuts SS below its slot, ../vmm/slot-guard.ts). */
  private flat(vm: Vm, s: number): boolean {
    const cpu = this.cpu;
    return cpu.segBase[s] === 0 && (this.slotGuard?.guestLimitOf(vm, s) ?? cpu.segLim[s] >>> 0) >= 0xffffffff;
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
      if (site.co === Co.Interpret) {
        this.interpretAt(vm, eip, CALLOUT_VECTOR);
      } else if (site.co === Co.Privileged && (site.op === TrapOp.IN || site.op === TrapOp.OUT)) {
        // The commonest callout (PIT calibration, the serial console): no decoding, no dispatch.
        this.portIo(vm, ins, eip, next, site.op === TrapOp.OUT);
      } else {
        const insn = decode(bytes, true, cpu.regs);
        if (!insn) return;
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
            this.goTo(next);
            this.logCo(vm, eip, ins, TrapOp.PUSHF, img, vm.v.if ? 1 : 0);
            break;
          }
          case Co.Popf: {
            const was = vm.v.if ? 1 : 0;
            const img = popf(cpu, vm, insn.opsz32, (on) => this.setVirtualIf(vm, on));
            this.goTo(next);
            this.logCo(vm, eip, ins, TrapOp.POPF, was, img);
            break;
          }
          case Co.Int: {
            if (insn.opcode === 0xce) {
              if (!cpu.cond(0)) {
                this.goTo(next);
                this.logCo(vm, eip, ins, TrapOp.INT, 4, 0);
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
              this.logCo(vm, eip, ins, TrapOp.IRET, eip, cpu.eip >>> 0, 200);
            } else {
              // A return to guest ring 3: the real IRET right after the callout does it. At real
              // ring 1 it ignores the image's IOPL, but the guest kernel (CPL 0) sets it: the VMM,
              // which sees this IRET, takes it into the virtual CPU.
              vm.v.iopl = (readStackAt(cpu, vm, insn.opsz32 ? 4 : 2, 2) >>> 12) & 3;
              this.resumeGuest = eip;
              this.resumeTc = site.resume;
              // To guest ring 3 the guest's GS goes back first (to ring 1 the TC goes on, GS held).
              this.toUser = (readStackAt(cpu, vm, insn.opsz32 ? 4 : 2, 1) & 3) === 3;
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
            if (this.far(vm, insn, ins, site, next))
              this.logCo(vm, eip, ins, site.op, eip, cpu.eip >>> 0, 300);
            else {
              // A far RET to an outer ring: the real RETF right after the callout does it.
              this.resumeGuest = eip;
              this.resumeTc = site.resume;
              this.toUser = (readStackAt(cpu, vm, insn.opsz32 ? 4 : 2, 1) & 3) === 3;
            }
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
            this.goTo(next);
            if (site.op === TrapOp.SGDT) val = v.gdtr.base;
            if (site.op === TrapOp.SIDT) val = v.idtr.base;
            this.logCo(vm, eip, ins, site.op, val, 0);
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
            this.goTo(next);
            this.logCo(
              vm,
              eip,
              ins,
              site.op,
              cpu.segSel[insn.opcode === 0x16 || insn.reg === SS ? SS : CS],
              val,
            );
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
            this.goTo(next);
            this.logCo(vm, eip, ins, site.op, sel, zf ? 1 : 0);
            break;
          }
          case Co.Cpuid:
            // Pre-VT x86 lets CPUID run anywhere: the physical CPU answers, right after the callout.
            this.resumeGuest = eip;
            this.resumeTc = site.resume;
            this.logCo(vm, eip, ins, TrapOp.CPUID, cpu.regs[0] >>> 0, 0);
            break;
          default:
            throw new Unvirtualizable(
              `binary translation does not translate the instruction at 0x${eip.toString(16)} ` +
                `(${Array.from(ins, (x) => x.toString(16).padStart(2, '0')).join(' ')}): 16-bit control transfer or SYSENTER/SYSEXIT`,
            );
        }
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

  /**
   * IN/OUT (not the string forms) from translated code: the guest kernel (CPL 0) may always do
   * I/O. The same device access and the same record as the shared emulation
   * (../vmm/emulate-privileged.ts), priced as a callout (what `rebate` would make of it).
   */
  private portIo(vm: Vm, ins: Uint8Array, eip: number, next: number, out: boolean): void {
    const cpu = this.cpu;
    let p = 0;
    let opsz32 = true;
    for (; p < ins.length - 1; p++) {
      const x = ins[p];
      if (x === 0x66) opsz32 = false;
      else if (
        x !== 0x67 &&
        x !== 0xf0 &&
        x !== 0xf2 &&
        x !== 0xf3 &&
        (x & 0xe7) !== 0x26 &&
        (x & 0xfe) !== 0x64
      )
        break;
    }
    const op = ins[p];
    const size = (op & 1) === 0 ? 1 : opsz32 ? 4 : 2;
    const port = op < 0xe8 ? ins[p + 1] : cpu.regs[EDX] & 0xffff;
    this.goTo(next);
    let value: number;
    if (out) {
      value = size === 1 ? cpu.regs[EAX] & 0xff : size === 2 ? cpu.regs[EAX] & 0xffff : cpu.regs[EAX] >>> 0;
      if (size === 1) vm.io.out8(port, value);
      else if (size === 2) vm.io.out16(port, value);
      else vm.io.out32(port, value);
    } else {
      value = size === 1 ? vm.io.in8(port) : size === 2 ? vm.io.in16(port) : vm.io.in32(port);
      if (size === 1) cpu.r8[0] = value;
      else if (size === 2) cpu.r16[0] = value;
      else cpu.regs[EAX] = value;
    }
    const c = this.vmm.cost;
    const cost = Math.max(c.btCallout, c.portIo - (c.roundTrip + c.simpleWork) + c.btCallout);
    const vmm = this.vmm;
    vmm.record(
      vm,
      TrapKind.PortIo,
      out ? TrapOp.OUT : TrapOp.IN,
      TrapAction.Emulated,
      cost,
      out ? TrapFlag.Out : 0,
      port,
      size,
      value,
      1,
      eip,
    );
    vmm.log.setInstruction(ins, 0, ins.length);
    vmm.log.setRegMask((out ? 0 : regBit('eax')) | regBit('eip'));
  }

  private goTo(eip: number): void {
    this.cpu.eip = eip;
    this.cpu.ip = eip;
  }

  /** The record of a callout BT emulates itself (not through the shared trap-and-emulate code). */
  private logCo(
    vm: Vm,
    eip: number,
    ins: Uint8Array,
    op: number,
    before: number,
    after: number,
    extra = 0,
  ): void {
    const vmm = this.vmm;
    vmm.record(
      vm,
      TrapKind.Callout,
      op,
      TrapAction.Emulated,
      vmm.cost.btCallout + extra,
      0,
      before,
      after,
      0,
      0,
      eip,
    );
    vmm.log.setInstruction(ins, 0, ins.length);
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

  /** Far JMP/CALL/RET (../vmm/far-transfer.ts). False: a RET to an outer ring, left to the real RETF. */
  private far(
    vm: Vm,
    insn: ReturnType<typeof decode> & object,
    ins: Uint8Array,
    site: Site,
    next: number,
  ): boolean {
    const cpu = this.cpu;
    const o = insn.opcode;
    if (o === 0xcb || o === 0xca) {
      const extra = o === 0xca ? ins[site.len - 2] | (ins[site.len - 1] << 8) : 0;
      return farReturn(cpu, vm, insn.opsz32, extra);
    }
    const { sel, off } = farOperand(cpu, vm, insn, ins);
    const call = o === 0x9a || (o === 0xff && insn.reg === 3);
    farTransfer(cpu, vm, sel, off, call, insn.opsz32, next);
    return true;
  }

  /**
   * The shared emulation priced its record as a trap (a fault round trip + decoding); under BT the
   * same work is reached by a callout from translated code.
   */
  private rebate(vm: Vm): void {
    const log = this.vmm.log;
    const was = log.lastCost;
    if (log.count === 0 || was < 0) return;
    const c = this.vmm.cost;
    const cost = Math.max(c.btCallout, was - (c.roundTrip + c.simpleWork) + c.btCallout);
    log.setOutcome(log.lastAction, cost);
    this.vmm.charge(vm, cost - was);
  }
}
