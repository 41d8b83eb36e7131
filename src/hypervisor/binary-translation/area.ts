/**
 * The binary-translation VMM's own memory in its slot of each guest address space: the TC's
 * frames, the VM's virtual-CPU area (the virtual IF and the words the inline sequences read) and
 * the RET lookup table, and the conversions between TC and guest addresses.
 */
import { DeprivilegedVmm } from '../vmm/deprivileged.ts';
import type { SlotGuard } from '../vmm/slot-guard.ts';
import type { Vm } from '../vmm/vm.ts';
import type { Vmm } from '../vmm/vmm.ts';
import { type BtState, GuestCode } from './state.ts';
import {
  AREA_FADJ,
  AREA_GSSEL,
  AREA_IOPL,
  AREA_PAGE,
  AREA_PENDING,
  AREA_VIF,
  CELL_PAGE,
  CELL_PAGES,
  TABLE_ENTRIES,
  TABLE_PAGE,
  TABLE_PAGES,
  TC_PAGE,
  TC_PAGES,
  TranslationCache,
  type Unit,
} from './tc.ts';
import { emitMissStub } from './translator.ts';
import { VMM_GS_SEL } from './vmm-gs.ts';

export abstract class BtAreaVmm extends DeprivilegedVmm {
  readonly bt: BtState[] = [];

  constructor(vmm: Vmm) {
    // Segment truncation hides the slot (../vmm/slot-guard.ts); the TC reaches it through GS.
    super(vmm, true);
    const guard = this.slotGuard as SlotGuard;
    guard.tcRing = true;
    guard.vmmSel = VMM_GS_SEL;
    guard.interpret = (vm, eip) => this.interpretAt(vm, eip, -1);
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
      const cells: number[] = [];
      for (let i = 0; i < CELL_PAGES; i++) {
        const f = vmm.frames.alloc();
        cells.push(f);
        vm.shadow.mapVmmPage(CELL_PAGE + i, f, false);
      }
      const tc = new TranslationCache(ram, frames, this.cpu, cells);
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
        src: new GuestCode(vm, ram),
        stats: { indirect: 0, exits: 0, transient: 0, invalidations: 0, adaptiveStores: 0, adaptiveHits: 0 },
        hot: new Map(),
        retSites: new Set(),
        adaptive: new Set(),
        open: [],
        gsHeld: false,
        gs: { sel: 0, base: 0, limit: 0, ar: 0 },
      };
      tc.onKill = (u) => this.unhookIndirect(vm, b, u);
      this.bt.push(b);
      this.resetIndirect(vm, b);
    }
  }

  // ---- the RET lookup table in the area (inline indirect branches) ----

  protected readArea32(b: BtState, off: number): number {
    const r = this.vmm.pc.memory.ram;
    const a = b.area + off;
    return (r[a] | (r[a + 1] << 8) | (r[a + 2] << 16) | (r[a + 3] << 24)) >>> 0;
  }

  tableLinear(vm: Vm): number {
    return (vm.shadow.vmmBase + TABLE_PAGE * 4096) >>> 0;
  }
  protected tableEntry(b: BtState, i: number): number {
    return b.table[i >>> 10] + 4 * (i & 1023);
  }
  protected writeTable(b: BtState, i: number, v: number): void {
    const r = this.vmm.pc.memory.ram;
    const a = this.tableEntry(b, i);
    r[a] = v & 0xff;
    r[a + 1] = (v >>> 8) & 0xff;
    r[a + 2] = (v >>> 16) & 0xff;
    r[a + 3] = (v >>> 24) & 0xff;
  }

  /** A fresh TC: emit the miss stub and point every table entry at it. */
  protected resetIndirect(vm: Vm, b: BtState): void {
    b.tc.lin = this.tcLinear(vm);
    const stub = (this.tcLinear(vm) + emitMissStub(b.tc, this.areaLinear(vm))) >>> 0;
    const r32 = new Int32Array(this.vmm.pc.memory.ram.buffer, this.vmm.pc.memory.ram.byteOffset);
    for (const f of b.table) r32.fill(stub | 0, f >>> 2, (f >>> 2) + 1024);
  }

  /** A unit died: the one table entry that could lead to its entry check goes back to the miss stub. */
  protected unhookIndirect(vm: Vm, b: BtState, u: Unit): void {
    const tcLin = this.tcLinear(vm);
    const i = u.guestEip & (TABLE_ENTRIES - 1);
    const a = this.tableEntry(b, i);
    const r = this.vmm.pc.memory.ram;
    const cur = (r[a] | (r[a + 1] << 8) | (r[a + 2] << 16) | (r[a + 3] << 24)) >>> 0;
    if (cur === (tcLin + u.indEntry) >>> 0) this.writeTable(b, i, (tcLin + b.tc.missStub) >>> 0);
  }

  /** Frames each VM needs for the TC and its area (VmmOptions.reservedFramesPerVm). */
  static readonly FRAMES_PER_VM = TC_PAGES + TABLE_PAGES + CELL_PAGES + 1;

  tcLinear(vm: Vm): number {
    return (vm.shadow.vmmBase + TC_PAGE * 4096) >>> 0;
  }
  cellLinear(vm: Vm): number {
    return (vm.shadow.vmmBase + CELL_PAGE * 4096) >>> 0;
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

  protected syncIn(vm: Vm, b: BtState): void {
    const ram = this.vmm.pc.memory.ram;
    const cur = ram[b.area + AREA_VIF + 1];
    if (cur !== b.lastVif) {
      vm.v.if = cur !== 0;
      b.lastVif = cur;
    }
  }
  /** Everything the inline sequences read from the area, as the VMM now sees it. */
  protected syncOut(vm: Vm, b: BtState): void {
    const v = vm.v.if ? 2 : 0;
    const ram = this.vmm.pc.memory.ram;
    ram[b.area + AREA_VIF + 1] = v;
    b.lastVif = v;
    const iopl = (vm.v.iopl & 3) << 12;
    const tf = vm.vmmOwnsTf && (this.cpu.flags & 0x100) !== 0 ? 0x100 : 0;
    this.writeArea32(b, AREA_IOPL, iopl);
    this.writeArea32(b, AREA_FADJ, iopl - 0x200 - tf);
    ram[b.area + AREA_PENDING] = vm.devices.pic.hasInterrupt() ? 1 : 0;
    this.writeArea32(b, AREA_GSSEL, (b.gsHeld ? b.gs.sel : this.cpu.segSel[5]) & 0xffff);
  }
  protected writeArea32(b: BtState, off: number, v: number): void {
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

  /** The VMM stored into guest RAM at host address `host` (coherence.ts). */
  protected abstract vmmWrote(vm: Vm, host: number): void;

  /**
   * Perform guest instruction `eip` with the guest's own view (interpreter.ts): an access beyond a
   * cut segment limit, or an instruction naming GS or a `cs:` data override. True when handled.
   */
  protected abstract interpretAt(vm: Vm, eip: number, why: number): boolean;
}
