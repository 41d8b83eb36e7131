/* minikernel-pv: the paravirtual layer (only in the -DPV build). What the native kernel does with
 * privileged instructions, this file asks the hypervisor for with hypercalls (Xen x86_32 ABI):
 * page-table updates (mmu_update, update_va_mapping, mmuext_op), events instead of interrupts
 * (event_channel_op, set_timer_op, the upcall), blocking (sched_op) and shutdown. */
#include "kernel.h"

/* Our VA of the shared info page: a bss page remapped onto the machine frame the hypervisor gave. */
struct shared_info shared_info_page __attribute__((aligned(4096)));
u32 pv_boot_tables, pv_boot_tables_end, pv_shared_info_pte;
static const u32 *p2m; /* pseudo-physical frame → machine frame (start_info.mfn_list) */
static u32 nr_pages, m_base;
static u32 timer_port, console_port;
static u64 next_timer, period_ns;

static void early_puts(const char *s) {
  u32 n = 0;
  while (s[n]) n++;
  _hypercall(HYPERVISOR_console_io, CONSOLEIO_write, n, s, 0, 0);
}

void pv_start(const struct start_info *si) {
  p2m = (const u32 *)si->mfn_list;
  nr_pages = si->nr_pages;
  m_base = p2m[0] << 12;
  for (u32 i = 0; i < nr_pages; i++)
    if (p2m[i] != p2m[0] + i) {
      early_puts("minikernel-pv: needs machine-contiguous memory\r\n");
      pv_shutdown(SHUTDOWN_crash);
    }
  pv_boot_tables = si->pt_base;
  pv_boot_tables_end = si->pt_base + si->nr_pt_frames * PAGE;
  pv_shared_info_pte = si->shared_info | 3; /* present, writable */
  long rc = _hypercall(HYPERVISOR_update_va_mapping, &shared_info_page, pv_shared_info_pte, 0, UVMF_INVLPG, 0);
  if (rc) {
    early_puts("minikernel-pv: cannot map the shared info page\r\n");
    pv_shutdown(SHUTDOWN_crash);
  }
}

u32 phys_to_machine(u32 phys) {
  u32 pfn = phys >> 12;
  return pfn < nr_pages ? (p2m[pfn] << 12) | (phys & 0xFFF) : 0;
}
u32 machine_to_phys(u32 machine) { return machine - m_base; } /* contiguous: checked in pv_start */

void pv_set_pte(u32 *ptep, u32 val) {
  struct mmu_update u = {phys_to_machine((u32)ptep) | MMU_NORMAL_PT_UPDATE, val};
  long rc = _hypercall(HYPERVISOR_mmu_update, &u, 1, 0, DOMID_SELF, 0);
  if (rc) panic("mmu_update of %p to %x refused: %d", ptep, val, (int)rc);
}

/* Our kernel maps every frame at its pseudo-physical address: a page table must lose write access
 * there before the hypervisor will validate it, and regains it once it is a table no more. */
void pv_mark_pagetable(u32 frame, int is_table) {
  u32 pte = mk_pte(frame, is_table ? 1 : 3);
  long rc = _hypercall(HYPERVISOR_update_va_mapping, frame, pte, 0, UVMF_INVLPG, 0);
  if (rc) panic("update_va_mapping of %x refused: %d", frame, (int)rc);
}

static void mmuext(u32 cmd, u32 arg1) {
  struct mmuext_op op = {cmd, arg1, 0};
  long rc = _hypercall(HYPERVISOR_mmuext_op, &op, 1, 0, DOMID_SELF, 0);
  if (rc) panic("mmuext_op %u (%x) refused: %d", cmd, arg1, (int)rc);
}
void pv_new_baseptr(u32 *pd) { mmuext(MMUEXT_NEW_BASEPTR, phys_to_machine((u32)pd) >> 12); }
/* A context switch (Linux's xen_end_context_switch batches the same way): stack_switch and, when
 * the address space changes, MMUEXT_NEW_BASEPTR — two hypercalls for the price of one trap. */
void pv_switch_to(u32 esp0, u32 *pd) {
  static struct mmuext_op op;
  static struct multicall_entry mc[2];
  mc[0] = (struct multicall_entry){HYPERVISOR_stack_switch, 0, {KDATA, esp0, 0, 0, 0, 0}};
  u32 n = 1;
  if (pd) {
    op = (struct mmuext_op){MMUEXT_NEW_BASEPTR, phys_to_machine((u32)pd) >> 12, 0};
    mc[1] = (struct multicall_entry){HYPERVISOR_mmuext_op, 0, {(u32)&op, 1, 0, DOMID_SELF, 0, 0}};
    n = 2;
  }
  long rc = _hypercall(HYPERVISOR_multicall, mc, n, 0, 0, 0);
  if (rc || mc[0].result || (n == 2 && mc[1].result)) panic("context switch multicall failed");
}

void pv_pin(u32 *table, int level) {
  mmuext(level == 2 ? MMUEXT_PIN_L2_TABLE : MMUEXT_PIN_L1_TABLE, phys_to_machine((u32)table) >> 12);
}
void pv_unpin(u32 *table) { mmuext(MMUEXT_UNPIN_TABLE, phys_to_machine((u32)table) >> 12); }
void pv_invlpg(u32 va) { mmuext(MMUEXT_INVLPG_LOCAL, va); }

/* Events were unmasked with one pending: any hypercall returns through the hypervisor's event
 * delivery (Linux's xen_force_evtchn_callback uses xen_version too). */
void pv_force_callback(void) { _hypercall(HYPERVISOR_xen_version, 0, 0, 0, 0, 0); }

void pv_shutdown(int reason) {
  for (;;) {
    u32 arg = (u32)reason;
    _hypercall(HYPERVISOR_sched_op, SCHEDOP_shutdown, &arg, 0, 0, 0);
  }
}

static u32 bind_virq(u32 virq) {
  struct evtchn_bind_virq b = {virq, 0, 0};
  long rc = _hypercall(HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, &b, 0, 0, 0);
  if (rc) panic("bind_virq %u: %d", virq, (int)rc);
  shared_info_page.evtchn_mask[b.port / 32] &= ~(1u << (b.port % 32));
  return b.port;
}

static void arm_timer(void) {
  u64 now = vcpu0->time.system_time;
  while (next_timer <= now) next_timer += period_ns; /* ticks missed while events were masked are lost */
  _hypercall(HYPERVISOR_set_timer_op, (u32)next_timer, (u32)(next_timer >> 32), 0, 0, 0);
}

/* The virtual timer replaces the PIT: a one-shot event re-armed one period later at each tick. */
void pv_events_init(u32 hz) {
  timer_port = bind_virq(VIRQ_TIMER);
  console_port = bind_virq(VIRQ_CONSOLE);
  period_ns = 1000000000u / hz;
  next_timer = vcpu0->time.system_time + period_ns;
  arm_timer();
}

/* The event callback (Xen's evtchn_do_upcall): called with events masked. */
void pv_do_upcall(void) {
  vcpu0->evtchn_upcall_pending = 0;
  u32 sel = __atomic_exchange_n(&vcpu0->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
  while (sel) {
    u32 w = (u32)__builtin_ctz(sel);
    sel &= sel - 1;
    u32 pend = shared_info_page.evtchn_pending[w] & ~shared_info_page.evtchn_mask[w];
    while (pend) {
      u32 b = (u32)__builtin_ctz(pend);
      pend &= pend - 1;
      __atomic_fetch_and(&shared_info_page.evtchn_pending[w], ~(1u << b), __ATOMIC_SEQ_CST);
      u32 port = w * 32 + b;
      if (port == timer_port) {
        timer_tick();
        arm_timer();
      } else if (port == console_port) {
        pv_console_event();
      }
    }
  }
}
