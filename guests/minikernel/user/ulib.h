/* minikernel user library: system-call wrappers and a few string helpers. */
#pragma once
#include <stdarg.h>
#include "../abi.h"

int syscall3(int n, u32 a, u32 b, u32 c);
void exit(int code) __attribute__((noreturn));
u32 bench_syscall(u32 n);

static inline int write(int fd, const void *buf, u32 n) { return syscall3(SYS_WRITE, (u32)fd, (u32)buf, n); }
static inline int read(int fd, void *buf, u32 n) { return syscall3(SYS_READ, (u32)fd, (u32)buf, n); }
static inline void yield(void) { syscall3(SYS_YIELD, 0, 0, 0); }
static inline void sleep(u32 ticks) { syscall3(SYS_SLEEP, ticks, 0, 0); }
static inline int getpid(void) { return syscall3(SYS_GETPID, 0, 0, 0); }
static inline void report(u32 v) { syscall3(SYS_REPORT, v, 0, 0); }
static inline int psinfo(u32 slot, struct ps_entry *e) { return syscall3(SYS_PSINFO, slot, (u32)e, 0); }
static inline u32 uptime(void) { return (u32)syscall3(SYS_UPTIME, 0, 0, 0); }
static inline int meminfo(struct mem_info *m) { return syscall3(SYS_MEMINFO, (u32)m, 0, 0); }
static inline int bench(u32 id, u32 iters) { return syscall3(SYS_BENCH, id, iters, 0); }
#ifdef HOST
static inline int vmrun(struct vmrun *r) { return syscall3(SYS_VMRUN, (u32)r, 0, 0); }
#endif

int vformat(void (*put)(char, void *), void *ctx, const char *fmt, va_list ap);
void printf(const char *fmt, ...);
void snformat(char *buf, u32 size, const char *fmt, ...);
int strcmp(const char *a, const char *b);
void *memset(void *d, int c, u32 n);
void *memcpy(void *d, const void *s, u32 n);
