/* minikernel: shared kernel declarations and the few instructions C cannot express. */
#pragma once
#include <stdarg.h>
#include "abi.h"

#define NULL ((void *)0)
#define HZ 100
#define NPROC 8
#define KSTACK_SIZE 8192
#define PAGE 4096u
#define KERNEL_MAP_BYTES (64u << 20) /* identity-mapped, supervisor-only, in every address space */
#define BENCH_VA 0x3FC00000u         /* one kernel page the pgfault/ptemod benchmarks play with */

#ifdef PV
#include "xen.h"
#define KCODE 0x09 /* the kernel runs in ring 1 under the hypervisor: its segments have DPL 1, RPL 1 */
#define KDATA 0x11
#else
#define KCODE 0x08
#define KDATA 0x10
#endif
#define UCODE 0x1B
#define UDATA 0x23
#define TSS_SEL 0x28

/* The frame every entry stub builds (boot.asm), lowest address first. */
struct regs {
  u32 gs, fs, es, ds;
  u32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
  u32 vector, err;
  u32 eip, cs, eflags, user_esp, user_ss; /* the last two only when coming from ring 3 */
};

struct proc {
  int pid, state;
  char name[12];
  u32 ksp;      /* saved kernel stack pointer while switched out */
  u32 *pd;      /* page directory (frames are identity-mapped) */
  u8 *kstack;   /* KSTACK_SIZE bytes */
  u32 wake_tick;
  int slice, exit_code;
  u32 ticks, switches, syscalls, faults, pages, tables, work;
};

#ifdef PV
/* The paravirtual layer: the kernel knows it runs on a hypervisor. The virtual IF is the
 * upcall mask in the shared info page (plain memory writes, no trap); HLT becomes a blocking
 * hypercall; CR2 comes from the shared info page; CR3 and INVLPG are hypercalls (pv.c). */
static inline void cli(void) {
  vcpu0->evtchn_upcall_mask = 1;
  __asm__ volatile("" ::: "memory");
}
static inline void sti(void) {
  __asm__ volatile("" ::: "memory");
  vcpu0->evtchn_upcall_mask = 0;
  __asm__ volatile("" ::: "memory");
  if (vcpu0->evtchn_upcall_pending) pv_force_callback();
}
static inline void hlt(void) { _hypercall(HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0); }
static inline void safe_halt(void) { hlt(); } /* SCHEDOP_block unmasks events itself */
static inline u32 irqsave(void) {
  u32 flags = vcpu0->evtchn_upcall_mask;
  vcpu0->evtchn_upcall_mask = 1;
  __asm__ volatile("" ::: "memory");
  return flags;
}
static inline void irqrestore(u32 flags) {
  __asm__ volatile("" ::: "memory");
  vcpu0->evtchn_upcall_mask = (u8)flags;
  __asm__ volatile("" ::: "memory");
  if (!flags && vcpu0->evtchn_upcall_pending) pv_force_callback();
}
static inline u32 read_cr2(void) { return vcpu0->cr2; }
static inline void write_cr3(u32 v) { pv_new_baseptr((u32 *)v); }
static inline void invlpg(u32 va) { pv_invlpg(va); }
/* Page-table entries hold machine frames; updates go through validated hypercalls. */
static inline u32 mk_pte(u32 phys, u32 flags) { return phys_to_machine(phys) | flags; }
static inline u32 pte_phys(u32 pte) { return machine_to_phys(pte & ~0xFFFu); }
static inline void set_pte(u32 *ptep, u32 val) { pv_set_pte(ptep, val); }
#else
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) {
  u8 v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
static inline void safe_halt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

/* The interrupt-save idiom of real kernels (Linux: local_irq_save/local_irq_restore). POPF is
 * the catch: at CPL > IOPL it silently leaves IF alone (SDM Vol. 2B, POPF), so a kernel that
 * runs deprivileged under pure trap-and-emulate never gets its interrupts back. */
static inline u32 irqsave(void) {
  u32 flags;
  __asm__ volatile("pushfl; popl %0; cli" : "=r"(flags)::"memory");
  return flags;
}
static inline void irqrestore(u32 flags) { __asm__ volatile("pushl %0; popfl" ::"r"(flags) : "memory", "cc"); }

static inline u32 read_cr2(void) {
  u32 v;
  __asm__ volatile("movl %%cr2, %0" : "=r"(v));
  return v;
}
static inline void write_cr3(u32 v) { __asm__ volatile("movl %0, %%cr3" ::"r"(v) : "memory"); }
static inline void invlpg(u32 va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }

static inline u32 mk_pte(u32 phys, u32 flags) { return phys | flags; }
static inline u32 pte_phys(u32 pte) { return pte & ~0xFFFu; }
static inline void set_pte(u32 *ptep, u32 val) { *ptep = val; }
#endif

#ifdef HOST
/* host.c: the hypervisor driver and the guest's serial line (COM2) */
void host_init(void);
int sys_vmrun(u32 uarg);
int host_tty_write(const char *buf, u32 n);
int host_tty_read(char *buf, u32 n);
#endif
/* lib.c */
void *memset(void *d, int c, u32 n);
void *memcpy(void *d, const void *s, u32 n);
void strlcpy(char *d, const char *s, u32 n);
/* fmt.c */
int vformat(void (*put)(char, void *), void *ctx, const char *fmt, va_list ap);
/* console.c */
void uart_early_init(void);
void uart_irq_init(void);
void uart_irq(void);
int uart_has_fifo(void);
void kprintf(const char *fmt, ...);
int console_write(const char *buf, u32 n, int may_block);
int console_read(char *buf, u32 n);
void console_flush(void);
void panic(const char *fmt, ...) __attribute__((noreturn));
/* cpu.c */
void gdt_init(void);
void idt_init(void);
void pic_init(void);
void pit_init(u32 hz);
void tss_set_kernel_stack(u32 esp0);
void pic_eoi(int irq);
/* mm.c */
extern u32 ram_kb;
void mm_init(u32 ram_top, u32 kernel_end);
u32 alloc_frame(void);
void free_frame(u32 frame);
u32 *new_address_space(void);
void free_user_space(struct proc *p);
int map_user_page(struct proc *p, u32 va, u32 frame);
void page_fault(struct regs *r);
void mem_stats(struct mem_info *m);
extern u32 *kernel_pd;
extern u32 *bench_pte;
extern volatile int bench_pf_armed;
/* proc.c */
extern struct proc procs[NPROC];
extern struct proc *current;
extern volatile u32 ticks;
extern volatile int need_resched;
void proc_init_idle(void);
struct proc *proc_create(const char *name, u32 entry, const u8 *image, u32 image_len);
void schedule(void);
void timer_tick(void);
void wake_readers(void);
void wake_writers(void);
void block_current(int what);
void do_exit(int code) __attribute__((noreturn));
void syscall(struct regs *r);
/* bench.c and boot.asm */
int sys_bench(u32 id, u32 iters);
extern u32 bench_in(u32 n), bench_crwrite(u32 n), bench_callret(u32 n);
extern u32 bench_pgfault(u32 n, u32 *pte, u32 va), bench_divzero(u32 n), bench_ptemod(u32 n, u32 *pte, u32 va);
extern char bench_div_site[];
#ifdef PV
#define VECTOR_EVENT 256 /* struct regs.vector of an event upcall (boot.asm) */
extern char bench_in_site[];
extern u32 pv_boot_tables, pv_boot_tables_end, pv_shared_info_pte;
#endif
void switch_context(u32 *save_ksp, u32 new_ksp);
void gdt_load(void *gdtr, u32 tss_sel);
extern char trapret[];
extern char _end[];
extern const u8 user_image[], user_image_end[];
