/* minikernel built as a host OS (-DHOST): the hypervisor driver (VMware's VMDriver) and the COM2
 * driver VMApp uses for the guest's serial line. Everything else — processes, the COM1 console and
 * shell, the PIC and PIT — is the ordinary minikernel, native at ring 0 on the physical PC. */
#include "kernel.h"

#define COM2 0x2F8

/* The cross page: in the kernel's identity-mapped bss, so its virtual address is physical. */
static struct crosspage xp __attribute__((aligned(4096)));

static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port) : "memory"); }

void host_init(void) {
  outb(COM2 + 1, 0x00); /* IER: polled (VMApp reads and writes it from its loop) */
  outb(COM2 + 3, 0x80);
  outb(COM2 + 0, 1);
  outb(COM2 + 1, 0);
  outb(COM2 + 3, 0x03);
  outb(COM2 + 2, 0x07);
  outb(COM2 + 4, 0x03);
  xp.magic = XP_MAGIC;
  kprintf("[host] vmm driver: cross page at 0x%08x, world-switch gate port 0x%x; guest line on COM2\n", (u32)&xp,
          HOST_SWITCH_PORT);
}

/* The interrupt that made the VMM world hand the CPU back was acknowledged there; deliver it here
 * through the host's own IDT, as VMware's driver re-raises it (`int n` needs an immediate). */
static void reraise(u32 v) {
#define V(n) case n: __asm__ volatile("int $" #n ::: "memory"); break;
  switch (v) {
    V(0x20) V(0x21) V(0x22) V(0x23) V(0x24) V(0x25) V(0x26) V(0x27)
    V(0x28) V(0x29) V(0x2A) V(0x2B) V(0x2C) V(0x2D) V(0x2E) V(0x2F)
  }
#undef V
}

static int user_ok(u32 p, u32 n) { return p >= USER_BASE && p <= USER_END && n <= USER_END - p; }

/* vmrun(struct vmrun *): one trip into the VMM world and back. Returns why it came back. */
int sys_vmrun(u32 uarg) {
  if (!user_ok(uarg, sizeof(struct vmrun))) return -1;
  struct vmrun *u = (struct vmrun *)uarg;
  u32 n = u->in_len < XP_IN ? u->in_len : XP_IN;
  memcpy(xp.in, u->in, n);
  xp.in_len = n;
  xp.op = u->op;
  xp.out_len = 0;
  u32 flags = irqsave(); /* the switch runs with host interrupts off; they wait in the PIC */
  outl(HOST_SWITCH_PORT, (u32)&xp); /* world switch: returns when the VMM hands the CPU back */
  u32 v = xp.vector;
  xp.vector = 0;
  if (v) reraise(v);
  irqrestore(flags);
  u->reason = xp.reason;
  u->status = xp.status;
  u->out_len = xp.out_len < XP_OUT ? xp.out_len : XP_OUT;
  memcpy(u->out, xp.out, u->out_len);
  return (int)xp.reason;
}

/* The guest's serial line (fd 3): polled COM2. write() waits for the transmitter, read() never
 * blocks (VMApp also has a VM to run). */
int host_tty_write(const char *buf, u32 n) {
  for (u32 i = 0; i < n; i++) {
    while (!(inb(COM2 + 5) & 0x20)) {
    }
    outb(COM2, (u8)buf[i]);
  }
  return (int)n;
}

int host_tty_read(char *buf, u32 n) {
  u32 got = 0;
  while (got < n && (inb(COM2 + 5) & 1)) buf[got++] = (char)inb(COM2);
  return (int)got;
}
