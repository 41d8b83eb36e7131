/**
 * The page-tables view under direct paging (Barham et al. 2003, §3.3.2): there is one walk, because
 * the guest's own tables are the ones the MMU walks. For each table on the way it reports what the
 * hypervisor keeps about the frame (type, pin, references, writable mappings) and where the guest
 * maps that frame itself, read-only; and where the hypervisor's hole lies. Reads only: no A/D bit
 * is set.
 */
import type { DirectPageWalk, DirectWalkStep, FrameFacts } from '../vmm/page-walk.ts';
import { FIRST_HYP_PDE, HYPERVISOR_VIRT_START } from './abi.ts';
import type { PvDomain } from './domain.ts';
import type { DirectPaging } from './pagetables.ts';

/** Mappings listed per frame (the count covers all of them). */
const MAX_LISTED = 4;
const TYPE_NAMES = ['none', 'L1', 'L2'] as const;

/**
 * Every mapping of the frames in `want` in the address space whose page directory is machine frame
 * `pdMfn`: one pass over its present tables (below the hole; at most 1008 × 1024 entries).
 */
function mappingsOf(d: PvDomain, pdMfn: number, want: Set<number>) {
  const found = new Map<number, { list: { lin: number; rw: boolean }[]; n: number }>();
  for (const m of want) found.set(m, { list: [], n: 0 });
  const pd = pdMfn << 12;
  for (let i = 0; i < FIRST_HYP_PDE; i++) {
    const pde = d.r32(pd + i * 4);
    if ((pde & 1) === 0 || d.ownPfn(pde >>> 12) < 0) continue;
    const pt = (pde & ~0xfff) >>> 0;
    for (let j = 0; j < 1024; j++) {
      const pte = d.r32(pt + j * 4);
      if ((pte & 1) === 0) continue;
      const f = found.get(pte >>> 12);
      if (!f) continue;
      f.n++;
      if (f.list.length < MAX_LISTED)
        f.list.push({ lin: ((i << 22) | (j << 12)) >>> 0, rw: (pde & pte & 2) !== 0 });
    }
  }
  return found;
}

function facts(
  d: PvDomain,
  pt: DirectPaging,
  mfn: number,
  maps: ReturnType<typeof mappingsOf>,
): FrameFacts | null {
  const pfn = d.ownPfn(mfn);
  if (pfn < 0) return null;
  const m = maps.get(mfn) ?? { list: [], n: 0 };
  return {
    mfn,
    pfn,
    type: TYPE_NAMES[pt.type[pfn]] ?? 'none',
    pinned: pt.pinned[pfn] !== 0,
    refs: pt.refs[pfn],
    writable: pt.writable[pfn],
    mappedAt: m.list,
    mappings: m.n,
  };
}

/** Domain `d`'s walk of `lin` through its current page directory, or null before it has one. */
export function directPageWalk(
  vm: number,
  d: PvDomain,
  pt: DirectPaging,
  lin: number,
): DirectPageWalk | null {
  lin >>>= 0;
  if (pt.base < 0) return null;
  const pdMfn = d.mfn(pt.base);
  const cr3 = pdMfn << 12;
  const pdi = lin >>> 22;
  const pdeAt = cr3 + pdi * 4;
  const pde = d.r32(pdeAt);
  const ptMfn = pde & 1 ? pde >>> 12 : -1;
  let pteAt = -1;
  let pte = 0;
  if (ptMfn >= 0 && (d.ownPfn(ptMfn) >= 0 || pdi >= FIRST_HYP_PDE)) {
    pteAt = ((pde & ~0xfff) + ((lin >>> 12) & 1023) * 4) >>> 0;
    pte = d.r32(pteAt);
  }
  const leafMfn = pteAt >= 0 && pte & 1 ? pte >>> 12 : -1;
  const want = new Set([pdMfn, ptMfn, leafMfn].filter((m) => m >= 0));
  const maps = mappingsOf(d, pdMfn, want);
  const steps: DirectWalkStep[] = [];
  const pdFacts = facts(d, pt, pdMfn, maps);
  if (pdFacts) steps.push({ level: 'PDE', index: pdi, addr: pdeAt, value: pde, table: pdFacts });
  if (pteAt >= 0)
    steps.push({
      level: 'PTE',
      index: (lin >>> 12) & 1023,
      addr: pteAt,
      value: pte,
      table: facts(d, pt, ptMfn, maps),
    });
  const machine = leafMfn >= 0 ? ((leafMfn << 12) | (lin & 0xfff)) >>> 0 : null;
  const leafPfn = leafMfn >= 0 ? d.ownPfn(leafMfn) : -1;
  const slots: DirectPageWalk['hole']['slots'] = [];
  for (let i = FIRST_HYP_PDE; i < 1024; i++) {
    const e = d.r32(cr3 + i * 4);
    if (e & 1) slots.push({ slot: i, table: (e & ~0xfff) >>> 0 });
  }
  return {
    kind: 'direct',
    vm,
    lin,
    cr3,
    steps,
    machine,
    pseudo: leafPfn >= 0 ? ((leafPfn << 12) | (lin & 0xfff)) >>> 0 : null,
    sharedInfo: leafMfn >= 0 && d.isSharedInfo(leafMfn),
    target: leafMfn >= 0 ? facts(d, pt, leafMfn, maps) : null,
    hole: {
      start: HYPERVISOR_VIRT_START,
      firstSlot: FIRST_HYP_PDE,
      inside: lin >= HYPERVISOR_VIRT_START,
      slots,
    },
    counts: pt.counts(),
  };
}
