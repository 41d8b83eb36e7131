/**
 * The VMX control fields decoded bit by bit, with the names Intel SDM Vol.3C gives them:
 * pin-based §24.6.1 (Table 24-5), primary processor-based §24.6.2 (Table 24-6), secondary
 * processor-based §24.6.2 (Table 24-7), VM-exit §24.7.1 (Table 24-13), VM-entry §24.8.1
 * (Table 24-15). Bits without a name are reserved (most of them default to 1, Appendix A.2).
 */

// biome-ignore format: a table
export const PIN_BITS: Record<number, string> = {
  0: 'External-interrupt exiting', 3: 'NMI exiting', 5: 'Virtual NMIs', 6: 'Activate VMX-preemption timer',
  7: 'Process posted interrupts',
};
// biome-ignore format: a table
export const PROC_BITS: Record<number, string> = {
  2: 'Interrupt-window exiting', 3: 'Use TSC offsetting', 7: 'HLT exiting', 9: 'INVLPG exiting',
  10: 'MWAIT exiting', 11: 'RDPMC exiting', 12: 'RDTSC exiting', 15: 'CR3-load exiting', 16: 'CR3-store exiting',
  17: 'Activate tertiary controls', 19: 'CR8-load exiting', 20: 'CR8-store exiting', 21: 'Use TPR shadow',
  22: 'NMI-window exiting', 23: 'MOV-DR exiting', 24: 'Unconditional I/O exiting', 25: 'Use I/O bitmaps',
  27: 'Monitor trap flag', 28: 'Use MSR bitmaps', 29: 'MONITOR exiting', 30: 'PAUSE exiting',
  31: 'Activate secondary controls',
};
// biome-ignore format: a table
export const PROC2_BITS: Record<number, string> = {
  0: 'Virtualize APIC accesses', 1: 'Enable EPT', 2: 'Descriptor-table exiting', 3: 'Enable RDTSCP',
  4: 'Virtualize x2APIC mode', 5: 'Enable VPID', 6: 'WBINVD exiting', 7: 'Unrestricted guest',
  8: 'APIC-register virtualization', 9: 'Virtual-interrupt delivery', 10: 'PAUSE-loop exiting',
  11: 'RDRAND exiting', 12: 'Enable INVPCID', 13: 'Enable VM functions', 14: 'VMCS shadowing',
  15: 'Enable ENCLS exiting', 16: 'RDSEED exiting', 17: 'Enable PML', 18: 'EPT-violation #VE',
  19: 'Conceal VMX from PT', 20: 'Enable XSAVES/XRSTORS', 22: 'Mode-based execute control for EPT',
  23: 'Sub-page write permissions for EPT', 24: 'Intel PT uses guest physical addresses',
  25: 'Use TSC scaling', 26: 'Enable user wait and pause', 28: 'Enable ENCLV exiting',
};
// biome-ignore format: a table
export const EXIT_BITS: Record<number, string> = {
  2: 'Save debug controls', 9: 'Host address-space size', 12: 'Load IA32_PERF_GLOBAL_CTRL',
  15: 'Acknowledge interrupt on exit', 18: 'Save IA32_PAT', 19: 'Load IA32_PAT', 20: 'Save IA32_EFER',
  21: 'Load IA32_EFER', 22: 'Save VMX-preemption timer value', 23: 'Clear IA32_BNDCFGS',
  24: 'Conceal VMX from PT',
};
// biome-ignore format: a table
export const ENTRY_BITS: Record<number, string> = {
  2: 'Load debug controls', 9: 'IA-32e mode guest', 10: 'Entry to SMM', 11: 'Deactivate dual-monitor treatment',
  13: 'Load IA32_PERF_GLOBAL_CTRL', 14: 'Load IA32_PAT', 15: 'Load IA32_EFER', 16: 'Load IA32_BNDCFGS',
  17: 'Conceal VMX from PT',
};

/** The decodable control fields by our key (fields.ts), with the SDM section of their table. */
export const CONTROL_TABLES: Record<string, { bits: Record<number, string>; section: string }> = {
  PIN_CTLS: { bits: PIN_BITS, section: '§24.6.1, Table 24-5' },
  PROC_CTLS: { bits: PROC_BITS, section: '§24.6.2, Table 24-6' },
  PROC_CTLS2: { bits: PROC2_BITS, section: '§24.6.2, Table 24-7' },
  EXIT_CTLS: { bits: EXIT_BITS, section: '§24.7.1, Table 24-13' },
  ENTRY_CTLS: { bits: ENTRY_BITS, section: '§24.8.1, Table 24-15' },
};

export interface ControlBit {
  bit: number;
  /** Intel's name, or "reserved" for a bit without one. */
  name: string;
  set: boolean;
  /** The bit differs from `prev`. */
  changed: boolean;
}

/** Every named bit of a control (set or clear) plus every set reserved bit, in bit order. */
export function decodeControl(key: string, value: number, prev?: number): ControlBit[] {
  const t = CONTROL_TABLES[key];
  if (!t) return [];
  const out: ControlBit[] = [];
  for (let bit = 0; bit < 32; bit++) {
    const set = ((value >>> bit) & 1) === 1;
    const name = t.bits[bit];
    if (!name && !set) continue;
    const changed = prev !== undefined && ((prev >>> bit) & 1) !== ((value >>> bit) & 1);
    out.push({ bit, name: name ?? 'reserved', set, changed });
  }
  return out;
}
