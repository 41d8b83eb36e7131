/* minikernel: descriptor tables (GDT with ring-0 and ring-3 segments and a TSS, IDT), the 8259A
 * interrupt controllers and the 8254 timer. */
#include "kernel.h"

struct tss {
  u32 link, esp0, ss0, esp1, ss1, esp2, ss2, cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
  u32 es, cs, ss, ds, fs, gs, ldt;
  u16 trap, iomap_base;
} __attribute__((packed));

struct dtr {
  u16 limit;
  u32 base;
} __attribute__((packed));

static struct tss tss;
#ifdef PV
static u64 gdt[512] __attribute__((aligned(4096))); /* set_gdt takes whole frames */
#else
static u64 gdt[6];
static u64 idt[0x81];
#endif
static struct dtr gdtr, idtr;
extern const u32 isr_table[49];

static u64 segment(u32 base, u32 limit, u8 access, u8 flags) {
  return (u64)(limit & 0xFFFF) | ((u64)(base & 0xFFFFFF) << 16) | ((u64)access << 40) |
         ((u64)((limit >> 16) & 0xF) << 48) | ((u64)flags << 52) | ((u64)(base >> 24) << 56);
}

#ifdef PV
/* Kernel segments with DPL 1 (the hypervisor refuses DPL 0); no TSS: the hypervisor owns it and
 * takes our ring-1 stack from stack_switch. */
void gdt_init(void) {
  gdt[1] = segment(0, 0xFFFFF, 0xBA, 0xC); /* 0x08|1 kernel code: DPL 1 */
  gdt[2] = segment(0, 0xFFFFF, 0xB2, 0xC); /* 0x10|1 kernel data */
  gdt[3] = segment(0, 0xFFFFF, 0xFA, 0xC); /* 0x18|3 user code: DPL 3 */
  gdt[4] = segment(0, 0xFFFFF, 0xF2, 0xC); /* 0x20|3 user data */
  u32 frames[1] = {phys_to_machine((u32)gdt) >> 12};
  long rc = _hypercall(HYPERVISOR_set_gdt, frames, 5, 0, 0, 0);
  if (rc) panic("set_gdt failed: %d", (int)rc);
  (void)gdtr;
  gdt_load(0, 0);
}

void tss_set_kernel_stack(u32 esp0) {
  (void)tss;
  _hypercall(HYPERVISOR_stack_switch, KDATA, esp0, 0, 0, 0);
}

extern char hypervisor_callback[], failsafe_callback[];

/* The virtual IDT: exceptions mask events on entry (like interrupt gates); int 0x80 has DPL 3,
 * which the hypervisor installs as a direct trap: system calls never enter the hypervisor. */
void idt_init(void) {
  static struct trap_info traps[34];
  for (int v = 0; v < 32; v++) traps[v] = (struct trap_info){(u8)v, 4, KCODE, isr_table[v]};
  traps[32] = (struct trap_info){0x80, 3, KCODE, isr_table[48]};
  long rc = _hypercall(HYPERVISOR_set_trap_table, traps, 0, 0, 0, 0);
  if (!rc) rc = _hypercall(HYPERVISOR_set_callbacks, KCODE, hypervisor_callback, KCODE, failsafe_callback, 0);
  if (rc) panic("set_trap_table/set_callbacks failed: %d", (int)rc);
  (void)idtr;
}

void pic_init(void) {}
void pic_eoi(int irq) { (void)irq; }
void pit_init(u32 hz) { pv_events_init(hz); }
#else
void gdt_init(void) {
  gdt[1] = segment(0, 0xFFFFF, 0x9A, 0xC); /* 0x08 kernel code: DPL 0, 4 GiB */
  gdt[2] = segment(0, 0xFFFFF, 0x92, 0xC); /* 0x10 kernel data */
  gdt[3] = segment(0, 0xFFFFF, 0xFA, 0xC); /* 0x18|3 user code: DPL 3 */
  gdt[4] = segment(0, 0xFFFFF, 0xF2, 0xC); /* 0x20|3 user data */
  gdt[5] = segment((u32)&tss, sizeof tss - 1, 0x89, 0); /* 0x28 available 32-bit TSS */
  tss.ss0 = KDATA;
  tss.iomap_base = sizeof tss; /* no I/O bitmap: ring 3 may touch no port (IOPL 0) */
  gdtr.limit = sizeof gdt - 1;
  gdtr.base = (u32)gdt;
  gdt_load(&gdtr, TSS_SEL);
}

/* The stack the CPU switches to when ring 3 is interrupted (SDM Vol. 3A, 6.12.1). */
void tss_set_kernel_stack(u32 esp0) { tss.esp0 = esp0; }

static void set_gate(int v, u32 handler, u8 type) {
  idt[v] = (u64)(handler & 0xFFFF) | ((u64)KCODE << 16) | ((u64)type << 40) | ((u64)(handler >> 16) << 48);
}

void idt_init(void) {
  for (int v = 0; v < 48; v++) set_gate(v, isr_table[v], 0x8E); /* interrupt gates, DPL 0 */
  set_gate(0x80, isr_table[48], 0xEF);                           /* system calls: trap gate, DPL 3 */
  idtr.limit = sizeof idt - 1;
  idtr.base = (u32)idt;
  __asm__ volatile("lidt %0" ::"m"(idtr));
}

void pic_init(void) {
  outb(0x20, 0x11); /* ICW1: edge triggered, cascade, ICW4 follows */
  outb(0xA0, 0x11);
  outb(0x21, 0x20); /* ICW2: IRQ0-7 -> vectors 0x20-0x27 */
  outb(0xA1, 0x28); /*       IRQ8-15 -> 0x28-0x2F */
  outb(0x21, 0x04); /* ICW3: slave on IRQ2 */
  outb(0xA1, 0x02);
  outb(0x21, 0x01); /* ICW4: 8086 mode */
  outb(0xA1, 0x01);
  outb(0x21, (u8) ~((1 << 0) | (1 << 4))); /* unmask the timer and COM1 */
  outb(0xA1, 0xFF);
}

void pic_eoi(int irq) {
  if (irq >= 8) outb(0xA0, 0x20);
  outb(0x20, 0x20);
}

void pit_init(u32 hz) {
  u32 divisor = (1193182 + hz / 2) / hz;
  outb(0x43, 0x34); /* channel 0, lobyte/hibyte, mode 2 (rate generator) */
  outb(0x40, (u8)divisor);
  outb(0x40, (u8)(divisor >> 8));
}
#endif
