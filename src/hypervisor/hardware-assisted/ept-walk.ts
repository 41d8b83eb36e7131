/**
 * The 2-D walk for the UI's EPT view, read side-effect free from live state (the VM's VMCS in the
 * CPU's cache and host RAM; no A/D bits set, nothing cached): the guest's own 2-level walk of a
 * guest-linear address (its CR3, PDE, PTE — each entry at a guest-physical address that itself
 * goes through the EPT) and the 4-level EPT walk of every guest-physical address it touches
 * (SDM Vol.3C §28.2.2: PML4E, PDPTE, PDE — or a 2 MiB page — and PTE; bits 2:0 read/write/execute,
 * 5:3 memory type, 7 large page, 8 accessed, 9 dirty). The same order the CPU walks (mmu.ts).
 */
import { F, R } from '../../cpu/vmx/fields.ts';
import type { Vmcs } from '../../cpu/vmx/vmcs.ts';

export interface EptLevelView {
  level: number;
  /** PML4E, PDPTE, PDE, PTE. */
  name: string;
  /** Host-physical address of the 8-byte entry. */
  addr: number;
  lo: number;
  hi: number;
  /** Maps a 2 MiB page (a PDE with bit 7) or a 4 KiB page (a PTE). */
  leaf: boolean;
}

export interface EptWalkView {
  gpa: number;
  levels: EptLevelView[];
  /** Host-physical address, or null when the walk stops (not present or misconfigured). */
  hpa: number | null;
  /** Why it stopped, in words (violation / misconfiguration), when hpa is null. */
  stop?: string;
}

export interface GuestStepView {
  /** PDE or PTE. */
  name: string;
  /** Guest-physical address of the 4-byte entry (and its EPT walk). */
  gpa: number;
  ept: EptWalkView;
  /** The entry (0 when its EPT walk failed). */
  value: number;
}

export interface TwoDWalkView {
  /** What address this is and why it was chosen. */
  source: string;
  /** Guest-linear address (null: only a guest-physical address is known). */
  linear: number | null;
  /** Guest CR0.PG: without it linear = guest-physical. */
  paging: boolean;
  cr3: number;
  guest: GuestStepView[];
  /** Why the guest walk stopped early (a not-present entry: a #PF for the guest), if it did. */
  guestStop?: string;
  /** The final guest-physical address's EPT walk (null if the guest walk stopped). */
  final: EptWalkView | null;
}

const NAMES = ['', 'PTE', 'PDE', 'PDPTE', 'PML4E'];

/** Walk `gpa` through the EPT rooted at `root` in host RAM `ram32`. */
export function eptWalk(ram32: Int32Array, root: number, gpa: number): EptWalkView {
  const levels: EptLevelView[] = [];
  let table = root >>> 0;
  const a = gpa >>> 0;
  for (let level = 4; level >= 1; level--) {
    const idx = level === 4 ? 0 : Math.floor(a / 2 ** (12 + 9 * (level - 1))) & 511;
    const addr = table + idx * 8;
    if (addr + 8 > ram32.length * 4) return { gpa: a, levels, hpa: null, stop: 'entry outside host RAM' };
    const lo = ram32[addr >>> 2];
    const hi = ram32[(addr >>> 2) + 1];
    const large = level === 2 && (lo & 0x80) !== 0;
    const leaf = level === 1 || large;
    levels.push({ level, name: NAMES[level], addr, lo, hi, leaf });
    if ((lo & 7) === 0)
      return { gpa: a, levels, hpa: null, stop: `${NAMES[level]} not present: EPT violation` };
    if ((lo & 3) === 2)
      return { gpa: a, levels, hpa: null, stop: `${NAMES[level]} write without read: EPT misconfiguration` };
    if (leaf) {
      const hpa = large ? (lo & 0xffe00000) | (a & 0x1fffff) : (lo & 0xfffff000) | (a & 0xfff);
      return { gpa: a, levels, hpa: hpa >>> 0 };
    }
    table = (lo & 0xfffff000) >>> 0;
  }
  return { gpa: a, levels, hpa: null };
}

/**
 * The 2-D walk of VM `v`'s default address: the last exit's guest-linear / guest-physical address
 * when it was an EPT violation, else the guest's next instruction fetch (CS base + RIP).
 */
export function twoDWalk(ram32: Int32Array, v: Vmcs): TwoDWalkView | null {
  const reason = v.get(F.EXIT_REASON) & 0xffff;
  if (reason === R.EPT_VIOLATION && (v.get(F.EXIT_QUAL) & 0x80) === 0) {
    // No valid guest-linear address (qualification bit 7 clear): only the guest-physical one.
    const gpa = v.get(F.GUEST_PHYS_ADDR) >>> 0;
    return twoDWalkAt(
      ram32,
      v,
      gpa,
      'guest-physical',
      'the last exit (EPT violation, no guest-linear address)',
    );
  }
  if (reason === R.EPT_VIOLATION)
    return twoDWalkAt(ram32, v, v.get(F.GUEST_LINEAR_ADDR), 'linear', 'the last exit (EPT violation)');
  const fetch = v.get(F.GUEST_CS_BASE) + v.get(F.GUEST_RIP);
  return twoDWalkAt(ram32, v, fetch, 'linear', "the guest's next instruction fetch (CS base + RIP)");
}

/**
 * The 2-D walk of any address of VM `v`: a guest-linear address through the guest's own page
 * tables (CR0.PG, CR3, CR4.PSE from the VMCS guest-state area) and each guest-physical address
 * through the EPT; or a guest-physical address through the EPT alone. Null without EPT.
 */
export function twoDWalkAt(
  ram32: Int32Array,
  v: Vmcs,
  addr: number,
  space: 'linear' | 'guest-physical',
  source: string,
): TwoDWalkView | null {
  const root = v.get(F.EPTP) & ~0xfff;
  if (root === 0) return null;
  const cr0 = v.get(F.GUEST_CR0);
  const cr3 = v.get(F.GUEST_CR3) >>> 0;
  const pse = (v.get(F.GUEST_CR4) & 0x10) !== 0;
  const paging = (cr0 & 0x80000000) !== 0;
  if (space === 'guest-physical')
    return { source, linear: null, paging, cr3, guest: [], final: eptWalk(ram32, root, addr >>> 0) };
  const linear = addr >>> 0;
  const guest: GuestStepView[] = [];
  if (!paging) return { source, linear, paging, cr3, guest, final: eptWalk(ram32, root, linear) };
  const step = (name: string, gpa: number): GuestStepView => {
    const ept = eptWalk(ram32, root, gpa);
    const value = ept.hpa !== null && ept.hpa + 4 <= ram32.length * 4 ? ram32[ept.hpa >>> 2] : 0;
    const s = { name, gpa: gpa >>> 0, ept, value };
    guest.push(s);
    return s;
  };
  const pde = step('PDE', (cr3 & ~0xfff) + ((linear >>> 22) << 2));
  if (pde.ept.hpa === null)
    return {
      source,
      linear,
      paging,
      cr3,
      guest,
      guestStop: 'the PDE itself is not mapped by the EPT',
      final: null,
    };
  if ((pde.value & 1) === 0)
    return {
      source,
      linear,
      paging,
      cr3,
      guest,
      guestStop: 'PDE not present: a #PF for the guest',
      final: null,
    };
  if (pde.value & 0x80 && pse) {
    const gpa = (pde.value & 0xffc00000) | (linear & 0x3fffff);
    return { source, linear, paging, cr3, guest, final: eptWalk(ram32, root, gpa) };
  }
  const pte = step('PTE', (pde.value & ~0xfff) + (((linear >>> 12) & 0x3ff) << 2));
  if (pte.ept.hpa === null)
    return {
      source,
      linear,
      paging,
      cr3,
      guest,
      guestStop: 'the PTE itself is not mapped by the EPT',
      final: null,
    };
  if ((pte.value & 1) === 0)
    return {
      source,
      linear,
      paging,
      cr3,
      guest,
      guestStop: 'PTE not present: a #PF for the guest',
      final: null,
    };
  const gpa = (pte.value & ~0xfff) | (linear & 0xfff);
  return { source, linear, paging, cr3, guest, final: eptWalk(ram32, root, gpa) };
}
