/** Per-VM binary-translation state and the guest-code source the translator reads through. */
import type { GuestMemory } from '../vmm/guest-mem.ts';
import type { GuestMemoryMap } from '../vmm/memory-map.ts';
import type { Vm } from '../vmm/vm.ts';
import type { TranslationCache } from './tc.ts';
import type { CodeSource } from './translator.ts';

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
  /** Guest return addresses of translated CALLs: their units get the RET entry check in front. */
  retSites: Set<number>;
  /** Guest EIPs of stores retranslated into callouts (A&A's adaptive translation). */
  adaptive: Set<number>;
  /** Pages an adaptive store has open (linear page, guest-physical write address, size), in fours. */
  open: number[];
  /** The CPU is in the TC: GS is the VMM's and the guest's is kept here (vmm-gs.ts). */
  gsHeld: boolean;
  gs: { sel: number; base: number; limit: number; ar: number };
}

/** Coherence faults from one guest instruction before it is retranslated (A&A adapt after a few). */
export const ADAPT_AFTER = 4;

/** Bytes an adaptive store may write: 4 for one-byte opcodes, 16 for two-byte ones (SSE). */
export function storeSize(b: Uint8Array): number {
  let p = 0;
  while (p < b.length && [0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3].includes(b[p]))
    p++;
  return b[p] === 0x0f ? 16 : 4;
}

/**
 * Guest kernel code as the guest would fetch it: through its own page tables, supervisor. `ram`:
 * the host RAM the VM's guest-physical memory lives in (vm.map gives host addresses in it). A class,
 * not closures: the translator calls it for every unit, and closures made per VM would be new call
 * targets for its optimized code in every new session (a deoptimization and a recompile each).
 */
export class GuestCode implements CodeSource {
  private readonly mem: GuestMemory;
  private readonly map: GuestMemoryMap;
  constructor(
    vm: Vm,
    private readonly ram: Uint8Array,
  ) {
    this.mem = vm.mem;
    this.map = vm.map;
  }

  fetchInto(lin: number, n: number, out: Uint8Array): number {
    const { mem, map, ram } = this;
    let k = 0;
    while (k < n) {
      const a = (lin + k) >>> 0;
      if (mem.walk(a, false, false, true) !== true) break;
      const g = mem.info.gpa;
      const run = Math.min(n - k, 4096 - (a & 0xfff));
      // Guest RAM within one page is one run of host RAM: copied straight, without a view over it
      // (the translator fetches a window per unit, ~18 k per Linux boot); holes read through vm.mem.
      const h = map.toHost(g);
      if (h >= 0 && map.toHost((g + run - 1) >>> 0) === h + run - 1)
        for (let i = 0; i < run; i++) out[k + i] = ram[h + i];
      else for (let i = 0; i < run; i++) out[k + i] = mem.readPhys8((g + i) >>> 0);
      k += run;
    }
    return k;
  }

  fetch(lin: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    return out.subarray(0, this.fetchInto(lin, n, out));
  }

  gpa(lin: number): number | null {
    return this.mem.walk(lin >>> 0, false, false, true) === true ? this.mem.info.gpa : null;
  }

  faultCode(lin: number): number {
    const r = this.mem.walk(lin >>> 0, false, false, false);
    return r === true ? 0 : r;
  }
}
