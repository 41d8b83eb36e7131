/* minikernel: processes, the round-robin scheduler, the trap dispatcher and system calls.
 *
 * Each process has its own page directory and an 8 KiB kernel stack. A process leaves the CPU
 * only inside the kernel, in schedule(): voluntarily (sleep, a blocking read or write, yield,
 * exit) or on its way back to ring 3 after the timer said its slice was over (preemption). The
 * kernel itself is not preempted, except the idle loop. */
#include "kernel.h"

#define SLICE 5 /* ticks */
#define WAIT_RX 1
#define WAIT_TX 2

struct proc procs[NPROC];
struct proc *current;
volatile u32 ticks;
volatile int need_resched;
static int wait_for[NPROC];
static u8 kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));
static int next_pid = 1;
extern u8 boot_stack[]; /* boot.asm: the boot stack, KSTACK_SIZE bytes */

static struct proc *idle(void) { return &procs[0]; }

void proc_init_idle(void) {
  struct proc *p = idle();
  p->pid = 0;
  p->state = PS_RUNNING;
  strlcpy(p->name, "idle", sizeof p->name);
  p->pd = kernel_pd;
  p->kstack = boot_stack;
  current = p;
  tss_set_kernel_stack((u32)boot_stack + KSTACK_SIZE);
}

/* A new ring-3 process running a copy of `image` at USER_BASE, starting at `entry`. Its kernel
 * stack is laid out as if it had been switched out on its way back to user mode. */
struct proc *proc_create(const char *name, u32 entry, const u8 *image, u32 image_len) {
  int slot = 1;
  while (slot < NPROC && procs[slot].state != PS_UNUSED) slot++;
  if (slot == NPROC) return NULL;
  struct proc *p = &procs[slot];
  memset(p, 0, sizeof *p);
  p->pd = new_address_space();
  if (!p->pd) return NULL;
  for (u32 off = 0; off < image_len; off += PAGE) {
    u32 frame = alloc_frame();
    if (!frame) return NULL;
    memcpy((void *)frame, image + off, image_len - off < PAGE ? image_len - off : PAGE);
    map_user_page(p, USER_BASE + off, frame);
  }
  p->pid = next_pid++;
  strlcpy(p->name, name, sizeof p->name);
  p->kstack = kstacks[slot];
  struct regs *r = (struct regs *)(p->kstack + KSTACK_SIZE) - 1;
  memset(r, 0, sizeof *r);
  r->gs = r->fs = r->es = r->ds = UDATA;
  r->eip = entry;
  r->cs = UCODE;
  r->eflags = 0x202; /* IF */
  r->user_esp = USER_STACK_TOP;
  r->user_ss = UDATA;
  u32 *k = (u32 *)r;
  *--k = (u32)trapret; /* switch_context returns here */
  *--k = 0;            /* ebp */
  *--k = 0;            /* ebx */
  *--k = 0;            /* esi */
  *--k = 0;            /* edi */
  p->ksp = (u32)k;
  p->state = PS_RUNNABLE;
  return p;
}

void schedule(void) {
  u32 flags = irqsave();
  struct proc *prev = current, *next = idle();
  int start = (int)(prev - procs);
  for (int k = 1; k <= NPROC; k++) {
    struct proc *p = &procs[(start + k) % NPROC];
    if (p != idle() && (p->state == PS_RUNNABLE || (p == prev && p->state == PS_RUNNING))) {
      next = p;
      break;
    }
  }
  if (prev->state == PS_RUNNING) prev->state = PS_RUNNABLE;
  next->state = PS_RUNNING;
  next->slice = SLICE;
  if (next != prev) {
    next->switches++;
    current = next;
#ifdef PV
    /* One multicall: the new kernel stack and address space in a single trip to the hypervisor. */
    pv_switch_to((u32)next->kstack + KSTACK_SIZE, next->pd != prev->pd ? next->pd : NULL);
#else
    tss_set_kernel_stack((u32)next->kstack + KSTACK_SIZE);
    if (next->pd != prev->pd) write_cr3((u32)next->pd);
#endif
    switch_context(&prev->ksp, next->ksp);
  }
  irqrestore(flags);
}

/* Sleep until woken by wake_readers/wake_writers. Called with interrupts disabled. */
void block_current(int what) {
  current->state = PS_BLOCKED;
  wait_for[current - procs] = what;
  schedule();
}

static void wake(int what) {
  for (int i = 1; i < NPROC; i++)
    if (procs[i].state == PS_BLOCKED && wait_for[i] == what) {
      procs[i].state = PS_RUNNABLE;
      need_resched = 1;
    }
}
void wake_readers(void) { wake(WAIT_RX); }
void wake_writers(void) { wake(WAIT_TX); }

void timer_tick(void) {
  ticks++;
  current->ticks++;
  for (int i = 1; i < NPROC; i++)
    if (procs[i].state == PS_SLEEPING && (i32)(ticks - procs[i].wake_tick) >= 0) {
      procs[i].state = PS_RUNNABLE;
      need_resched = 1;
    }
  if (current != idle() && --current->slice <= 0) need_resched = 1;
}

void do_exit(int code) {
  cli();
  struct proc *p = current;
  if (p->pid == 1) {
    kprintf("[mini] the shell (pid 1) exited with status %d: powering off\n", code);
    console_flush();
#ifdef PV
    pv_shutdown(code == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
#else
    outb(0xF4, (u8)code); /* isa-debug-exit: QEMU exits with (code << 1) | 1 */
    for (;;) hlt();
#endif
  }
  write_cr3((u32)kernel_pd);
  free_user_space(p);
  p->pd = kernel_pd;
  p->exit_code = code;
  p->state = PS_ZOMBIE;
  schedule();
  panic("a dead process was scheduled");
}

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
    "device not available", "double fault", "coprocessor overrun", "invalid TSS", "segment not present",
    "stack fault", "general protection", "page fault", "reserved", "x87 error", "alignment check",
    "machine check", "SIMD error"};

static void exception(struct regs *r) {
  const char *name = r->vector < 32 && exception_names[r->vector] ? exception_names[r->vector] : "exception";
  if ((r->cs & 3) == 3) {
    kprintf("[mini] pid %d (%s): %s (vector %u, error %x) at eip 0x%08x: killed\n", current->pid, current->name,
            name, r->vector, r->err, r->eip);
    do_exit(-(int)r->vector - 1);
  }
  panic("%s (vector %u, error %x) in the kernel at eip 0x%08x", name, r->vector, r->err, r->eip);
}

#ifndef PV
static void irq(int n) {
  if (n == 7 || n == 15) { /* spurious? then the PIC's in-service bit is clear (8259A datasheet) */
    u16 cmd = n == 7 ? 0x20 : 0xA0;
    outb(cmd, 0x0B); /* OCW3: read ISR */
    if (!(inb(cmd) & 0x80)) {
      if (n == 15) outb(0x20, 0x20);
      return;
    }
  }
  pic_eoi(n); /* first: the next tick may be taken on another process's stack */
  if (n == 0) timer_tick();
  else if (n == 4) uart_irq();
}
#endif

void trap(struct regs *r) {
  if (r->vector == 0x80) {
    current->syscalls++;
    syscall(r);
#ifdef PV
  } else if (r->vector == VECTOR_EVENT) {
    pv_do_upcall(); /* events instead of interrupts */
  } else if (r->vector == 13 && r->eip == (u32)bench_in_site) {
    r->eip += 2; /* the `in` nanobenchmark: port I/O at ring 1 faults (reflected); skip it */
#else
  } else if (r->vector >= 32 && r->vector < 48) {
    irq((int)r->vector - 32);
#endif
  } else if (r->vector == 14) {
    page_fault(r);
  } else if (r->vector == 0 && r->eip == (u32)bench_div_site) {
    r->eip += 2; /* the divzero nanobenchmark: skip the 2-byte DIV */
  } else {
    exception(r);
  }
  if (need_resched && ((r->cs & 3) == 3 || current == idle())) {
    need_resched = 0;
    schedule();
  }
}

/* ---- system calls ------------------------------------------------------------------------- */

static int user_range(u32 p, u32 n) { return p >= USER_BASE && p <= USER_END && n <= USER_END - p; }

static int sys_write(u32 fd, u32 buf, u32 len) {
#ifdef HOST
  if (fd == FD_GUEST_TTY && user_range(buf, len)) return host_tty_write((const char *)buf, len);
#endif
  if (fd != 1 && fd != 2) return -1;
  if (!user_range(buf, len)) return -1;
  char k[128];
  for (u32 done = 0; done < len;) {
    u32 n = len - done < sizeof k ? len - done : sizeof k;
    memcpy(k, (const void *)(buf + done), n); /* may demand-fault: fine, we are the process */
    console_write(k, n, 1);
    done += n;
  }
  return (int)len;
}

static int sys_read(u32 fd, u32 buf, u32 len) {
#ifdef HOST
  if (fd == FD_GUEST_TTY && user_range(buf, len)) return host_tty_read((char *)buf, len);
#endif
  if (fd != 0) return -1;
  if (!user_range(buf, len)) return -1;
  if (len == 0) return 0;
  char k[64];
  int n = console_read(k, len < sizeof k ? len : sizeof k);
  memcpy((void *)buf, k, (u32)n);
  return n;
}

static int sys_psinfo(u32 slot, u32 out) {
  if (!user_range(out, sizeof(struct ps_entry))) return -1;
  if (slot >= NPROC) return -1;
  struct ps_entry e;
  struct proc *p = &procs[slot];
  memset(&e, 0, sizeof e);
  e.pid = (u32)p->pid;
  e.state = (u32)p->state;
  e.ticks = p->ticks;
  e.switches = p->switches;
  e.syscalls = p->syscalls;
  e.faults = p->faults;
  e.pages = p->pages;
  e.work = p->work;
  e.exit_code = p->exit_code;
  memcpy(e.name, p->name, sizeof e.name);
  memcpy((void *)out, &e, sizeof e);
  return 0;
}

void syscall(struct regs *r) {
  u32 a = r->ebx, b = r->ecx, c = r->edx;
  int ret = -1;
  switch (r->eax) {
  case SYS_EXIT: do_exit((int)a);
  case SYS_WRITE: ret = sys_write(a, b, c); break;
  case SYS_READ: ret = sys_read(a, b, c); break;
  case SYS_YIELD:
    schedule();
    ret = 0;
    break;
  case SYS_SLEEP: {
    u32 flags = irqsave();
    current->wake_tick = ticks + (a ? a : 1);
    current->state = PS_SLEEPING;
    schedule();
    irqrestore(flags);
    ret = 0;
    break;
  }
  case SYS_GETPID: ret = current->pid; break;
  case SYS_REPORT:
    current->work = a;
    ret = 0;
    break;
  case SYS_PSINFO: ret = sys_psinfo(a, b); break;
  case SYS_UPTIME: ret = (int)ticks; break;
  case SYS_MEMINFO:
    if (user_range(a, sizeof(struct mem_info))) {
      struct mem_info m;
      mem_stats(&m);
      memcpy((void *)a, &m, sizeof m);
      ret = 0;
    }
    break;
  case SYS_BENCH: ret = sys_bench(a, b); break;
#ifdef HOST
  case SYS_VMRUN: ret = sys_vmrun(a); break;
#endif
  }
  r->eax = (u32)ret;
}
