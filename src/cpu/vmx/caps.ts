/**
 * The VMX capability MSRs (SDM Vol. 3C Appendix A, 0x480–0x490) and IA32_FEATURE_CONTROL (0x3A,
 * §23.7) as this CPU reports them: what VMXON, the VMCS controls and EPT may use.
 */
import {
  CR0_FIXED0,
  CR0_FIXED1,
  CR4_FIXED0,
  CR4_FIXED1,
  CTL_CAPS,
  PROC,
  TIMER_RATE,
  VMCS_REVISION,
} from './fields.ts';

/** RDMSR of IA32_FEATURE_CONTROL or a VMX capability MSR: [lo, hi], or null if `msr` is not one. */
export function capabilityMsr(msr: number, featureControl: number): [number, number] | null {
  switch (msr) {
    case 0x3a:
      return [featureControl, 0];
    case 0x480:
      // Revision, VMCS region size 4096 (bits 44:32), memory type WB (6, bits 53:50), INS/OUTS
      // information (bit 54), true controls (bit 55). Bit 48 = 1: addresses limited to 32 bits.
      return [VMCS_REVISION, 0x1000 | (1 << 16) | (6 << 18) | (1 << 22) | (1 << 23)];
    case 0x481:
    case 0x48d:
      return [CTL_CAPS.pin.must, CTL_CAPS.pin.may];
    case 0x482:
    case 0x48e:
      // The non-"true" MSR keeps CR3-load/store exiting default-1 (App. A.3.2).
      return [
        msr === 0x482 ? CTL_CAPS.proc.must | PROC.CR3_LOAD | PROC.CR3_STORE : CTL_CAPS.proc.must,
        CTL_CAPS.proc.may,
      ];
    case 0x483:
    case 0x48f:
      return [CTL_CAPS.exit.must, CTL_CAPS.exit.may];
    case 0x484:
    case 0x490:
      return [CTL_CAPS.entry.must, CTL_CAPS.entry.may];
    case 0x485:
      // MISC: timer rate, activity state HLT supported (bit 6), 4 CR3 targets (bits 24:16).
      return [TIMER_RATE | (1 << 6) | (4 << 16), 0];
    case 0x486:
      return [CR0_FIXED0, 0];
    case 0x487:
      return [CR0_FIXED1, 0];
    case 0x488:
      return [CR4_FIXED0, 0];
    case 0x489:
      return [CR4_FIXED1, 0];
    case 0x48a:
      return [0x2e << 1, 0]; // VMCS_ENUM: highest index 0x17 (bits 9:1)
    case 0x48b:
      return [CTL_CAPS.proc2.must, CTL_CAPS.proc2.may];
    case 0x48c:
      // EPT_VPID_CAP: execute-only translations (0), 4-level walk (6), WB (14), 2 MiB pages (16),
      // INVEPT (20), single-context (25) and all-context (26) INVEPT, EPT A/D bits (21).
      // INVVPID (bit 32) with all four types (bits 40–43).
      return [
        1 | (1 << 6) | (1 << 14) | (1 << 16) | (1 << 20) | (1 << 21) | (1 << 25) | (1 << 26),
        1 | (0xf << 8),
      ];
    default:
      return null;
  }
}
