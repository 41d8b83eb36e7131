/** What the UI shows of a paravirtual domain (plain data: it crosses the worker boundary). */
export interface ParavirtualInfo {
  /** vcpu_info.evtchn_upcall_mask: 1 = events masked (the virtual IF is off). */
  upcallMask: boolean;
  /** vcpu_info.evtchn_upcall_pending. */
  upcallPending: boolean;
  /** Event channel ports with their pending bit set, and what each is bound to. */
  pendingPorts: number[];
  ports: { port: number; virq: string; pending: boolean; masked: boolean }[];
  /** vcpu_info.arch.cr2: the guest-visible CR2. */
  cr2: number;
  /** vcpu_time_info.system_time (ns). */
  systemTimeNs: number;
  /** Virtual timer deadline (ns), or null when not armed. */
  timerNs: number | null;
  /** Hypercalls made, by number (only those made at least once). */
  hypercalls: { nr: number; name: string; count: number }[];
  upcalls: number;
  /** Frames typed as page tables and directories, and how many are pinned. */
  pageTables: { l1: number; l2: number; pinned: number };
  /** int 0x80 goes straight to the guest kernel (a direct trap in the real IDT). */
  directSyscalls: boolean;
  /** Why the last refused request was refused (empty if none). */
  lastRefusal: string;
}
