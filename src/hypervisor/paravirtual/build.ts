/**
 * The domain builder (Xen's xc_dom_* for an x86_32 PV kernel): after the kernel image is in the
 * VM's slice, lay out start_info, the pseudo-physical → machine frame list and bootstrap page
 * tables behind it, fill the hypercall page, and prepare the entry state — paging already on,
 * kernel in ring 1 on Xen's flat selectors, ESI = start_info.
 */
import type { CpuState } from '../../cpu/index.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { PAGE } from '../vmm/memory-map.ts';
import { REAL_CR0, VmmConfigError } from '../vmm/vm.ts';
import {
  FLAT_RING1_CS,
  FLAT_RING1_DS,
  HC,
  HYP_IDT_VA,
  HYP_TSS_SEL,
  HYP_TSS_VA,
  HYPERCALL_VECTOR,
  SI,
} from './abi.ts';
import { PvDomain } from './domain.ts';
import type { PvGuestHeader } from './guest-header.ts';
import type { DirectPaging } from './pagetables.ts';

const up = (v: number, a: number) => Math.ceil(v / a) * a;

export interface BuiltDomain {
  state: CpuState;
  startInfo: number;
  ptBase: number;
  nrPtFrames: number;
}

/** The 32-byte hypercall stubs: mov eax, nr; int 0x82; ret — and iret: push eax; mov eax, 23; int 0x82. */
export function hypercallPage(): Uint8Array {
  const p = new Uint8Array(PAGE).fill(0xcc);
  for (let nr = 0; nr < PAGE / 32; nr++) {
    const o = nr * 32;
    let k = o;
    if (nr === HC.iret) p[k++] = 0x50;
    p.set([0xb8, nr, 0, 0, 0, 0xcd, HYPERCALL_VECTOR], k);
    if (nr !== HC.iret) p[k + 7] = 0xc3;
  }
  return p;
}

export function buildDomain(d: PvDomain, pt: DirectPaging, boot: BootImage, h: PvGuestHeader): BuiltDomain {
  const mem = d.npages * PAGE;
  let end = 0;
  for (const c of boot.chunks) end = Math.max(end, c.addr + c.bytes.length);
  const si = up(end, PAGE);
  const mfnList = si + PAGE;
  const l2 = up(mfnList + d.npages * 4, PAGE);
  // Map the image, these structures and 512 KiB more (as Xen does), in whole 4 MiB page tables.
  let nL1 = 1;
  for (;;) {
    const stack = l2 + (1 + nL1) * PAGE;
    const mapEnd = up(stack + PAGE + 512 * 1024, 4 << 20);
    if (mapEnd / (4 << 20) <= nL1) break;
    nL1++;
  }
  const stack = l2 + (1 + nL1) * PAGE;
  if (stack + PAGE > mem)
    throw new VmmConfigError(
      `the PV kernel and its start-of-day structures need more than the VM's ${mem >>> 20} MiB`,
    );
  const ram = d.ram;
  const w32 = (pa: number, v: number) => d.w32(d.hostOf(pa), v);
  // The hypercall page.
  ram.set(hypercallPage(), d.hostOf(h.hypercallPage));
  d.cpu.codeWritten(d.hostOf(h.hypercallPage), PAGE);
  // start_info.
  const magic = 'xen-3.0-x86_32';
  for (let i = 0; i < magic.length; i++) ram[d.hostOf(si + SI.magic + i)] = magic.charCodeAt(i);
  w32(si + SI.nr_pages, d.npages);
  w32(si + SI.shared_info, d.sharedInfo);
  w32(si + SI.pt_base, l2);
  w32(si + SI.nr_pt_frames, 1 + nL1);
  w32(si + SI.mfn_list, mfnList);
  for (let p = 0; p < d.npages; p++) w32(mfnList + p * 4, d.mfn(p));
  // Bootstrap tables: pseudo-physical = virtual, page tables themselves read-only, supervisor.
  const mapPages = Math.min(nL1 * 1024, d.npages);
  for (let p = 0; p < mapPages; p++) {
    const isTable = p * PAGE >= l2 && p * PAGE < stack;
    w32(l2 + PAGE + p * 4, (d.mfn(p) << 12) | (isTable ? 1 : 3));
  }
  for (let i = 0; i < nL1; i++) w32(l2 + i * 4, (d.mfn((l2 >>> 12) + 1 + i) << 12) | 3);
  const l2pfn = l2 >>> 12;
  // Pinned and in CR3, as Xen leaves them (the CPU may hold another VM's state: set CR3 below).
  if (pt.pin(l2pfn, 2) || pt.getL2(l2pfn))
    throw new VmmConfigError(`the bootstrap page tables did not validate: ${pt.why}`);
  pt.base = l2pfn;
  const flat = (sel: number, ar: number) => ({ sel, base: 0, limit: 0xffffffff, ar });
  const code1 = 0xc0bb;
  const data1 = 0xc0b3;
  const state: CpuState = {
    regs: [0, 0, 0, 0, stack + PAGE, 0, si, 0],
    eip: (h.entry ?? (boot.entry.mode === 'protected-flat' ? boot.entry.eip : 0)) >>> 0,
    eflags: 0x202, // the real IF is the hypervisor's; the guest's is the upcall mask
    segs: [
      flat(FLAT_RING1_DS, data1),
      flat(FLAT_RING1_CS, code1),
      flat(FLAT_RING1_DS, data1),
      flat(FLAT_RING1_DS, data1),
      flat(FLAT_RING1_DS, data1),
      flat(FLAT_RING1_DS, data1),
      { sel: 0, base: 0, limit: 0, ar: 0x10000 },
      { sel: HYP_TSS_SEL, base: HYP_TSS_VA, limit: 0x67, ar: 0x8b },
    ],
    cpl: 1,
    cr0: REAL_CR0,
    cr2: 0,
    cr3: d.mfn(l2pfn) << 12,
    cr4: 0,
    dr: [0, 0, 0, 0, 0, 0, 0xffff0ff0, 0x400],
    gdtr: { ...PvDomain.gdtr },
    idtr: { base: HYP_IDT_VA, limit: 0x7ff },
    msr: { sysenterCs: 0, sysenterEsp: 0, sysenterEip: 0, tscOffset: 0 },
    halted: false,
    a20: true,
    instructions: 0,
    shadow: false,
  };
  return { state, startInfo: si, ptBase: l2, nrPtFrames: 1 + nL1 };
}
