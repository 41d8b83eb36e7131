/*
 * A QEMU TCG plugin (API version 1, QEMU 7.2) that counts executed guest instructions, to measure
 * where the Linux guest's boot spends its instructions. Not part of the product: a measuring tool
 * for the reference boot (see README.md, "Instruction counts").
 *
 *   gcc -shared -fPIC -O2 -o insncount.so qemu-insn-count.c
 *   qemu-system-i386 ... -plugin ./insncount.so,mark=start_kernel@0xc1234567,mark=...
 *
 * Each mark NAME@ADDR prints the running count the first time an instruction at virtual address
 * ADDR executes (addresses from System.map or `nm busybox`); the total is printed at exit.
 * profile=FILE writes "vaddr count" lines (instructions executed per translated block) at exit,
 * to be summed per symbol against System.map; by default at exit, or when a mark whose name starts
 * with '!' is first reached (e.g. mark=!prompt@ADDR profiles the boot up to the shell prompt).
 * QEMU counts each iteration of a REP string instruction as one instruction.
 *
 * Only the handful of plugin API declarations we use are written out here (their signatures are
 * QEMU's public plugin ABI), so the tool builds without QEMU's source tree.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*vcpu_udata_cb)(unsigned int vcpu_index, void *userdata);
typedef void (*udata_cb)(qemu_plugin_id_t id, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, vcpu_udata_cb cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void *userdata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_MARKS 32
static struct mark {
  char name[64];
  uint64_t addr;
  bool hit;
} marks[MAX_MARKS];
static int n_marks;
static uint64_t count; /* one vCPU: a plain counter is exact */
static const char *profile_path;
static struct block {
  uint64_t vaddr;
  uint64_t count;
  struct block *next;
} *blocks;

static void dump_profile(void) {
  if (!profile_path) return;
  FILE *f = fopen(profile_path, "w");
  if (!f) return;
  for (struct block *b = blocks; b; b = b->next)
    if (b->count) fprintf(f, "%" PRIx64 " %" PRIu64 "\n", b->vaddr, b->count);
  fclose(f);
  profile_path = NULL;
}

static void on_mark(unsigned int vcpu, void *udata) {
  (void)vcpu;
  struct mark *m = udata;
  if (m->hit) return;
  m->hit = true;
  char buf[160];
  snprintf(buf, sizeof buf, "insns: %-24s %12" PRIu64 "\n", m->name, count);
  qemu_plugin_outs(buf);
  if (m->name[0] == '!') dump_profile();
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  struct block *b = NULL;
  if (profile_path && n > 0) {
    b = calloc(1, sizeof *b);
    if (!b) abort();
    b->vaddr = qemu_plugin_insn_vaddr(qemu_plugin_tb_get_insn(tb, 0));
    b->next = blocks;
    blocks = b;
  }
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t va = qemu_plugin_insn_vaddr(insn);
    /* The mark callback runs before the instruction's own count is added. */
    for (int k = 0; k < n_marks; k++)
      if (!marks[k].hit && marks[k].addr == va)
        qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, &marks[k]);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
    if (b) qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &b->count, 1);
  }
}

static void on_exit_cb(qemu_plugin_id_t id, void *udata) {
  (void)id;
  (void)udata;
  char buf[96];
  snprintf(buf, sizeof buf, "insns: %-24s %12" PRIu64 "\n", "total", count);
  qemu_plugin_outs(buf);
  dump_profile();
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i];
    if (strncmp(a, "profile=", 8) == 0) {
      profile_path = a + 8;
      continue;
    }
    if (strncmp(a, "mark=", 5) != 0 || n_marks == MAX_MARKS) return -1;
    const char *at = strchr(a + 5, '@');
    if (!at || (size_t)(at - (a + 5)) >= sizeof marks[0].name) return -1;
    memcpy(marks[n_marks].name, a + 5, (size_t)(at - (a + 5)));
    marks[n_marks].addr = strtoull(at + 1, NULL, 0);
    n_marks++;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
  return 0;
}
