/* minikernel: the COM1 console. Boot messages are polled; after uart_irq_init() the 16550 works
 * the way real drivers drive it: a receive interrupt fills a ring that read() sleeps on, and
 * write() fills a transmit ring that the THR-empty interrupt drains, up to one FIFO at a time
 * (PC16550D datasheet: IER bits 0-1, IIR identification codes 0x04/0x0C/0x02/0x06/0x00). */
#include "kernel.h"

#define COM1 0x3F8
#define LSR (COM1 + 5)
#define RX_SIZE 256
#define TX_SIZE 4096

static volatile u8 rx_buf[RX_SIZE];
static volatile u32 rx_head, rx_tail;
static volatile u8 tx_buf[TX_SIZE];
static volatile u32 tx_head, tx_tail;
static volatile int tx_busy;
static int irq_mode;
static u32 fifo_size = 1;

#ifdef PV
/* The console is the hypervisor's: output through console_io(write), input on the console event
 * channel, read with console_io(read). No UART, no port I/O. */
void uart_early_init(void) {}
int uart_has_fifo(void) { return 0; }
void uart_irq_init(void) { irq_mode = 1; }
void uart_irq(void) {}

void pv_console_event(void) {
  char b[16];
  long n;
  while ((n = _hypercall(HYPERVISOR_console_io, CONSOLEIO_read, sizeof b, b, 0, 0)) > 0)
    for (long i = 0; i < n; i++)
      if (rx_head - rx_tail < RX_SIZE) rx_buf[rx_head++ % RX_SIZE] = (u8)b[i];
  wake_readers();
}

int console_write(const char *buf, u32 n, int may_block) {
  (void)may_block;
  (void)tx_buf, (void)tx_head, (void)tx_tail, (void)tx_busy, (void)fifo_size;
  char out[128];
  u32 k = 0;
  for (u32 i = 0; i < n; i++) {
    if (buf[i] == '\n') out[k++] = '\r';
    out[k++] = buf[i];
    if (k >= sizeof out - 1 || i + 1 == n) {
      _hypercall(HYPERVISOR_console_io, CONSOLEIO_write, k, out, 0, 0);
      k = 0;
    }
  }
  return (int)n;
}

void console_flush(void) {}
#else
void uart_early_init(void) {
  outb(COM1 + 1, 0x00); /* IER: nothing yet */
  outb(COM1 + 3, 0x80); /* LCR.DLAB */
  outb(COM1 + 0, 1);    /* divisor 1: 115200 baud */
  outb(COM1 + 1, 0);
  outb(COM1 + 3, 0x03); /* 8N1 */
  outb(COM1 + 2, 0x07); /* FCR: enable and clear FIFOs, receive trigger at 1 byte */
  if ((inb(COM1 + 2) & 0xC0) == 0xC0) fifo_size = 16; /* IIR bits 7:6 = 11: a 16550A */
  outb(COM1 + 4, 0x0B); /* MCR: DTR, RTS, OUT2 (OUT2 gates the IRQ line on PC boards) */
}

static void poll_putc(char c) {
  while (!(inb(LSR) & 0x20)) {
  }
  outb(COM1, (u8)c);
}

int uart_has_fifo(void) { return fifo_size > 1; }

void uart_irq_init(void) {
  irq_mode = 1;
  outb(COM1 + 1, 0x03); /* IER: received data available, transmitter holding register empty */
}

/* Called with interrupts off, when the transmitter is idle: hand it up to one FIFO's worth. */
static void tx_fill(void) {
  u32 n = 0;
  while (n < fifo_size && tx_tail != tx_head) {
    outb(COM1, tx_buf[tx_tail % TX_SIZE]);
    tx_tail++;
    n++;
  }
  tx_busy = n > 0;
}

static void tx_start(void) {
  if (!tx_busy && (inb(LSR) & 0x20)) tx_fill();
}

void uart_irq(void) {
  for (int guard = 0; guard < 16; guard++) {
    u8 iir = inb(COM1 + 2);
    if (iir & 1) return; /* no interrupt pending */
    switch (iir & 0x0E) {
    case 0x04: /* received data available */
    case 0x0C: /* character timeout */
      while (inb(LSR) & 1) {
        u8 c = inb(COM1);
        if (rx_head - rx_tail < RX_SIZE) rx_buf[rx_head++ % RX_SIZE] = c;
      }
      wake_readers();
      break;
    case 0x02: /* THR empty (reading IIR cleared it) */
      tx_fill();
      wake_writers();
      break;
    case 0x06: inb(LSR); break;     /* line status */
    default: inb(COM1 + 6); break;  /* modem status */
    }
  }
}

/* Queue bytes for the UART, translating \n to \r\n. A process that finds the ring full sleeps
 * until the transmit interrupt makes room; the kernel itself (may_block = 0) drains by polling. */
int console_write(const char *buf, u32 n, int may_block) {
  if (!irq_mode) {
    for (u32 i = 0; i < n; i++) {
      if (buf[i] == '\n') poll_putc('\r');
      poll_putc(buf[i]);
    }
    return (int)n;
  }
  u32 flags = irqsave();
  for (u32 i = 0; i < n; i++) {
    for (int part = buf[i] == '\n' ? 0 : 1; part < 2; part++) {
      while (tx_head - tx_tail >= TX_SIZE) {
        tx_start();
        if (may_block) {
          block_current(2);
        } else {
          poll_putc((char)tx_buf[tx_tail % TX_SIZE]);
          tx_tail++;
          tx_busy = 1;
        }
      }
      tx_buf[tx_head++ % TX_SIZE] = part == 0 ? '\r' : (u8)buf[i];
    }
  }
  tx_start();
  irqrestore(flags);
  return (int)n;
}

#endif

/* Block until at least one byte has arrived; return up to n of them. */
int console_read(char *buf, u32 n) {
  u32 flags = irqsave();
  while (rx_head == rx_tail) block_current(1);
  u32 got = 0;
  while (got < n && rx_tail != rx_head) buf[got++] = (char)rx_buf[rx_tail++ % RX_SIZE];
  irqrestore(flags);
  return (int)got;
}

#ifndef PV
/* Push everything queued out by polling, and wait for the shift register to empty. */
void console_flush(void) {
  u32 flags = irqsave();
  while (tx_tail != tx_head) {
    poll_putc((char)tx_buf[tx_tail % TX_SIZE]);
    tx_tail++;
  }
  while (!(inb(LSR) & 0x40)) {
  }
  irqrestore(flags);
}
#endif

struct sbuf {
  char *p;
  u32 n, cap;
};
static void sbuf_put(char c, void *ctx) {
  struct sbuf *s = ctx;
  if (s->n < s->cap) s->p[s->n++] = c;
}

void kprintf(const char *fmt, ...) {
  char buf[256];
  struct sbuf s = {buf, 0, sizeof buf};
  va_list ap;
  va_start(ap, fmt);
  vformat(sbuf_put, &s, fmt, ap);
  va_end(ap);
  console_write(buf, s.n, 0);
}

void panic(const char *fmt, ...) {
  cli();
  if (irq_mode) console_flush();
  irq_mode = 0;
  char buf[256];
  struct sbuf s = {buf, 0, sizeof buf};
  va_list ap;
  va_start(ap, fmt);
  vformat(sbuf_put, &s, fmt, ap);
  va_end(ap);
  console_write("\n[mini] PANIC: ", 15, 0);
  console_write(buf, s.n, 0);
  console_write("\n", 1, 0);
#ifdef PV
  pv_shutdown(SHUTDOWN_crash);
#else
  outb(0xF4, 2); /* debug-exit: QEMU status 5 */
  for (;;) hlt();
#endif
}
