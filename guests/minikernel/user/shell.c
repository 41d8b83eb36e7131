/* minikernel's serial shell (pid 1, ring 3). Everything it knows about the system it learns
 * through system calls; everything it shows goes through write(). */
#include "ulib.h"

#ifdef HOST
#define PROMPT "host$ " /* the host OS of a Type 2 hypervisor (host.c) */
#else
#define PROMPT "mini$ "
#endif

static void help(void) {
  printf("commands:\n"
         "  help          this list\n"
         "  ps            processes: state, CPU ticks, switches, syscalls, page faults, pages, work\n"
         "  uptime        time since boot\n"
         "  mem           physical memory and paging statistics\n"
         "  cpuid         what the CPU says about itself\n"
         "  bench [name]  nanobenchmarks after Adams & Agesen (2006), cycles per operation:\n"
         "                syscall in cr-write call/ret pgfault divzero ptemod\n"
         "  exit          leave the shell; pid 1 exiting powers the machine off (port 0xF4)\n");
}

static const char *const state_names[] = {"unused", "ready", "running", "sleeping", "blocked", "exited"};

static void ps(void) {
  printf("  PID NAME      STATE       CPU SWITCHES SYSCALLS FAULTS PAGES       WORK\n");
  struct ps_entry e;
  for (u32 slot = 0; psinfo(slot, &e) == 0; slot++) {
    if (e.state == PS_UNUSED) continue;
    char st[16];
    if (e.state == PS_ZOMBIE) snformat(st, sizeof st, "exited(%d)", e.exit_code);
    else snformat(st, sizeof st, "%s", state_names[e.state < 6 ? e.state : 0]);
    printf("%5u %-9s %-10s %4u %8u %8u %6u %5u %10u\n", e.pid, e.name, st, e.ticks, e.switches, e.syscalls, e.faults,
           e.pages, e.work);
  }
}

static void show_uptime(void) {
  u32 t = uptime();
  printf("up %u.%02u s (%u timer ticks of 10 ms)\n", t / 100, t % 100, t);
}

static void mem(void) {
  struct mem_info m;
  meminfo(&m);
  printf("RAM reported by the loader:  %u KiB\n", m.ram_kb);
  printf("frames managed:              %u (%u KiB), %u free\n", m.managed_frames, m.managed_frames * 4,
         m.free_frames);
  printf("kernel image, tables, stacks: %u frames below the allocator\n", m.kernel_frames);
  printf("user pages mapped:           %u\n", m.user_pages);
  printf("page directories and tables: %u\n", m.page_tables);
  printf("demand-zero page faults:     %u\n", m.demand_faults);
}

/* CPUID exists when EFLAGS.ID can be flipped; ring 3 may flip it. */
static int has_cpuid(void) {
  u32 a, b;
  __asm__ volatile("pushfl; popl %0; movl %0, %1; xorl $0x200000, %1; pushl %1; popfl; pushfl; popl %1; pushl %0; popfl"
                   : "=&r"(a), "=&r"(b));
  return ((a ^ b) & 0x200000) != 0;
}

static void cpuid(u32 leaf, u32 r[4]) {
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(0));
}

static int has_tsc(void) {
  u32 r[4];
  if (!has_cpuid()) return 0;
  cpuid(0, r);
  if (r[0] < 1) return 0;
  cpuid(1, r);
  return (r[3] >> 4) & 1;
}

static void show_cpuid(void) {
  if (!has_cpuid()) {
    printf("cpuid: not available (EFLAGS.ID cannot be changed): an early i486\n");
    return;
  }
  u32 r[4];
  cpuid(0, r);
  char vendor[13];
  memcpy(vendor, &r[1], 4);
  memcpy(vendor + 4, &r[3], 4);
  memcpy(vendor + 8, &r[2], 4);
  vendor[12] = 0;
  printf("vendor: %s, highest leaf %u\n", vendor, r[0]);
  if (r[0] < 1) return;
  cpuid(1, r);
  printf("family %u, model %u, stepping %u\n", (r[0] >> 8) & 15, (r[0] >> 4) & 15, r[0] & 15);
  static const char *const edx_names[32] = {
      "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce", "cx8", "apic", 0, "sep", "mtrr", "pge", "mca", "cmov",
      "pat", "pse36", "psn", "clfsh", 0, "ds", "acpi", "mmx", "fxsr", "sse", "sse2", "ss", "htt", "tm", 0, "pbe"};
  printf("features:");
  for (int i = 0; i < 32; i++)
    if ((r[3] >> i) & 1 && edx_names[i]) printf(" %s", edx_names[i]);
  if (r[2] & 1) printf(" sse3");
  if (r[2] >> 31) printf(" hypervisor");
  printf("\n");
}

struct benchmark {
  const char *name;
  u32 id, iters;
  const char *what;
};
static const struct benchmark benchmarks[] = {
    {"syscall", 0, 1000, "int 0x80 from ring 3 + iret (getpid)"},
    {"in", BENCH_IN, 1000, "in al, 0x80 in the kernel"},
    {"cr-write", BENCH_CRWRITE, 1000, "mov to cr0 (toggling TS, as lazy FPU switching does)"},
    {"call/ret", BENCH_CALLRET, 10000, "near call + ret"},
    {"pgfault", BENCH_PGFAULT, 1000, "clear PTE.P, invlpg, touch: #PF, handler maps, iret"},
    {"divzero", BENCH_DIVZERO, 1000, "div by 0: #DE, handler skips the div, iret"},
    {"ptemod", BENCH_PTEMOD, 1000, "store to a live PTE + invlpg"},
};
#define NBENCH (sizeof benchmarks / sizeof benchmarks[0])

static void run_bench(const struct benchmark *b) {
  u32 best = 0xFFFFFFFFu;
  for (int trial = 0; trial < 3; trial++) { /* best of 3: a timer tick may land in a ring-3 loop */
    int c = b->id == 0 ? (int)bench_syscall(b->iters) : bench(b->id, b->iters);
    if (c < 0) {
      printf("  %-9s failed (%d)\n", b->name, c);
      return;
    }
    if ((u32)c < best) best = (u32)c;
  }
  u32 tenths = best < 400000000u ? best * 10 / b->iters : best / b->iters * 10;
  printf("  %-9s %8u.%u cycles/op  (%u ops: %s)\n", b->name, tenths / 10, tenths % 10, b->iters, b->what);
}

static void run_benchmarks(const char *name) {
  if (!has_tsc()) {
    printf("bench: this CPU has no time-stamp counter (RDTSC); try qemu -cpu pentium\n");
    return;
  }
  int ran = 0;
  if (!*name) printf("bench: TSC cycles per operation, best of 3 runs\n");
  for (u32 i = 0; i < NBENCH; i++) {
    const struct benchmark *b = &benchmarks[i];
    int match = !*name || strcmp(name, b->name) == 0 || (strcmp(name, "callret") == 0 && b->id == BENCH_CALLRET) ||
                (strcmp(name, "crwrite") == 0 && b->id == BENCH_CRWRITE);
    if (match) run_bench(b), ran = 1;
  }
  if (!ran) printf("bench: unknown benchmark '%s' (try: syscall in cr-write call/ret pgfault divzero ptemod)\n", name);
}

static char *skip_spaces(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  return s;
}

static void run(char *line) {
  char *cmd = skip_spaces(line);
  char *arg = cmd;
  while (*arg && *arg != ' ' && *arg != '\t') arg++;
  if (*arg) *arg++ = 0;
  arg = skip_spaces(arg);
  for (char *e = arg + 0; *e; e++)
    if (*e == ' ' || *e == '\t') {
      *e = 0;
      break;
    }
  if (!*cmd) return;
  if (!strcmp(cmd, "help")) help();
  else if (!strcmp(cmd, "ps")) ps();
  else if (!strcmp(cmd, "uptime")) show_uptime();
  else if (!strcmp(cmd, "mem")) mem();
  else if (!strcmp(cmd, "cpuid")) show_cpuid();
  else if (!strcmp(cmd, "bench")) run_benchmarks(arg);
  else if (!strcmp(cmd, "exit")) exit(0);
  else printf("%s: unknown command (try help)\n", cmd);
}

int shell_main(void) {
  printf("mini shell, pid %d: type help\n", getpid());
  char line[80];
  u32 len = 0;
  char prev = 0;
  printf(PROMPT);
  for (;;) {
    char in[32];
    int n = read(0, in, sizeof in);
    for (int i = 0; i < n; i++) {
      char c = in[i];
      if (c == '\n' && prev == '\r') { /* CR LF from a terminal: one line end */
        prev = c;
        continue;
      }
      prev = c;
      if (c == '\r' || c == '\n') {
        write(1, "\n", 1);
        line[len] = 0;
        run(line);
        len = 0;
        printf(PROMPT);
      } else if (c == 8 || c == 127) {
        if (len) {
          len--;
          write(1, "\b \b", 3);
        }
      } else if (c >= ' ' && c < 127 && len + 1 < sizeof line) {
        line[len++] = c;
        write(1, &c, 1);
      }
    }
  }
}
