/**
 * A side-effect-free page walk for the debugger views (readLinear, disassembleAt). Unlike the
 * CPU's own walk it never sets accessed/dirty bits, never faults and never fills the TLB.
 * 32-bit paging, SDM Vol.3 §4.3: CR3[31:12] → page directory; PDE.PS with CR4.PSE → 4 MiB page
 * (PSE-36 high bits are ignored: our physical space is 32-bit); else PDE[31:12] → page table.
 */

const CR0_PG = 0x80000000;
const CR4_PSE = 0x10;
const P = 1;
const PS = 0x80;

/** Physical address for `lin`, or null when a level is not present. `read32` reads physical memory. */
export function walkLinear(
  lin: number,
  cr0: number,
  cr3: number,
  cr4: number,
  read32: (phys: number) => number,
): number | null {
  lin >>>= 0;
  if ((cr0 & CR0_PG) === 0) return lin;
  const pde = read32(((cr3 & 0xfffff000) + ((lin >>> 22) << 2)) >>> 0) >>> 0;
  if ((pde & P) === 0) return null;
  if (pde & PS && cr4 & CR4_PSE) return ((pde & 0xffc00000) | (lin & 0x3fffff)) >>> 0;
  const pte = read32(((pde & 0xfffff000) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0) >>> 0;
  if ((pte & P) === 0) return null;
  return ((pte & 0xfffff000) | (lin & 0xfff)) >>> 0;
}
