/**
 * Extended page tables (Intel SDM Vol.3C §28.2): in VMX non-root operation with "enable EPT",
 * every guest-physical address — the guest's own page-directory and page-table entries as well
 * as the final address of an access — goes through a 4-level EPT walk to a host-physical address.
 * The guest's 2-level walk on top of it is the "2-D walk" (mmu.ts translate()).
 *
 * Entries are 64-bit: bits 0/1/2 read/write/execute, bit 7 a 2 MiB page in a PDE, bits 5:3 the
 * memory type of a leaf, bit 8 accessed, bit 9 dirty (with EPTP bit 6), bits 51:12 the address.
 * This IA-32 CPU has 32 physical address bits: any set bit above them is a misconfiguration.
 *
 * Execute permission (bit 2) is checked on instruction fetches, read permission (bit 0) on data
 * reads; execute-only entries (bits 2:0 = 100b) are supported and advertised (IA32_VMX_EPT_VPID_CAP
 * bit 0, §28.2.3.1). The TLB keeps one read entry for data reads and fetches alike, so mmu.ts
 * caches a translation whose leaf is not executable as a non-direct entry (fetches through it
 * walk again, as a fetch) and never caches one that is not readable (`c.eptR`, `c.eptX`).
 */
import type { CpuCore } from '../core.ts';
import { R } from './fields.ts';
import { VMEXIT_VECTOR } from './vmx.ts';

/** Access kinds (exit-qualification bits 0–2). */
export const EPT_READ = 1;
export const EPT_WRITE = 2;
export const EPT_FETCH = 4;

/**
 * Translate guest-physical `gpa` for an access of kind `access`. On success returns the host-
 * physical address and leaves in `c.eptW` whether a write may be cached in the TLB (the leaf is
 * writable and, with A/D bits on, already dirty). On failure stages an EPT violation (exit 48)
 * or misconfiguration (exit 49) and unwinds the instruction.
 * `lin`: the guest-linear address when `linValid`; `final`: the access is the translation of
 * that linear address itself rather than a guest paging-structure access (qualification bit 8).
 */
export function eptTranslate(
  c: CpuCore,
  gpa: number,
  access: number,
  lin: number,
  linValid: boolean,
  final: boolean,
): number {
  const vmx = c.vmx;
  let table = vmx.eptRoot >>> 0;
  let perm = 7;
  const addr = gpa >>> 0;
  // PML4 index (bits 47:39) is always 0 for a 32-bit guest-physical address.
  for (let level = 4; level >= 1; level--) {
    const shift = 12 + 9 * (level - 1);
    const idx = level === 4 ? 0 : Math.floor(addr / 2 ** shift) & 511;
    const ea = table + idx * 8;
    const lo = c.physRead32(ea);
    const hi = c.physRead32(ea + 4);
    const rwx = lo & 7;
    if (rwx === 0) return violation(c, gpa, access, 0, lin, linValid, final);
    // W without R is a misconfiguration; execute-only is not, as this CPU advertises it (§28.2.3.1).
    if ((rwx & 3) === 2 || (hi & 0xfffff) !== 0) return misconfig(c, gpa);
    perm &= rwx;
    const large = (lo & 0x80) !== 0;
    const leaf = level === 1 || (level === 2 && large);
    if (level === 4 || level === 3) {
      if (large || (lo & 0x78) !== 0) return misconfig(c, gpa); // no 1 GiB pages; bits 6:3 reserved
    }
    if (leaf) {
      const mt = (lo >>> 3) & 7;
      if (mt === 2 || mt === 3 || mt === 7) return misconfig(c, gpa);
      if (level === 2 && (lo & 0x1ff000) !== 0) return misconfig(c, gpa); // reserved bits 20:12
      // §28.2.3.2: a read needs bit 0, a write bit 1, an instruction fetch bit 2 of every entry used.
      if (
        (access & EPT_WRITE && (perm & 2) === 0) ||
        (access & EPT_READ && (perm & 1) === 0) ||
        (access & EPT_FETCH && (perm & 4) === 0)
      )
        return violation(c, gpa, access, perm, lin, linValid, final);
      c.eptR = (perm & 1) !== 0;
      c.eptX = (perm & 4) !== 0;
      const frame = level === 2 ? lo & 0xffe00000 : lo & 0xfffff000;
      const mask = level === 2 ? 0x1fffff : 0xfff;
      if (vmx.eptAd) {
        // A on every entry used; D on the leaf for writes — and for guest paging-structure
        // accesses, which the processor treats as writes for A/D purposes (§28.2.4).
        const want = lo | 0x100 | (access & EPT_WRITE || !final ? 0x200 : 0);
        if (want !== lo) c.physWrite32(ea, want);
        c.eptW = (perm & 2) !== 0 && (want & 0x200) !== 0;
      } else c.eptW = (perm & 2) !== 0;
      return ((frame | (addr & mask)) >>> 0) | 0;
    }
    if (vmx.eptAd && (lo & 0x100) === 0) c.physWrite32(ea, lo | 0x100);
    table = (lo & 0xfffff000) >>> 0;
  }
  return misconfig(c, gpa);
}

function violation(
  c: CpuCore,
  gpa: number,
  access: number,
  perm: number,
  lin: number,
  linValid: boolean,
  final: boolean,
): never {
  // Exit qualification (§27.2.1, Table 27-7): bits 2:0 the access, 5:3 the permissions the
  // translation granted, bit 7 guest-linear address valid, bit 8 final translation vs. walk.
  const q = access | (perm << 3) | (linValid ? 0x80 : 0) | (linValid && final ? 0x100 : 0);
  c.vmx.stage(R.EPT_VIOLATION, q, 0);
  c.vmx.stageInfo(0, linValid ? lin : 0, gpa);
  return c.raise(VMEXIT_VECTOR);
}

function misconfig(c: CpuCore, gpa: number): never {
  c.vmx.stage(R.EPT_MISCONFIG, 0, 0);
  c.vmx.stageInfo(0, 0, gpa);
  return c.raise(VMEXIT_VECTOR);
}
