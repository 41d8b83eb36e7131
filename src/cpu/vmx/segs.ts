/**
 * The VMCS fields of the guest's segment registers, indexed in the CPU's segment order (ES CS SS
 * DS FS GS, then LDTR and TR), and the host selector fields (SDM Vol. 3C §24.4.1, §24.5, App. B).
 * Shared by the VM-entry checks (entry-checks.ts) and the guest/host state loads (vmx.ts).
 */
import { F } from './fields.ts';

export const SEG_SEL = [
  F.GUEST_ES_SEL,
  F.GUEST_CS_SEL,
  F.GUEST_SS_SEL,
  F.GUEST_DS_SEL,
  F.GUEST_FS_SEL,
  F.GUEST_GS_SEL,
  F.GUEST_LDTR_SEL,
  F.GUEST_TR_SEL,
];
export const SEG_BASE = [
  F.GUEST_ES_BASE,
  F.GUEST_CS_BASE,
  F.GUEST_SS_BASE,
  F.GUEST_DS_BASE,
  F.GUEST_FS_BASE,
  F.GUEST_GS_BASE,
  F.GUEST_LDTR_BASE,
  F.GUEST_TR_BASE,
];
export const SEG_LIMIT = [
  F.GUEST_ES_LIMIT,
  F.GUEST_CS_LIMIT,
  F.GUEST_SS_LIMIT,
  F.GUEST_DS_LIMIT,
  F.GUEST_FS_LIMIT,
  F.GUEST_GS_LIMIT,
  F.GUEST_LDTR_LIMIT,
  F.GUEST_TR_LIMIT,
];
export const SEG_AR = [
  F.GUEST_ES_AR,
  F.GUEST_CS_AR,
  F.GUEST_SS_AR,
  F.GUEST_DS_AR,
  F.GUEST_FS_AR,
  F.GUEST_GS_AR,
  F.GUEST_LDTR_AR,
  F.GUEST_TR_AR,
];
export const HOST_SEL = [
  F.HOST_ES_SEL,
  F.HOST_CS_SEL,
  F.HOST_SS_SEL,
  F.HOST_DS_SEL,
  F.HOST_FS_SEL,
  F.HOST_GS_SEL,
];
/** Access-rights bit 16: the segment is unusable (§24.4.1). */
export const AR_UNUSABLE = 0x10000;
