/**
 * Guest accesses the VMM's hidden slot must not see (binary translation, issue 12): the layer
 * that performs a guest instruction on the VMM's interpreter (interpreter.ts) — an access beyond a
 * segment limit the VMM cut below its slot (../vmm/slot-guard.ts hands it here), or a guest
 * instruction naming GS (the VMM's segment while the TC runs, vmm-gs.ts) or a `cs:` data override
 * (a callout) — and the guest's own segment view for the register panel. Layers: area.ts ←
 * coherence.ts ← this file ← binary-translation.ts.
 */
import type { CpuState } from '../../cpu/index.ts';
import { TrapAction, TrapKind, TrapOp } from '../vmm/trap-log.ts';
import type { Vm } from '../vmm/vm.ts';
import { Cls, Co, classify } from './classify.ts';
import { BtCoherence } from './coherence.ts';
import { applyResult, GuestInterpreter, guestView } from './interpreter.ts';
import type { BtState } from './state.ts';
import { CALLOUT_VECTOR } from './translator.ts';
import { guestGs } from './vmm-gs.ts';

const CS = 1;
const PF = 14;

export abstract class BtSlotAccess extends BtCoherence {
  /** The VMM's interpreter (interpreter.ts), shared by the VMs. */
  readonly interp = new GuestInterpreter();
  /** The vector of the event being handled (what sent an access beyond a cut limit here). */
  protected eventVector = 0;

  /**
   * One guest instruction on the VMM's interpreter with the guest's own view (interpreter.ts):
   * `why` -1 — the event being handled (a #GP(0)/#SS(0) raised in translated code by an access
   * beyond a limit the VMM cut below its slot: ../vmm/slot-guard.ts calls this instead of lending
   * the slot), or
   * CALLOUT_VECTOR — a callout for an instruction naming GS or reading through CS. The CPU's guest
   * EIP is `eip`; afterwards it is the next guest instruction (or the guest's exception handler).
   */
  protected interpretAt(vm: Vm, eip: number, why: number): boolean {
    const cpu = this.cpu;
    const b = this.bt[vm.index];
    const vmm = this.vmm;
    const guard = this.slotGuard;
    if (why < 0) why = this.eventVector;
    const from = guestView(
      cpu,
      vm,
      eip,
      (s) => guard?.guestLimitOf(vm, s) ?? cpu.segLim[s] >>> 0,
      guestGs(cpu, b),
    );
    // Go on while the guest's stack lies beyond the cut and the next instruction needs nothing
    // but the guest's own view (no I/O, CR, descriptor-table or interrupt-flag side effects).
    const cut = vm.shadow.vmmBase >>> 0;
    const r = this.interp.run(
      vm,
      from,
      (c) =>
        c.cpl === 0 &&
        c.regs[4] >>> 0 >= cut &&
        this.interpretable(b, c.ip, this.head(vm, c.segBase[CS] + c.ip)),
    );
    applyResult(cpu, vm, from, r.state, (sel, base, limit, ar) => {
      if (b.gsHeld) b.gs = { sel, base, limit, ar };
      else cpu.setSeg(5, sel, base, limit, ar);
    });
    const c = vmm.cost;
    vmm.record(
      vm,
      TrapKind.Callout,
      TrapOp.INTERPRET,
      r.vector < 0 ? TrapAction.Emulated : TrapAction.Reflected,
      (why === CALLOUT_VECTOR ? c.btCallout : c.roundTrip) + 300,
      0,
      why,
      r.vector < 0 ? 0xffffffff : r.vector,
      -1,
      r.done,
      eip,
    );
    vmm.recordBytes(vm, (cpu.segBase[CS] + eip) >>> 0);
    if (r.vector < 0) {
      cpu.eip = r.state.eip;
      cpu.ip = r.state.eip;
      return true;
    }
    cpu.eip = eip;
    cpu.ip = eip;
    if (r.vector === PF) vm.v.cr2 = r.faultAddr;
    this.reflect(vm, r.vector, r.errorCode, eip, false, eip, 0);
    return true;
  }

  /**
   * The guest's own view of its data segments for a register panel: each limit as its descriptor
   * has it (not the VMM's cut) and its GS (held while the TC runs). Empty while another VM runs.
   */
  guestSegments(
    vm: Vm,
    real: CpuState,
  ): Partial<
    Record<
      'es' | 'ss' | 'ds' | 'fs' | 'gs',
      { selector: number; base: number; limit: number; access: number }
    >
  > {
    const out: ReturnType<BtSlotAccess['guestSegments']> = {};
    const b = this.bt[vm.index];
    if (b.gsHeld)
      out.gs = { selector: b.gs.sel, base: b.gs.base >>> 0, limit: b.gs.limit >>> 0, access: b.gs.ar };
    const guard = this.slotGuard;
    if (guard === null || vm.saved !== null || this.vmm.current !== vm.index) return out;
    const names = ['es', 'cs', 'ss', 'ds', 'fs'] as const;
    for (let s = 0; s < 5; s++) {
      if (s === CS) continue;
      const k = names[s] as 'es' | 'ss' | 'ds' | 'fs';
      const g = real.segs[s];
      out[k] = { selector: g.sel, base: g.base >>> 0, limit: guard.guestLimitOf(vm, s), access: g.ar };
    }
    return out;
  }

  /**
   * The guest instruction at `eip` (whose first four bytes are `head`, -1 when unreadable) may run
   * on the interpreter as part of a run (see interpretAt). Answers are kept per EIP with the bytes
   * they were given for: the same entry sequences come back on every user↔kernel transition.
   */
  private interpretable(b: BtState, eip: number, head: number): boolean {
    if (head === -1) return false;
    const k = eip >>> 0;
    const known = this.runnable.get(k);
    if (known !== undefined && known.head === head) return known.ok;
    const c = classify(b.src.fetch(k, 15), k);
    let ok = c !== null && c.cls !== Cls.Bad;
    if (c !== null && (c.cls === Cls.Callout || c.cls === Cls.CalloutEnd))
      ok =
        c.co === Co.Ret ||
        c.co === Co.JmpInd ||
        c.co === Co.CallInd ||
        c.co === Co.Interpret ||
        c.co === Co.Pushf ||
        c.co === Co.Iret;
    if (this.runnable.size > 4096) this.runnable.clear();
    this.runnable.set(k, { head, ok });
    return ok;
  }
  private readonly runnable = new Map<number, { head: number; ok: boolean }>();
  /** The first four bytes of guest code at linear `lin` (through the guest's tables), or -1. */
  private head(vm: Vm, lin: number): number {
    try {
      return vm.mem.read(lin >>> 0, 4) | 0;
    } catch {
      return -1;
    }
  }
}
