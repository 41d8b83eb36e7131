/**
 * The Xen x86_32 paravirtual ABI as this hypervisor offers it: hypercall numbers, error codes,
 * sub-commands and structure layouts from Xen's public headers (xen.h, event_channel.h, sched.h,
 * arch-x86/xen-x86_32.h), plus where our hypervisor
 * keeps its own tables in every guest address space.
 */

/** Hypercall numbers (xen/include/public/xen.h). */
export const HC = {
  set_trap_table: 0,
  mmu_update: 1,
  set_gdt: 2,
  stack_switch: 3,
  set_callbacks: 4,
  fpu_taskswitch: 5,
  multicall: 13,
  update_va_mapping: 14,
  set_timer_op: 15,
  xen_version: 17,
  console_io: 18,
  iret: 23,
  mmuext_op: 26,
  sched_op: 29,
  event_channel_op: 32,
} as const;

/** Xen's errno values (xen/include/public/errno.h): hypercalls return −errno. */
export const E = {
  PERM: 1,
  NOENT: 2,
  FAULT: 14,
  BUSY: 16,
  EXIST: 17,
  INVAL: 22,
  NOSYS: 38,
} as const;

/** The trap into the hypervisor (Xen 3.x x86_32). */
export const HYPERCALL_VECTOR = 0x82;
/** Xen's flat selectors (Xen 3.x x86_32): ring-1 kernel and ring-3 user, in the reserved GDT page. */
export const FLAT_RING1_CS = 0xe019;
export const FLAT_RING1_DS = 0xe021;
export const FLAT_RING3_CS = 0xe02b;
export const FLAT_RING3_DS = 0xe033;
/** Our TSS descriptor, also in the reserved page. */
export const HYP_TSS_SEL = 0xe040;
/** First GDT entry the guest may not own (Xen: FIRST_RESERVED_GDT_ENTRY = 14 pages × 512). */
export const FIRST_RESERVED_GDT_BYTE = 0xe000;
export const GUEST_GDT_FRAMES = 14;

/** Xen x86_32 non-PAE: the hypervisor owns the top 64 MiB of every address space. */
export const HYPERVISOR_VIRT_START = 0xfc000000;
/** PD slots ≥ this belong to the hypervisor. */
export const FIRST_HYP_PDE = HYPERVISOR_VIRT_START >>> 22;
/** Our tables live in the last 4 MiB: GDT (15 pages), IDT, TSS. */
export const HYP_PDE = 1023;
export const HYP_GDT_VA = 0xffc00000;
export const HYP_GDT_PAGES = 15;
export const HYP_IDT_VA = HYP_GDT_VA + HYP_GDT_PAGES * 4096;
export const HYP_TSS_VA = HYP_IDT_VA + 4096;

export const CONSOLEIO = { write: 0, read: 1 } as const;
export const SCHEDOP = { yield: 0, block: 1, shutdown: 2 } as const;
export const SHUTDOWN = { poweroff: 0, reboot: 1, suspend: 2, crash: 3 } as const;
export const MMUEXT = {
  PIN_L1_TABLE: 0,
  PIN_L2_TABLE: 1,
  UNPIN_TABLE: 4,
  NEW_BASEPTR: 5,
  TLB_FLUSH_LOCAL: 6,
  INVLPG_LOCAL: 7,
  TLB_FLUSH_ALL: 10,
  INVLPG_ALL: 11,
} as const;
export const UVMF_FLUSHTYPE_MASK = 3;
export const UVMF_TLB_FLUSH = 1;
export const UVMF_INVLPG = 2;
export const EVTCHNOP = { bind_virq: 1, send: 4, unmask: 9 } as const;
export const VIRQ = { timer: 0, console: 2 } as const;
export const NR_EVENT_CHANNELS = 1024;

/** struct start_info (x86_32) field offsets. */
export const SI = {
  magic: 0,
  nr_pages: 32,
  shared_info: 36,
  flags: 40,
  pt_base: 60,
  nr_pt_frames: 64,
  mfn_list: 68,
  mod_start: 72,
  mod_len: 76,
  cmd_line: 80,
} as const;

/** struct shared_info / vcpu_info (x86_32) offsets: vcpu_info[0] sits at offset 0. */
export const SH = {
  upcall_pending: 0,
  upcall_mask: 1,
  pending_sel: 4,
  cr2: 8,
  time_version: 32,
  tsc_timestamp: 40,
  system_time: 48,
  tsc_to_system_mul: 56,
  tsc_shift: 60,
  evtchn_pending: 2048,
  evtchn_mask: 2048 + 128,
  wc_version: 2048 + 256,
  wc_sec: 2048 + 260,
  wc_nsec: 2048 + 264,
} as const;

/** trap_info.flags: bits 0–1 the DPL allowed to INT n; bit 2 mask events on entry. */
export const TI_DPL_MASK = 3;
export const TI_MASK_EVENTS = 4;

/** Xen's errno names, for the log. */
export const errnoName: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  22: 'EINVAL',
  38: 'ENOSYS',
};
