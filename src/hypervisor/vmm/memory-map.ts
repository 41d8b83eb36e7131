/**
 * Host physical memory under the VMM, and each VM's guest-physical → host-physical map.
 *
 *   host 0x00000000 – 0x000FFFFF   unused (the PC's legacy holes)
 *   host 0x00100000 – 0x00FFFFFF   the VMM's own frames: shadow page directories and tables,
 *                                  shadow GDT/LDT pages, the "nothing here" page, write sinks
 *   host 0x01000000 + i·memBytes   VM i's RAM slice (memBytes each, contiguous)
 *
 * A VM's guest-physical RAM is 0 … memBytes−1 minus the PC hole 0xA0000–0xFFFFF (as the native
 * machine has it). Guest-physical pages that are not RAM (the hole, anything ≥ memBytes) map to a
 * read-only page of 0xFF bytes shared by all VMs (an ISA bus with nothing on it reads all ones);
 * a write there is redirected to a per-VM sink page, so nothing a guest writes outside its RAM ever
 * lands in another VM's memory or the VMM's.
 */

export const PAGE = 4096;
export const VMM_BASE = 0x00100000;
export const SLICES_BASE = 0x01000000;
export const VMM_FRAMES = (SLICES_BASE - VMM_BASE) / PAGE;
const HOLE_START = 0xa0000;
const HOLE_END = 0x100000;

/** One contiguous run of the map, for the UI ("guest-physical → host-physical"). */
export interface MapRange {
  guestPhys: number;
  hostPhys: number;
  bytes: number;
  /** ram: the VM's slice; hole / unbacked: no RAM (reads the all-ones page). */
  kind: 'ram' | 'hole' | 'unbacked';
}

/** Host frame allocator for the VMM's own pages (never mapped into any guest's RAM slice). */
export class VmmFrames {
  private readonly free: number[] = [];
  private next: number;
  /**
   * `base`: first frame (Type 2 hosting gives the host OS the memory below it: hosting/README.md).
   * `written`: the machine's per-page written marks (MemoryBus.written); each frame handed out is
   * marked, since the VMM writes its frames directly, so a recycled host RAM is zeroed there.
   */
  constructor(
    private readonly ram: Uint8Array,
    readonly base = VMM_BASE,
    private readonly written: Uint8Array | null = null,
  ) {
    this.next = base;
  }

  /** A zeroed host frame; throws when the VMM area is exhausted. */
  alloc(): number {
    const f = this.free.pop() ?? this.bump();
    this.ram.fill(0, f, f + PAGE);
    return f;
  }
  release(frame: number): void {
    this.free.push(frame);
  }
  /** Host address above every frame the VMM has ever handed out (frames up to here may hold its data). */
  get highWater(): number {
    return this.next;
  }
  get inUse(): number {
    return (this.next - this.base) / PAGE - this.free.length;
  }
  private bump(): number {
    if (this.next >= SLICES_BASE) throw new Error('vmm: out of VMM frames for shadow structures');
    const f = this.next;
    this.next += PAGE;
    if (this.written !== null) this.written[f >>> 12] = 1;
    return f;
  }
}

export class GuestMemoryMap {
  /** Host-physical address of guest-physical 0. */
  readonly sliceBase: number;
  /** Host page of 0xFF bytes, mapped read-only for guest-physical pages that are not RAM. */
  readonly emptyPage: number;
  /** Host page where writes to non-RAM guest-physical pages go (this VM's only). */
  readonly sinkPage: number;

  constructor(
    readonly vm: number,
    readonly memBytes: number,
    emptyPage: number,
    sinkPage: number,
  ) {
    this.sliceBase = SLICES_BASE + vm * memBytes;
    this.emptyPage = emptyPage;
    this.sinkPage = sinkPage;
  }

  /** True when guest-physical `gpa` is RAM of this VM. */
  isRam(gpa: number): boolean {
    gpa >>>= 0;
    return gpa < this.memBytes && (gpa < HOLE_START || gpa >= HOLE_END);
  }

  /** Host-physical address of guest-physical RAM `gpa`, or -1 when it is not RAM. */
  toHost(gpa: number): number {
    return this.isRam(gpa) ? this.sliceBase + (gpa >>> 0) : -1;
  }

  /** The map as ranges (for the UI). */
  ranges(): MapRange[] {
    const m = this.memBytes;
    const out: MapRange[] = [
      { guestPhys: 0, hostPhys: this.sliceBase, bytes: Math.min(m, HOLE_START), kind: 'ram' },
    ];
    if (m > HOLE_START) {
      out.push({
        guestPhys: HOLE_START,
        hostPhys: this.emptyPage,
        bytes: HOLE_END - HOLE_START,
        kind: 'hole',
      });
    }
    if (m > HOLE_END) {
      out.push({
        guestPhys: HOLE_END,
        hostPhys: this.sliceBase + HOLE_END,
        bytes: m - HOLE_END,
        kind: 'ram',
      });
    }
    out.push({ guestPhys: m, hostPhys: this.emptyPage, bytes: 0x100000000 - m, kind: 'unbacked' });
    return out;
  }
}
