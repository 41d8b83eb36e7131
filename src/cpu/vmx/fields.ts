/**
 * VMCS field encodings, control bits, exit reasons and VM-instruction error numbers
 * (Intel SDM Vol.3C Appendix B "Field Encoding in VMCS", §24.6–24.9, Appendix C, §30.4).
 *
 * An encoding's bits 14:13 give the width (0 = 16-bit, 1 = 64-bit, 2 = 32-bit, 3 = natural),
 * bits 11:10 the type (0 = control, 1 = VM-exit information (read-only), 2 = guest state,
 * 3 = host state), bit 0 the access type (1 = the high 32 bits of a 64-bit field) — §24.11.2.
 * On an IA-32 processor natural-width fields are 32 bits wide.
 */

// biome-ignore format: a table
export const F = {
  // 16-bit
  VPID: 0x0000,
  GUEST_ES_SEL: 0x0800, GUEST_CS_SEL: 0x0802, GUEST_SS_SEL: 0x0804, GUEST_DS_SEL: 0x0806,
  GUEST_FS_SEL: 0x0808, GUEST_GS_SEL: 0x080a, GUEST_LDTR_SEL: 0x080c, GUEST_TR_SEL: 0x080e,
  HOST_ES_SEL: 0x0c00, HOST_CS_SEL: 0x0c02, HOST_SS_SEL: 0x0c04, HOST_DS_SEL: 0x0c06,
  HOST_FS_SEL: 0x0c08, HOST_GS_SEL: 0x0c0a, HOST_TR_SEL: 0x0c0c,
  // 64-bit
  IO_BITMAP_A: 0x2000, IO_BITMAP_B: 0x2002, MSR_BITMAP: 0x2004,
  TSC_OFFSET: 0x2010, EPTP: 0x201a,
  GUEST_PHYS_ADDR: 0x2400,
  VMCS_LINK_PTR: 0x2800, GUEST_DEBUGCTL: 0x2802,
  // 32-bit
  PIN_CTLS: 0x4000, PROC_CTLS: 0x4002, EXC_BITMAP: 0x4004, PF_EC_MASK: 0x4006, PF_EC_MATCH: 0x4008,
  CR3_TARGET_COUNT: 0x400a, EXIT_CTLS: 0x400c, EXIT_MSR_STORE_COUNT: 0x400e, EXIT_MSR_LOAD_COUNT: 0x4010,
  ENTRY_CTLS: 0x4012, ENTRY_MSR_LOAD_COUNT: 0x4014, ENTRY_INTR_INFO: 0x4016, ENTRY_EXC_EC: 0x4018,
  ENTRY_INSTR_LEN: 0x401a, TPR_THRESHOLD: 0x401c, PROC_CTLS2: 0x401e,
  VM_INSTR_ERROR: 0x4400, EXIT_REASON: 0x4402, EXIT_INTR_INFO: 0x4404, EXIT_INTR_EC: 0x4406,
  IDT_VEC_INFO: 0x4408, IDT_VEC_EC: 0x440a, EXIT_INSTR_LEN: 0x440c, EXIT_INSTR_INFO: 0x440e,
  GUEST_ES_LIMIT: 0x4800, GUEST_CS_LIMIT: 0x4802, GUEST_SS_LIMIT: 0x4804, GUEST_DS_LIMIT: 0x4806,
  GUEST_FS_LIMIT: 0x4808, GUEST_GS_LIMIT: 0x480a, GUEST_LDTR_LIMIT: 0x480c, GUEST_TR_LIMIT: 0x480e,
  GUEST_GDTR_LIMIT: 0x4810, GUEST_IDTR_LIMIT: 0x4812,
  GUEST_ES_AR: 0x4814, GUEST_CS_AR: 0x4816, GUEST_SS_AR: 0x4818, GUEST_DS_AR: 0x481a,
  GUEST_FS_AR: 0x481c, GUEST_GS_AR: 0x481e, GUEST_LDTR_AR: 0x4820, GUEST_TR_AR: 0x4822,
  GUEST_INTERRUPTIBILITY: 0x4824, GUEST_ACTIVITY: 0x4826, GUEST_SYSENTER_CS: 0x482a,
  PREEMPTION_TIMER: 0x482e,
  HOST_SYSENTER_CS: 0x4c00,
  // natural width
  CR0_MASK: 0x6000, CR4_MASK: 0x6002, CR0_SHADOW: 0x6004, CR4_SHADOW: 0x6006,
  CR3_TARGET0: 0x6008, CR3_TARGET1: 0x600a, CR3_TARGET2: 0x600c, CR3_TARGET3: 0x600e,
  EXIT_QUAL: 0x6400, IO_RCX: 0x6402, IO_RSI: 0x6404, IO_RDI: 0x6406, IO_RIP: 0x6408,
  GUEST_LINEAR_ADDR: 0x640a,
  GUEST_CR0: 0x6800, GUEST_CR3: 0x6802, GUEST_CR4: 0x6804,
  GUEST_ES_BASE: 0x6806, GUEST_CS_BASE: 0x6808, GUEST_SS_BASE: 0x680a, GUEST_DS_BASE: 0x680c,
  GUEST_FS_BASE: 0x680e, GUEST_GS_BASE: 0x6810, GUEST_LDTR_BASE: 0x6812, GUEST_TR_BASE: 0x6814,
  GUEST_GDTR_BASE: 0x6816, GUEST_IDTR_BASE: 0x6818, GUEST_DR7: 0x681a, GUEST_RSP: 0x681c,
  GUEST_RIP: 0x681e, GUEST_RFLAGS: 0x6820, GUEST_PENDING_DBG: 0x6822,
  GUEST_SYSENTER_ESP: 0x6824, GUEST_SYSENTER_EIP: 0x6826,
  HOST_CR0: 0x6c00, HOST_CR3: 0x6c02, HOST_CR4: 0x6c04, HOST_FS_BASE: 0x6c06, HOST_GS_BASE: 0x6c08,
  HOST_TR_BASE: 0x6c0a, HOST_GDTR_BASE: 0x6c0c, HOST_IDTR_BASE: 0x6c0e,
  HOST_SYSENTER_ESP: 0x6c10, HOST_SYSENTER_EIP: 0x6c12, HOST_RSP: 0x6c14, HOST_RIP: 0x6c16,
} as const;

/** Every field this CPU supports, by name (for VMREAD/VMWRITE validity and the UI). */
export const FIELD_NAMES = new Map<number, string>(Object.entries(F).map(([k, v]) => [v, k]));

/** Width of a field from its encoding: 16, 64, 32 or 32 (natural on IA-32). */
export function fieldWidth(enc: number): number {
  const w = (enc >>> 13) & 3;
  return w === 0 ? 16 : w === 1 ? 64 : 32;
}

/** Is `enc` a field this VMCS implements (either half of a 64-bit field)? §24.11.2 */
export function fieldSupported(enc: number): boolean {
  if (enc >>> 15 !== 0) return false;
  if (fieldWidth(enc) === 64) return FIELD_NAMES.has(enc & ~1);
  return (enc & 1) === 0 && FIELD_NAMES.has(enc);
}

/** Read-only fields: the VM-exit information type (bits 11:10 = 1), §24.9. */
export function fieldReadOnly(enc: number): boolean {
  return ((enc >>> 10) & 3) === 1;
}

/** Pin-based controls (§24.6.1). */
export const PIN = { EXT_INT: 1 << 0, NMI: 1 << 3, VIRTUAL_NMI: 1 << 5, PREEMPT_TIMER: 1 << 6 } as const;
/** Primary processor-based controls (§24.6.2, Table 24-6). */
// biome-ignore format: a table
export const PROC = {
  INT_WINDOW: 1 << 2, TSC_OFFSET: 1 << 3, HLT: 1 << 7, INVLPG: 1 << 9, MWAIT: 1 << 10, RDPMC: 1 << 11,
  RDTSC: 1 << 12, CR3_LOAD: 1 << 15, CR3_STORE: 1 << 16, MOV_DR: 1 << 23, UNCOND_IO: 1 << 24,
  IO_BITMAPS: 1 << 25, MTF: 1 << 27, MSR_BITMAPS: 1 << 28, MONITOR: 1 << 29, PAUSE: 1 << 30,
  SECONDARY: 1 << 31,
} as const;
/** Secondary processor-based controls (§24.6.2, Table 24-7). */
export const PROC2 = {
  EPT: 1 << 1,
  DESC_TABLE: 1 << 2,
  VPID: 1 << 5,
  WBINVD: 1 << 6,
  UNRESTRICTED: 1 << 7,
} as const;
/** VM-exit controls (§24.7.1). */
export const EXIT = { ACK_INT: 1 << 15, SAVE_TIMER: 1 << 22 } as const;

/**
 * Capability MSRs (§A.3–A.5): the low 32 bits are the allowed-0 settings (bits that must be 1),
 * the high 32 the allowed-1 settings (bits that may be 1). Reserved default-1 bits per App. A.2.
 */
export const CTL_CAPS = {
  pin: { must: 0x16, may: 0x16 | PIN.EXT_INT | PIN.NMI | PIN.VIRTUAL_NMI | PIN.PREEMPT_TIMER },
  // The "true" allowed-0 settings (IA32_VMX_TRUE_PROCBASED_CTLS, advertised by IA32_VMX_BASIC bit
  // 55): CR3-load/store exiting (bits 15, 16) may be 0, which EPT needs.
  proc: {
    must: 0x04006172,
    may:
      0x04006172 |
      PROC.INT_WINDOW |
      PROC.TSC_OFFSET |
      PROC.HLT |
      PROC.INVLPG |
      PROC.RDTSC |
      PROC.CR3_LOAD |
      PROC.CR3_STORE |
      PROC.MOV_DR |
      PROC.UNCOND_IO |
      PROC.IO_BITMAPS |
      PROC.MTF |
      PROC.MSR_BITMAPS |
      PROC.SECONDARY,
  },
  proc2: { must: 0, may: PROC2.EPT | PROC2.DESC_TABLE | PROC2.VPID | PROC2.UNRESTRICTED },
  // Exit controls: default-1 bits 0–8, 10, 11, 13, 14, 16, 17 (App. A.4); bit 9 (host address-space
  // size) is allowed 0 only — an IA-32 processor has no 64-bit host.
  exit: { must: 0x00036dff, may: 0x00036dff | EXIT.ACK_INT | EXIT.SAVE_TIMER },
  // Entry controls: default-1 bits 0–8, 12 (App. A.5); bit 9 (IA-32e guest) allowed 0 only.
  entry: { must: 0x000011ff, may: 0x000011ff },
} as const;

/** Revision identifier of our VMCS format (IA32_VMX_BASIC bits 30:0). */
export const VMCS_REVISION = 0x54524150; // arbitrary ("PART"), bit 31 clear
/** Preemption-timer rate: the timer counts down once every 2^X TSC ticks (IA32_VMX_MISC 4:0). */
export const TIMER_RATE = 0;

/** CR0 bits fixed to 1 in VMX operation: PE, NE, PG (IA32_VMX_CR0_FIXED0, §A.7). */
export const CR0_FIXED0 = 0x80000021 | 0;
/** CR0 bits this CPU implements (writeCr masks to these): IA32_VMX_CR0_FIXED1. */
export const CR0_FIXED1 = 0xe005003f | 0;
/** CR4 bits fixed to 1 in VMX operation: VMXE (IA32_VMX_CR4_FIXED0, §A.8). */
export const CR4_FIXED0 = 0x2000;
export const CR4_VMXE = 0x2000;
/** CR4 bits this CPU implements: VME PVI TSD DE PSE PGE VMXE (IA32_VMX_CR4_FIXED1). */
export const CR4_FIXED1 = 0x209f;

/** Basic exit reasons (App. C). */
// biome-ignore format: a table
export const EXIT_REASON_NAMES: Record<number, string> = {
  0: 'exception or NMI', 1: 'external interrupt', 2: 'triple fault', 3: 'INIT signal', 7: 'interrupt window',
  8: 'NMI window', 9: 'task switch', 10: 'CPUID', 12: 'HLT', 13: 'INVD', 14: 'INVLPG', 15: 'RDPMC',
  16: 'RDTSC', 18: 'VMCALL', 19: 'VMCLEAR', 20: 'VMLAUNCH', 21: 'VMPTRLD', 22: 'VMPTRST', 23: 'VMREAD',
  24: 'VMRESUME', 25: 'VMWRITE', 26: 'VMXOFF', 27: 'VMXON', 28: 'control-register access',
  29: 'MOV DR', 30: 'I/O instruction', 31: 'RDMSR', 32: 'WRMSR', 33: 'VM-entry failure: invalid guest state',
  34: 'VM-entry failure: MSR loading', 36: 'MWAIT', 37: 'monitor trap flag', 39: 'MONITOR', 40: 'PAUSE',
  46: 'GDTR/IDTR access', 47: 'LDTR/TR access', 48: 'EPT violation', 49: 'EPT misconfiguration',
  50: 'INVEPT', 52: 'VMX-preemption timer expired', 53: 'INVVPID', 54: 'WBINVD',
};
// biome-ignore format: a table
export const R = {
  EXCEPTION: 0, EXT_INT: 1, TRIPLE_FAULT: 2, INT_WINDOW: 7, CPUID: 10, HLT: 12, INVD: 13, INVLPG: 14,
  RDTSC: 16, VMCALL: 18, VMCLEAR: 19, VMLAUNCH: 20, VMPTRLD: 21, VMPTRST: 22, VMREAD: 23, VMRESUME: 24,
  VMWRITE: 25, VMXOFF: 26, VMXON: 27, CR_ACCESS: 28, MOV_DR: 29, IO: 30, RDMSR: 31, WRMSR: 32,
  INVALID_GUEST: 33, MTF: 37, GDTR_IDTR: 46, LDTR_TR: 47, EPT_VIOLATION: 48, EPT_MISCONFIG: 49,
  INVEPT: 50, PREEMPT_TIMER: 52, INVVPID: 53, WBINVD: 54,
} as const;
/** Bit 31 of the exit-reason field: the VM entry failed (§24.9.1). */
export const EXIT_ENTRY_FAILURE = 0x80000000 | 0;

/** VM-instruction error numbers (§30.4, Table 30-1). */
// biome-ignore format: a table
export const ERR = {
  VMCALL_ROOT: 1, VMCLEAR_BAD_ADDR: 2, VMCLEAR_VMXON: 3, LAUNCH_NOT_CLEAR: 4, RESUME_NOT_LAUNCHED: 5,
  RESUME_AFTER_VMXOFF: 6, BAD_CONTROLS: 7, BAD_HOST_STATE: 8, VMPTRLD_BAD_ADDR: 9, VMPTRLD_VMXON: 10,
  VMPTRLD_BAD_REVISION: 11, BAD_FIELD: 12, READ_ONLY_FIELD: 13, VMXON_IN_ROOT: 15,
  ENTRY_MOV_SS: 26, INVEPT_BAD_OPERAND: 28,
} as const;
export const VM_ERROR_NAMES: Record<number, string> = {
  1: 'VMCALL executed in VMX root operation',
  2: 'VMCLEAR with invalid physical address',
  3: 'VMCLEAR with VMXON pointer',
  4: 'VMLAUNCH with non-clear VMCS',
  5: 'VMRESUME with non-launched VMCS',
  6: 'VMRESUME after VMXOFF',
  7: 'VM entry with invalid control field(s)',
  8: 'VM entry with invalid host-state field(s)',
  9: 'VMPTRLD with invalid physical address',
  10: 'VMPTRLD with VMXON pointer',
  11: 'VMPTRLD with incorrect VMCS revision identifier',
  12: 'VMREAD/VMWRITE from/to unsupported VMCS component',
  13: 'VMWRITE to read-only VMCS component',
  15: 'VMXON executed in VMX root operation',
  26: 'VM entry with events blocked by MOV SS',
  28: 'invalid operand to INVEPT/INVVPID',
};

/** Interruption-information types (§24.8.3, §24.9.2). */
export const INTR_TYPE = {
  EXTERNAL: 0,
  NMI: 2,
  HW_EXCEPTION: 3,
  SW_INTERRUPT: 4,
  PRIV_SW_EXC: 5,
  SW_EXCEPTION: 6,
} as const;
export const INTR_VALID = 0x80000000 | 0;
export const INTR_HAS_EC = 0x800;
