/* minikernel as a host OS (-DHOST): the interface between the host kernel's hypervisor driver
 * (host.c), its user process VMApp (user/vmapp.c) and TrapLab's VMM. A Type 2 hypervisor in the
 * VMware Workstation split (Sugerman et al., USENIX ATC 2001): VMApp (a host process) asks the
 * driver to run the VM; the driver world-switches the physical CPU to the VMM and back; the VMM
 * returns whenever the host must act (guest console output, a host interrupt, an idle or stopped
 * guest). The two worlds share one page, the cross page (the name is VMware's). */
#pragma once
#include "abi.h"

/* The world-switch gate of the physical PC: `out dx, eax` with EAX = the cross page's physical
 * address switches the CPU to the VMM world (src/hypervisor/hosting/README.md). Ring 0 only:
 * host processes run at IOPL 0, so their OUT faults. */
#define HOST_SWITCH_PORT 0x0700
#define XP_MAGIC 0x31475058u /* "XPG1" */
#define XP_IN 256
#define XP_OUT 1024

enum { VMRUN_RUN = 1, VMRUN_CLOSE = 2 };
/* Why the VMM world handed the CPU back. */
enum { VMEXIT_OUTPUT = 1, VMEXIT_INTERRUPT = 2, VMEXIT_IDLE = 3, VMEXIT_STOPPED = 4 };

/* The cross page: host -> VMM (op, input), VMM -> host (reason, vector, status, output). */
struct crosspage {
  u32 magic, op, reason, vector, status, in_len, out_len, switches;
  u8 in[XP_IN];
  u8 out[XP_OUT];
};

/* What VMApp passes to vmrun(): the same fields, copied by the driver. */
struct vmrun {
  u32 op, reason, status, in_len, out_len;
  u8 in[XP_IN];
  u8 out[XP_OUT];
};

/* The guest's serial line: COM2 of the physical PC, opened by VMApp as file descriptor 3. */
#define FD_GUEST_TTY 3
