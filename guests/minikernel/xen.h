/* minikernel-pv: the Xen x86_32 paravirtual ABI the PV build uses (numbers and layouts as in Xen's
 * public headers xen.h, event_channel.h, sched.h, vcpu.h, arch-x86/xen-x86_32.h), and the
 * hypercall wrappers. Only compiled with -DPV. Hypercalls go through the hypercall page the
 * hypervisor fills at build time: `call hypercall_page + nr * 32` (EAX = nr, args EBX..EDI). */
#pragma once
#include "abi.h"

enum {
  HYPERVISOR_set_trap_table = 0, HYPERVISOR_mmu_update = 1, HYPERVISOR_set_gdt = 2,
  HYPERVISOR_stack_switch = 3, HYPERVISOR_set_callbacks = 4, HYPERVISOR_fpu_taskswitch = 5,
  HYPERVISOR_multicall = 13, HYPERVISOR_update_va_mapping = 14, HYPERVISOR_set_timer_op = 15,
  HYPERVISOR_xen_version = 17, HYPERVISOR_console_io = 18, HYPERVISOR_iret = 23,
  HYPERVISOR_mmuext_op = 26, HYPERVISOR_sched_op = 29, HYPERVISOR_event_channel_op = 32,
};
enum { CONSOLEIO_write = 0, CONSOLEIO_read = 1 };
enum { SCHEDOP_yield = 0, SCHEDOP_block = 1, SCHEDOP_shutdown = 2 };
enum { SHUTDOWN_poweroff = 0, SHUTDOWN_reboot = 1, SHUTDOWN_suspend = 2, SHUTDOWN_crash = 3 };
enum { MMUEXT_PIN_L1_TABLE = 0, MMUEXT_PIN_L2_TABLE = 1, MMUEXT_UNPIN_TABLE = 4, MMUEXT_NEW_BASEPTR = 5,
       MMUEXT_TLB_FLUSH_LOCAL = 6, MMUEXT_INVLPG_LOCAL = 7 };
enum { UVMF_NONE = 0, UVMF_TLB_FLUSH = 1, UVMF_INVLPG = 2 };
enum { EVTCHNOP_bind_virq = 1, EVTCHNOP_unmask = 9 };
enum { VIRQ_TIMER = 0, VIRQ_CONSOLE = 2 };
#define MMU_NORMAL_PT_UPDATE 0
#define DOMID_SELF 0x7FF0u

struct start_info {
  char magic[32];      /* "xen-3.0-x86_32" */
  u32 nr_pages;        /* total pages of the domain */
  u32 shared_info;     /* MACHINE address of the shared info page */
  u32 flags;
  u32 store_mfn, store_evtchn, console_mfn, console_evtchn;
  u32 pt_base;         /* VIRTUAL address of the bootstrap page directory */
  u32 nr_pt_frames;    /* bootstrap page-table frames (directory included) */
  u32 mfn_list;        /* VIRTUAL address of the pseudo-physical → machine frame list */
  u32 mod_start, mod_len;
  char cmd_line[1024];
};

struct vcpu_time_info {
  u32 version, pad0;
  u64 tsc_timestamp, system_time; /* system_time: ns since the domain started */
  u32 tsc_to_system_mul;
  signed char tsc_shift;
  char pad1[3];
};

struct vcpu_info {
  volatile u8 evtchn_upcall_pending; /* an event is pending: the hypervisor will upcall */
  volatile u8 evtchn_upcall_mask;    /* the virtual IF, inverted: 1 = events masked */
  volatile u32 evtchn_pending_sel;   /* which words of evtchn_pending to scan */
  u32 cr2;                           /* arch_vcpu_info: the guest-visible CR2 … */
  u32 arch_pad[5];
  struct vcpu_time_info time;
};

struct shared_info {
  struct vcpu_info vcpu_info[32];
  volatile u32 evtchn_pending[32];
  volatile u32 evtchn_mask[32];
  u32 wc_version, wc_sec, wc_nsec;
  u8 rest_of_page[4096 - 2316]; /* we remap a whole page of ours onto it: nothing else may live there */
};
_Static_assert(sizeof(struct shared_info) == 4096, "shared_info fills its page");

struct trap_info {
  u8 vector;
  u8 flags; /* bits 0-1: DPL that may INT n to it; bit 2: mask events on entry (an interrupt gate) */
  u16 cs;
  u32 address;
};

struct mmu_update {
  u64 ptr; /* machine address of the entry | MMU_NORMAL_PT_UPDATE */
  u64 val;
};

struct mmuext_op {
  u32 cmd;
  u32 arg1; /* mfn or linear address */
  u32 arg2;
};

struct multicall_entry {
  u32 op, result;
  u32 args[6];
};

struct evtchn_bind_virq {
  u32 virq, vcpu, port;
};

extern char hypercall_page[];
extern struct shared_info shared_info_page;
#define vcpu0 (&shared_info_page.vcpu_info[0])

#define _hypercall(nr, a1, a2, a3, a4, a5)                                                                     \
  ({                                                                                                           \
    long __r;                                                                                                  \
    u32 __b = (u32)(a1), __c = (u32)(a2), __d = (u32)(a3), __s = (u32)(a4), __D = (u32)(a5);                   \
    __asm__ volatile("call hypercall_page + %c[off]"                                                           \
                     : "=a"(__r), "+b"(__b), "+c"(__c), "+d"(__d), "+S"(__s), "+D"(__D)                        \
                     : [off] "i"((nr) * 32)                                                                    \
                     : "memory");                                                                              \
    __r;                                                                                                       \
  })

/* The pv_ops of this kernel: pv.c */
void pv_start(const struct start_info *si);
u32 phys_to_machine(u32 phys);
u32 machine_to_phys(u32 machine);
void pv_set_pte(u32 *ptep, u32 val);
void pv_mark_pagetable(u32 frame, int is_table);
void pv_new_baseptr(u32 *pd);
void pv_switch_to(u32 esp0, u32 *pd);
void pv_pin(u32 *table, int level);
void pv_unpin(u32 *table);
void pv_invlpg(u32 va);
void pv_force_callback(void);
void pv_shutdown(int reason) __attribute__((noreturn));
void pv_events_init(u32 hz);
void pv_do_upcall(void);
int pv_console_write(const char *buf, u32 n);
void pv_console_event(void);
