/**
 * One paravirtual domain: what the hypervisor keeps for a VM besides its slice — the shared info
 * page, the hypervisor's own tables mapped into the top of every guest address space (GDT with
 * Xen's reserved entries, IDT holding only the guest's direct traps, TSS with the guest's ring-1
 * stack), and the guest's registrations (trap table, callbacks, kernel stack). Also the hypervisor's
 * access to guest-linear memory, which goes through the guest's *own* page tables (direct paging:
 * they are the real ones and hold machine addresses).
 */
import type { Cpu } from '../../cpu/index.ts';
import { parseDescriptor } from '../vmm/descriptors.ts';
import { PAGE, type VmmFrames } from '../vmm/memory-map.ts';
import type { Vm } from '../vmm/vm.ts';
import {
  FIRST_RESERVED_GDT_BYTE,
  GUEST_GDT_FRAMES,
  HYP_GDT_PAGES,
  HYP_GDT_VA,
  HYP_TSS_SEL,
  HYP_TSS_VA,
  HYPERVISOR_VIRT_START,
  NR_EVENT_CHANNELS,
  SH,
} from './abi.ts';

/** The guest did something Xen would crash the domain for (no handler, unusable kernel stack…). */
export class DomainCrash extends Error {}

/** One set_trap_table entry. */
export interface TrapEntry {
  flags: number;
  cs: number;
  address: number;
}

/** A flat 4 GiB descriptor with the given access byte (accessed bit set: never written by the CPU). */
function flat(access: number): [number, number] {
  return [0x0000ffff, (0x00cf0000 | ((access | 1) << 8)) >>> 0];
}

export class PvDomain {
  readonly ram: Uint8Array;
  private readonly dv: DataView;
  /** Host frames: the shared info page, our page table for PD slot 1023, IDT, TSS, Xen's GDT page. */
  readonly sharedInfo: number;
  readonly hypPt: number;
  readonly idt: number;
  readonly tss: number;
  readonly xenGdt: number;
  /** Host frames holding the copies of the guest's GDT pages (set_gdt), 0 = none yet. */
  readonly gdtCopies: number[] = new Array(GUEST_GDT_FRAMES).fill(0);
  readonly sliceBase: number;
  readonly npages: number;
  traps: (TrapEntry | null)[] = new Array(256).fill(null);
  eventCallback = { cs: 0, eip: 0 };
  failsafeCallback = { cs: 0, eip: 0 };
  kernelSs = 0;
  kernelSp = 0;
  /** Event channels: port → virq (−1 free); virq → port. Port 0 is reserved, as in Xen. */
  readonly portVirq = new Int16Array(NR_EVENT_CHANNELS).fill(-1);
  readonly virqPort = new Int16Array(24).fill(0);
  /** Console input the guest has not read yet (console_io read), as Xen's console ring. */
  readonly rx: number[] = [];
  /** The guest asked to stop: poweroff/crash reason. */
  shutdownReason = -1;
  /** Hypercall counts by number (the histogram). */
  readonly hypercalls = new Float64Array(64);
  upcalls = 0;

  constructor(
    readonly vm: Vm,
    readonly cpu: Cpu,
    ram: Uint8Array,
    private readonly frames: VmmFrames,
    zeroPage: number,
  ) {
    this.ram = ram;
    this.dv = new DataView(ram.buffer, ram.byteOffset, ram.byteLength);
    this.sliceBase = vm.map.sliceBase;
    this.npages = vm.map.memBytes / PAGE;
    this.sharedInfo = frames.alloc();
    this.hypPt = frames.alloc();
    this.idt = frames.alloc();
    this.tss = frames.alloc();
    this.xenGdt = frames.alloc();
    // Xen's reserved GDT entries: flat ring-1 and ring-3 segments, our TSS.
    const put = (off: number, d: [number, number]) => {
      this.w32(this.xenGdt + off, d[0]);
      this.w32(this.xenGdt + off + 4, d[1]);
    };
    put(0x18, flat(0xba)); // FLAT_RING1_CS 0xe019
    put(0x20, flat(0xb2)); // FLAT_RING1_DS 0xe021
    put(0x28, flat(0xfa)); // FLAT_RING3_CS 0xe02b
    put(0x30, flat(0xf2)); // FLAT_RING3_DS 0xe033
    const t = HYP_TSS_VA;
    put(HYP_TSS_SEL - FIRST_RESERVED_GDT_BYTE, [
      (((t & 0xffff) << 16) | 0x67) >>> 0,
      ((t & 0xff000000) | ((t >>> 16) & 0xff) | (0x8b << 8)) >>> 0,
    ]);
    this.w32(this.tss + 0x66, 0x68 << 16); // I/O map base beyond the limit: no bitmap
    // Our page table for the last 4 MiB: GDT pages, IDT, TSS — read-only, supervisor.
    for (let i = 0; i < GUEST_GDT_FRAMES; i++) this.w32(this.hypPt + i * 4, zeroPage | 1);
    this.w32(this.hypPt + (HYP_GDT_PAGES - 1) * 4, this.xenGdt | 1);
    this.w32(this.hypPt + HYP_GDT_PAGES * 4, this.idt | 1);
    this.w32(this.hypPt + (HYP_GDT_PAGES + 1) * 4, this.tss | 1);
    this.w8(this.sharedInfo + SH.upcall_mask, 1); // events masked until the guest enables them
  }

  // ---- host memory ----

  r32(h: number): number {
    return this.dv.getUint32(h, true);
  }
  w32(h: number, v: number): void {
    this.dv.setUint32(h, v >>> 0, true);
    this.cpu.codeWritten(h, 4);
  }
  r8(h: number): number {
    return this.ram[h];
  }
  w8(h: number, v: number): void {
    this.ram[h] = v;
    this.cpu.codeWritten(h, 1);
  }

  /** Machine frame number of pseudo-physical frame `pfn`. */
  mfn(pfn: number): number {
    return (this.sliceBase >>> 12) + pfn;
  }
  /** Pseudo-physical frame of machine frame `mfn` if this domain owns it, else −1. */
  ownPfn(mfn: number): number {
    const p = mfn - (this.sliceBase >>> 12);
    return p >= 0 && p < this.npages ? p : -1;
  }
  /** The shared info page is the only frame outside its slice a domain may map. */
  isSharedInfo(mfn: number): boolean {
    return mfn === this.sharedInfo >>> 12;
  }

  /** Host address of pseudo-physical address `pa` (in the slice). */
  hostOf(pa: number): number {
    return this.sliceBase + pa;
  }

  // ---- guest-linear memory through the real (guest-owned) page tables ----

  /**
   * Host address of guest-linear `lin` for a kernel access on the guest's behalf, or −1 where the
   * guest's tables do not allow it (or it lies in the hypervisor's area). Sets A (and D on write),
   * as the hardware would.
   */
  linear(lin: number, write: boolean, setAd = true): number {
    lin >>>= 0;
    if (lin >= HYPERVISOR_VIRT_START) return -1;
    const cr3 = (this.cpu.cr3 & ~0xfff) >>> 0;
    const pdeAt = cr3 + (lin >>> 22) * 4;
    const pde = this.r32(pdeAt);
    if ((pde & 1) === 0 || (write && (pde & 2) === 0)) return -1;
    const pteAt = ((pde & ~0xfff) >>> 0) + ((lin >>> 12) & 1023) * 4;
    if (this.ownPfn(pteAt >>> 12) < 0) return -1;
    const pte = this.r32(pteAt);
    if ((pte & 1) === 0 || (write && (pte & 2) === 0)) return -1;
    const frame = pte >>> 12;
    if (this.ownPfn(frame) < 0 && !this.isSharedInfo(frame)) return -1;
    if (!setAd) return ((frame << 12) | (lin & 0xfff)) >>> 0;
    if ((pde & 0x20) === 0) this.w32(pdeAt, pde | 0x20);
    const ad = write ? 0x60 : 0x20;
    if ((pte & ad) !== ad) this.w32(pteAt, pte | ad);
    return ((frame << 12) | (lin & 0xfff)) >>> 0;
  }

  /** Host address of `lin` without touching A/D bits (the debugger's view), or −1. */
  peek(lin: number): number {
    return this.linear(lin, false, false);
  }

  /** Read `n` ≤ 4 bytes little-endian at guest-linear `lin`, or null on a fault. */
  read(lin: number, n = 4): number | null {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const h = this.linear((lin + i) >>> 0, false);
      if (h < 0) return null;
      v |= this.ram[h] << (8 * i);
    }
    return v >>> 0;
  }
  write(lin: number, v: number, n = 4): boolean {
    for (let i = 0; i < n; i++) if (this.linear((lin + i) >>> 0, true) < 0) return false;
    for (let i = 0; i < n; i++) this.w8(this.linear((lin + i) >>> 0, true), (v >>> (8 * i)) & 0xff);
    return true;
  }
  readBytes(lin: number, n: number): Uint8Array | null {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const h = this.linear((lin + i) >>> 0, false);
      if (h < 0) return null;
      out[i] = this.ram[h];
    }
    return out;
  }

  // ---- the shared info page ----

  get mask(): boolean {
    return this.r8(this.sharedInfo + SH.upcall_mask) !== 0;
  }
  set mask(on: boolean) {
    this.w8(this.sharedInfo + SH.upcall_mask, on ? 1 : 0);
  }
  get pending(): boolean {
    return this.r8(this.sharedInfo + SH.upcall_pending) !== 0;
  }
  set cr2(v: number) {
    this.w32(this.sharedInfo + SH.cr2, v);
  }
  get cr2(): number {
    return this.r32(this.sharedInfo + SH.cr2);
  }
  /** vcpu_time_info: system time in ns (virtual time) and the TSC it was taken at. */
  updateTime(nowNs: number, tsc: number): void {
    const s = this.sharedInfo;
    const ver = this.r32(s + SH.time_version);
    this.w32(s + SH.time_version, ver + 1);
    this.w32(s + SH.tsc_timestamp, tsc % 4294967296);
    this.w32(s + SH.tsc_timestamp + 4, Math.floor(tsc / 4294967296));
    this.w32(s + SH.system_time, nowNs % 4294967296);
    this.w32(s + SH.system_time + 4, Math.floor(nowNs / 4294967296));
    this.w32(s + SH.time_version, ver + 2);
  }

  // ---- descriptors ----

  /** The real GDT's descriptor for `sel` (guest copy or Xen's reserved page), or null. */
  descriptor(sel: number): ReturnType<typeof parseDescriptor> | null {
    if (sel & 4 || (sel & 0xfff8) === 0) return null;
    const off = sel & 0xfff8;
    let h: number;
    if (off >= FIRST_RESERVED_GDT_BYTE) h = this.xenGdt + off - FIRST_RESERVED_GDT_BYTE;
    else {
      const f = this.gdtCopies[off >>> 12];
      if (!f) return null;
      h = f + (off & 0xfff);
    }
    const d = parseDescriptor(this.r32(h), this.r32(h + 4));
    return d.present && d.segment ? d : null;
  }

  /** Host frame for guest GDT page `i` (allocated on first use) and map it read-only. */
  gdtFrame(i: number): number {
    if (!this.gdtCopies[i]) {
      this.gdtCopies[i] = this.frames.alloc();
      this.w32(this.hypPt + i * 4, this.gdtCopies[i] | 1);
    }
    return this.gdtCopies[i];
  }

  /** Real CPU state fields for the hypervisor's tables. */
  static readonly gdtr = { base: HYP_GDT_VA, limit: HYP_GDT_PAGES * PAGE - 1 };
}
