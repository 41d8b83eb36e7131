/* minikernel: the kernel half of `bench`, nanobenchmarks after Adams & Agesen (ASPLOS 2006,
 * section 5.1). The loops are in boot.asm; here we check for a TSC and keep interrupts off. */
#include "kernel.h"

static int have_tsc = -1;

static int detect_tsc(void) {
  /* CPUID exists if EFLAGS.ID (bit 21) can be flipped (SDM Vol. 1, 3.4.3.3). */
  u32 before, after;
  __asm__ volatile("pushfl; popl %0; movl %0, %1; xorl $0x200000, %1; pushl %1; popfl; pushfl; popl %1; pushl %0; popfl"
                   : "=&r"(before), "=&r"(after));
  if (!((before ^ after) & 0x200000)) return 0;
  u32 eax = 0, ebx, ecx, edx;
  __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
  if (eax < 1) return 0;
  eax = 1;
  __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
  return (edx >> 4) & 1; /* CPUID.1:EDX.TSC */
}

int sys_bench(u32 id, u32 iters) {
  if (have_tsc < 0) have_tsc = detect_tsc();
  if (!have_tsc) return -1;
  if (iters == 0 || iters > 100000) return -2;
  u32 flags = irqsave();
  u32 cycles;
  switch (id) {
  case BENCH_IN: cycles = bench_in(iters); break;
  case BENCH_CRWRITE: cycles = bench_crwrite(iters); break;
  case BENCH_CALLRET: cycles = bench_callret(iters); break;
  case BENCH_PGFAULT:
    bench_pf_armed = 1;
    cycles = bench_pgfault(iters, bench_pte, BENCH_VA);
    bench_pf_armed = 0;
    break;
  case BENCH_DIVZERO: cycles = bench_divzero(iters); break;
  case BENCH_PTEMOD: cycles = bench_ptemod(iters, bench_pte, BENCH_VA); break;
  default: cycles = (u32)-3;
  }
  irqrestore(flags);
  return (int)cycles;
}
