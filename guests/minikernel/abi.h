/* The interface between minikernel and its user programs: system call numbers, the structures
 * the informational calls fill in, and the user address-space layout. Shared by both sides. */
#pragma once

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int i32;
typedef unsigned long long u64;

/* System calls: int 0x80, EAX = number, EBX/ECX/EDX = arguments, result in EAX (< 0: error). */
enum {
  SYS_EXIT,    /* exit(code): never returns; when pid 1 (the shell) exits the machine powers off */
  SYS_WRITE,   /* write(fd 1|2, buf, len) -> bytes queued for the UART (blocks while the queue is full) */
  SYS_READ,    /* read(fd 0, buf, len) -> bytes received (blocks until at least one arrives) */
  SYS_YIELD,   /* yield(): give up the rest of the time slice */
  SYS_SLEEP,   /* sleep(ticks): block for at least that many 10 ms timer ticks */
  SYS_GETPID,  /* getpid() */
  SYS_REPORT,  /* report(value): publish a progress counter shown by `ps` */
  SYS_PSINFO,  /* psinfo(slot, struct ps_entry *) -> 0, or -1 past the last slot */
  SYS_UPTIME,  /* uptime() -> timer ticks since boot */
  SYS_MEMINFO, /* meminfo(struct mem_info *) */
  SYS_BENCH,   /* bench(id, iterations) -> TSC cycles for the whole loop, -1 without a TSC */
#ifdef HOST
  SYS_VMRUN,   /* vmrun(struct vmrun *): the host's hypervisor driver runs the VM (host.h) */
#endif
  NSYSCALLS
};

enum { BENCH_IN = 1, BENCH_CRWRITE, BENCH_CALLRET, BENCH_PGFAULT, BENCH_DIVZERO, BENCH_PTEMOD };

enum { PS_UNUSED, PS_RUNNABLE, PS_RUNNING, PS_SLEEPING, PS_BLOCKED, PS_ZOMBIE };

struct ps_entry {
  u32 pid, state, ticks, switches, syscalls, faults, pages, work;
  i32 exit_code;
  char name[12];
};

struct mem_info {
  u32 ram_kb;         /* RAM reported by the loader (lower + upper) */
  u32 managed_frames; /* 4 KiB frames the allocator manages */
  u32 free_frames;
  u32 kernel_frames;  /* frames below the allocator: the kernel image, its tables and stacks */
  u32 user_pages;     /* frames mapped into user address spaces */
  u32 page_tables;    /* frames holding page directories and user page tables */
  u32 demand_faults;  /* page faults answered with a fresh zeroed frame */
};

/* User address space (each process has its own page directory). */
#define USER_BASE 0x40000000u       /* program image, copied here at creation */
#define USER_HEAP 0x50000000u       /* demand-zero */
#define USER_STACK_TOP 0x80000000u  /* grows down, demand-zero */
#define USER_END 0x80000000u

#ifdef HOST
#include "host.h"
#endif
