/* VMApp: the hosted hypervisor's user process (VMware Workstation's VMApp, Sugerman et al. 2001).
 * It runs the VM through the host driver (vmrun) and does the guest's I/O with ordinary system
 * calls: guest console output -> write(3) -> the host's COM2 driver; typed input <- read(3). */
#include "ulib.h"

static struct vmrun run;

int vmapp_main(void) {
  u32 trips = 0;
  for (;;) {
    int in = read(FD_GUEST_TTY, run.in, sizeof run.in);
    run.in_len = in > 0 ? (u32)in : 0;
    run.op = VMRUN_RUN;
    int why = vmrun(&run);
    if (why <= 0) { /* the OUT went nowhere: this PC has no VMM behind its gate (booted alone) */
      printf("vmapp: no VMM behind the world-switch gate; exiting\n");
      return 1;
    }
    report(++trips); /* `ps` on the host: WORK = trips into the VMM world */
    if (run.out_len) write(FD_GUEST_TTY, run.out, run.out_len);
    if (why == VMEXIT_STOPPED) {
      run.op = VMRUN_CLOSE;
      run.in_len = 0;
      vmrun(&run);
      return (int)run.status;
    }
    if (why == VMEXIT_IDLE) sleep(1);
  }
}
