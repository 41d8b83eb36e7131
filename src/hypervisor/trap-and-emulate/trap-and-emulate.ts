/**
 * Trap-and-emulate (Popek & Goldberg 1974, as x86 VMMs had to attempt it): the guest kernel runs
 * unmodified at real ring 1 with real IOPL 0, and the VMM learns of nothing but what faults. This
 * technique is the shared deprivileged-kernel machinery (../vmm/deprivileged.ts) used as it is:
 * every privileged or IOPL-sensitive instruction faults (#GP) into the VMM, which decodes it from
 * the guest's bytes and emulates it; what does not trap (POPF, PUSHF, PUSH CS, SGDT, …) shows in
 * the log only as an invisible silent event. Binary translation builds on the same base and
 * changes where the guest kernel's code runs.
 */
import { DeprivilegedVmm } from '../vmm/deprivileged.ts';
import type { Vm } from '../vmm/vm.ts';
import type { Vmm } from '../vmm/vmm.ts';

export class TrapAndEmulate extends DeprivilegedVmm {
  constructor(vmm: Vmm) {
    // Segment truncation keeps guest kernel reads off the VMM's slot (../vmm/slot-guard.ts).
    super(vmm, true);
  }

  /** Before each run of the CPU: the guest's segments stop below the VMM's slot. */
  beforeRun(vm: Vm): void {
    this.slotGuard?.enforce(vm);
  }
}
