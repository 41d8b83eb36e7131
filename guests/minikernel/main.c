/* minikernel: boot. Everything up to `sti` runs without the interrupt-save idiom; the first
 * message after it goes through the console lock (pushf; cli; ... popf), and then the kernel
 * waits for the timer with HLT. Natively that is unremarkable. Under pure trap-and-emulate the
 * POPF runs at ring 1 with IOPL 0 and silently keeps IF clear (the VMM never sees it), so no
 * timer interrupt is ever delivered and the HLT waits forever: Robin & Irvine's POPF, live. */
#include "kernel.h"

struct user_header {
  u32 magic, count;
  u32 entry[4];
};

#ifdef HOST
#define NPROGS 2 /* the host runs its shell and VMApp, the hosted hypervisor's user process */
static const char *const prog_names[NPROGS] = {"shell", "vmapp"};
#else
#define NPROGS 4
static const char *const prog_names[NPROGS] = {"shell", "primes", "pager", "counter"};
#endif

#ifdef PV
void kmain(const struct start_info *si) {
  pv_start(si);
  kprintf("\nminikernel 1.0: a small real kernel for TrapLab (i486, ring 1 kernel on a Xen-style hypervisor, "
          "ring 3 processes)\n");
  u32 ram_top = si->nr_pages << 12;
  ram_kb = si->nr_pages * 4;
  gdt_init();
  idt_init();
  kprintf("[mini] cpu: GDT with ring 1 and ring 3 segments (set_gdt); virtual IDT with 32 vectors and int 0x80 "
          "as a direct trap (set_trap_table)\n");
  pic_init();
  pit_init(HZ);
  kprintf("[mini] events: timer (VIRQ_TIMER) at %u Hz and console (VIRQ_CONSOLE) bound to event channels\n", HZ);
  mm_init(ram_top, pv_boot_tables_end + PAGE); /* after the bootstrap tables and stack */
#else
void kmain(u32 magic, const u32 *mbi) {
  uart_early_init();
  kprintf("\nminikernel 1.0: a small real kernel for TrapLab (i486, ring 0 kernel, ring 3 processes)\n");
  if (magic != 0x2BADB002) panic("not started by a multiboot loader");
  u32 ram_top = 0x100000;
  if (mbi[0] & 1) { /* mem_lower, mem_upper in KiB (Multiboot 0.6.96, 3.3) */
    ram_kb = mbi[1] + mbi[2];
    ram_top = 0x100000 + mbi[2] * 1024;
  }
  gdt_init();
  idt_init();
  kprintf("[mini] cpu: GDT with ring 0 and ring 3 segments and a TSS; IDT with 48 vectors and int 0x80\n");
  pic_init();
  pit_init(HZ);
  kprintf("[mini] pic: IRQs at vectors 0x20-0x2F; pit: channel 0 at %u Hz\n", HZ);
  mm_init(ram_top, (u32)_end);
#endif
  struct mem_info m;
  proc_init_idle();
  mem_stats(&m);
  kprintf("[mini] memory: %u KiB from the loader, paging on, %u free frames of 4 KiB\n", m.ram_kb, m.free_frames);
#ifdef PV
  kprintf("[mini] console: the hypervisor's (console_io), input on its event channel\n");
#else
  kprintf("[mini] uart: COM1 on IRQ 4, interrupt-driven receive and transmit (%s)\n",
          uart_has_fifo() ? "16550A, 16-byte FIFO" : "no FIFO");
#endif
  uart_irq_init();
#ifdef HOST
  host_init();
#endif

  sti();
  kprintf("[mini] interrupts on; waiting for the timer\n"); /* the first irqsave/irqrestore */
  u32 t0 = ticks;
  while (ticks - t0 < 3) hlt();
  kprintf("[mini] timer: ticking\n");

  const struct user_header *h = (const struct user_header *)user_image;
  if (h->magic != 0x494E494D || h->count != NPROGS) panic("bad user image");
  for (u32 i = 0; i < h->count; i++)
    if (!proc_create(prog_names[i], h->entry[i], user_image, (u32)(user_image_end - user_image)))
      panic("cannot create process %s", prog_names[i]);
#ifdef HOST
  kprintf("[host] processes: shell (pid 1), vmapp (2); scheduler on\n");
#else
  kprintf("[mini] processes: shell (pid 1), primes (2), pager (3), counter (4); scheduler on\n");
#endif
  schedule();
  for (;;) safe_halt(); /* process 0: the idle loop */
}
