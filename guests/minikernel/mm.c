/* minikernel: physical frames, page tables and the page-fault handler.
 *
 * Every address space shares the kernel's identity map of the first 64 MiB (supervisor-only,
 * 4 KiB pages: an i486 has no 4 MiB pages) and the benchmark page; user space is
 * 0x40000000-0x7FFFFFFF, private to each process, filled on demand with zeroed frames. */
#include "kernel.h"

#define KERNEL_PTS (KERNEL_MAP_BYTES >> 22)
#define MAX_FRAMES (KERNEL_MAP_BYTES >> 12)
#define MAX_USER_PAGES 1024
#define PTE_P 1u
#define PTE_W 2u
#define PTE_U 4u

u32 ram_kb;
static u32 kpd[1024] __attribute__((aligned(4096)));
static u32 kpts[KERNEL_PTS][1024] __attribute__((aligned(4096)));
static u32 bench_pt[1024] __attribute__((aligned(4096)));
static u8 bench_page[4096] __attribute__((aligned(4096)));
u32 *kernel_pd = kpd;
u32 *bench_pte;
volatile int bench_pf_armed;

static u8 frame_used[MAX_FRAMES / 8];
static u32 first_frame, end_frame, free_frames, next_hint, demand_faults;

#ifdef PV
/* A page that is (or is about to be) a page table is mapped read-only in the kernel's map: the
 * hypervisor refuses to validate a table anything can write (direct paging, Xen-style). */
static void kmap_readonly(u32 addr) { kpts[addr >> 22][(addr >> 12) & 1023] &= ~PTE_W; }
#endif

void mm_init(u32 ram_top, u32 kernel_end) {
  for (u32 t = 0; t < KERNEL_PTS; t++) {
    for (u32 i = 0; i < 1024; i++) kpts[t][i] = mk_pte((t * 1024 + i) << 12, PTE_P | PTE_W);
    kpd[t] = mk_pte((u32)kpts[t], PTE_P | PTE_W);
  }
  kpd[BENCH_VA >> 22] = mk_pte((u32)bench_pt, PTE_P | PTE_W);
  bench_pte = &bench_pt[(BENCH_VA >> 12) & 1023];
  *bench_pte = mk_pte((u32)bench_page, PTE_P | PTE_W);
#ifdef PV
  /* Our new tables, and the bootstrap ones still in use, become read-only in the new map; the
   * shared info page keeps its machine frame. Then the new tables are made read-only in the
   * bootstrap map too, pinned (validated) and loaded. */
  kmap_readonly((u32)kpd);
  kmap_readonly((u32)bench_pt);
  for (u32 t = 0; t < KERNEL_PTS; t++) kmap_readonly((u32)kpts[t]);
  for (u32 a = pv_boot_tables; a < pv_boot_tables_end; a += PAGE) kmap_readonly(a);
  for (u32 f = ram_top >> 12; f < MAX_FRAMES; f++) kpts[f >> 10][f & 1023] = 0; /* no RAM: no mapping */
  u32 si = (u32)&shared_info_page;
  kpts[si >> 22][(si >> 12) & 1023] = pv_shared_info_pte;
  pv_mark_pagetable((u32)kpd, 1);
  pv_mark_pagetable((u32)bench_pt, 1);
  for (u32 t = 0; t < KERNEL_PTS; t++) pv_mark_pagetable((u32)kpts[t], 1);
  pv_pin(kpd, 2);
  write_cr3((u32)kpd);
  pv_unpin((u32 *)pv_boot_tables);
#else
  write_cr3((u32)kpd);
  __asm__ volatile("movl %%cr0, %%eax; orl $0x80000000, %%eax; movl %%eax, %%cr0" ::: "eax", "memory");
#endif

  first_frame = (kernel_end + PAGE - 1) >> 12;
  end_frame = (ram_top < KERNEL_MAP_BYTES ? ram_top : KERNEL_MAP_BYTES) >> 12;
  memset(frame_used, 0xFF, sizeof frame_used);
  for (u32 f = first_frame; f < end_frame; f++) frame_used[f / 8] &= (u8) ~(1 << (f % 8));
  free_frames = end_frame > first_frame ? end_frame - first_frame : 0;
  next_hint = first_frame;
}

/* A zeroed 4 KiB frame (its physical address, which is also its kernel address), or 0. */
u32 alloc_frame(void) {
  u32 flags = irqsave();
  u32 found = 0;
  for (u32 k = 0; k < end_frame - first_frame && free_frames; k++) {
    u32 f = next_hint;
    next_hint = next_hint + 1 < end_frame ? next_hint + 1 : first_frame;
    if (!(frame_used[f / 8] & (1 << (f % 8)))) {
      frame_used[f / 8] |= (u8)(1 << (f % 8));
      free_frames--;
      found = f << 12;
      break;
    }
  }
  irqrestore(flags);
  if (found) memset((void *)found, 0, PAGE);
  return found;
}

void free_frame(u32 frame) {
  u32 f = frame >> 12;
  u32 flags = irqsave();
  if (f >= first_frame && f < end_frame && (frame_used[f / 8] & (1 << (f % 8)))) {
    frame_used[f / 8] &= (u8) ~(1 << (f % 8));
    free_frames++;
  }
  irqrestore(flags);
}

/* A page directory sharing the kernel's mappings (everything below USER_BASE). */
u32 *new_address_space(void) {
  u32 *pd = (u32 *)alloc_frame();
  if (pd) memcpy(pd, kpd, (USER_BASE >> 22) * 4);
#ifdef PV
  if (pd) {
    pv_mark_pagetable((u32)pd, 1);
    pv_pin(pd, 2);
  }
#endif
  return pd;
}

int map_user_page(struct proc *p, u32 va, u32 frame) {
  u32 *pde = &p->pd[va >> 22];
  if (!(*pde & PTE_P)) {
    u32 pt = alloc_frame();
    if (!pt) return -1;
#ifdef PV
    pv_mark_pagetable(pt, 1);
#endif
    set_pte(pde, mk_pte(pt, PTE_P | PTE_W | PTE_U));
    p->tables++;
  }
  u32 *pt = (u32 *)pte_phys(*pde);
  set_pte(&pt[(va >> 12) & 1023], mk_pte(frame, PTE_P | PTE_W | PTE_U)); /* was not present: no INVLPG */
  p->pages++;
  return 0;
}

/* Free every user frame, page table and the directory. The caller runs on another CR3. */
void free_user_space(struct proc *p) {
#ifdef PV
  pv_unpin(p->pd); /* no longer a page table: its frames may be made writable again */
#endif
  for (u32 i = USER_BASE >> 22; i < USER_END >> 22; i++) {
    if (!(p->pd[i] & PTE_P)) continue;
    u32 *pt = (u32 *)pte_phys(p->pd[i]);
    for (u32 j = 0; j < 1024; j++)
      if (pt[j] & PTE_P) free_frame(pte_phys(pt[j]));
#ifdef PV
    pv_mark_pagetable((u32)pt, 0);
#endif
    free_frame((u32)pt);
  }
#ifdef PV
  pv_mark_pagetable((u32)p->pd, 0);
#endif
  free_frame((u32)p->pd);
  p->pages = p->tables = 0;
}

/* #PF: the error code says why (SDM Vol. 3A, 4.7: bit 0 present, 1 write, 2 user); CR2 where. */
void page_fault(struct regs *r) {
  u32 addr = read_cr2();
  if ((addr & ~0xFFFu) == BENCH_VA && bench_pf_armed && !(r->err & 1)) {
    set_pte(bench_pte, *bench_pte | PTE_P); /* the pgfault nanobenchmark: map it again and retry */
    return;
  }
  if (!(r->err & 1) && addr >= USER_BASE && addr < USER_END && current->pd != kernel_pd) {
    u32 frame = current->pages < MAX_USER_PAGES ? alloc_frame() : 0;
    if (frame && map_user_page(current, addr & ~0xFFFu, frame) == 0) {
      current->faults++;
      demand_faults++;
      return;
    }
    if (frame) free_frame(frame);
    kprintf("[mini] pid %d (%s): out of memory at 0x%08x: killed\n", current->pid, current->name, addr);
    do_exit(-12);
  }
  if ((r->cs & 3) == 3) {
    kprintf("[mini] pid %d (%s): page fault at 0x%08x (eip 0x%08x, error %x): killed\n", current->pid, current->name,
            addr, r->eip, r->err);
    do_exit(-11);
  }
  panic("page fault in the kernel at 0x%08x, eip 0x%08x, error %x", addr, r->eip, r->err);
}

void mem_stats(struct mem_info *m) {
  m->ram_kb = ram_kb;
  m->managed_frames = end_frame - first_frame;
  m->free_frames = free_frames;
  m->kernel_frames = first_frame;
  m->user_pages = m->page_tables = 0;
  for (int i = 0; i < NPROC; i++) {
    struct proc *p = &procs[i];
    if (p->state == PS_UNUSED) continue;
    m->user_pages += p->pages;
    m->page_tables += p->tables + (p->pd != kernel_pd ? 1 : 0);
  }
  m->demand_faults = demand_faults;
}
