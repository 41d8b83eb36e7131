/**
 * Building a VM's extended page tables (SDM Vol.3C §28.2.2): guest-physical RAM maps to the VM's
 * slice of host memory, read/write/execute, write-back (memory type 6). 2 MiB pages where a whole
 * 2 MiB run is RAM, 4 KiB pages around the PC hole (0xA0000–0xFFFFF). The hole and everything
 * beyond the VM's RAM are left unmapped: the guest's first access there is an EPT violation the
 * VMM resolves (ept.ts in this folder: the all-ones page for reads, the VM's sink page for writes).
 */
import type { GuestMemoryMap, VmmFrames } from '../vmm/memory-map.ts';

const RWX = 7;
const WB = 6 << 3;
const LARGE = 0x80;

export class EptTables {
  /** Host-physical address of the PML4 table; EPTP = pml4 | WB | (4 − 1) << 3 | A/D enable. */
  readonly pml4: number;
  private readonly pdpt: number;
  private readonly pds = new Map<number, number>();
  private readonly pts = new Map<number, number>();
  /** Entries the VMM added on EPT violations (for the log and the tests). */
  lazyFills = 0;

  constructor(
    private readonly ram32: Int32Array,
    private readonly frames: VmmFrames,
    readonly map: GuestMemoryMap,
  ) {
    this.pml4 = frames.alloc();
    this.pdpt = frames.alloc();
    this.set(this.pml4, this.pdpt | RWX);
    const mem = map.memBytes;
    for (let gpa = 0; gpa < mem; gpa += 0x200000) {
      const whole =
        gpa + 0x200000 <= mem &&
        map.isRam(gpa) &&
        map.isRam(gpa + 0x1fffff) &&
        gpa >= 0x200000 &&
        (map.toHost(gpa) & 0x1fffff) === 0;
      if (whole) this.set(this.pdeAddr(gpa), map.toHost(gpa) | RWX | WB | LARGE);
      else
        for (let p = gpa; p < Math.min(gpa + 0x200000, mem); p += 4096)
          if (map.isRam(p)) this.set(this.pteAddr(p), map.toHost(p) | RWX | WB);
    }
  }

  get eptp(): number {
    return this.pml4 | 6 | (3 << 3) | 0x40;
  }

  private set(addr: number, lo: number): void {
    this.ram32[addr >>> 2] = lo;
    this.ram32[(addr >>> 2) + 1] = 0;
  }

  private pdeAddr(gpa: number): number {
    const i3 = gpa >>> 30;
    let pd = this.pds.get(i3);
    if (pd === undefined) {
      pd = this.frames.alloc();
      this.pds.set(i3, pd);
      this.set(this.pdpt + i3 * 8, pd | RWX);
    }
    return pd + ((gpa >>> 21) & 511) * 8;
  }

  private pteAddr(gpa: number): number {
    const i2 = gpa >>> 21;
    let pt = this.pts.get(i2);
    if (pt === undefined) {
      pt = this.frames.alloc();
      this.pts.set(i2, pt);
      this.set(this.pdeAddr(gpa), pt | RWX);
    }
    return pt + ((gpa >>> 12) & 511) * 8;
  }

  /** Map one 4 KiB guest-physical page that is not RAM: the all-ones page (R/X) or the sink (RW). */
  mapUnbacked(gpa: number, write: boolean): number {
    const host = write ? this.map.sinkPage : this.map.emptyPage;
    this.set(this.pteAddr(gpa & ~0xfff), host | (write ? RWX : 5) | WB);
    this.lazyFills++;
    return host;
  }

  /** The raw 64-bit entries of the walk for `gpa` (for the UI's EPT view): [level, address, lo, hi]. */
  walk(gpa: number): Array<{ level: number; addr: number; lo: number; hi: number }> {
    const out: Array<{ level: number; addr: number; lo: number; hi: number }> = [];
    let table = this.pml4;
    for (let level = 4; level >= 1; level--) {
      const idx = level === 4 ? 0 : Math.floor((gpa >>> 0) / 2 ** (12 + 9 * (level - 1))) & 511;
      const addr = table + idx * 8;
      const lo = this.ram32[addr >>> 2];
      out.push({ level, addr, lo, hi: this.ram32[(addr >>> 2) + 1] });
      if ((lo & 7) === 0 || (level === 2 && lo & LARGE)) break;
      table = lo & ~0xfff;
    }
    return out;
  }
}
