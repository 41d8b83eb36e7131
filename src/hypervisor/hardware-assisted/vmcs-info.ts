/**
 * What the UI's VMCS panel shows of one VM (plain data: it crosses the worker boundary): every
 * field of its VMCS, read from the CPU's VMCS cache (src/cpu/vmx/vmcs.ts), with Intel's
 * encoding, group and name (SDM Vol.3C §24.3–24.9, Appendix B), and the value each field had at
 * the VM's previous VM exit, so the panel can mark what changed since then.
 */
import { FIELD_NAMES, fieldWidth } from '../../cpu/vmx/fields.ts';
import type { Vmcs } from '../../cpu/vmx/vmcs.ts';
import type { TwoDWalkView } from './ept-walk.ts';

export type VmcsGroup = 'execution' | 'exit' | 'entry' | 'guest' | 'host' | 'exit-info';

export interface VmcsFieldView {
  enc: number;
  /** Our short name (fields.ts), e.g. PIN_CTLS. */
  key: string;
  /** Intel's name, e.g. "Pin-based VM-execution controls". */
  name: string;
  group: VmcsGroup;
  width: number;
  /** The value (low 32 bits) and, for a 64-bit field, the high 32 bits. */
  value: number;
  hi?: number;
  /** Value (low, high) when the VM's previous VM exit happened; absent before a second exit. */
  prev?: number;
  prevHi?: number;
}

export interface VmcsInfo {
  /** Physical address of the VMCS region. */
  addr: number;
  launched: boolean;
  /** It is the CPU's current VMCS (VMPTRLD). */
  current: boolean;
  /** VM exits of this VM so far. */
  exits: number;
  fields: VmcsFieldView[];
  /** With EPT: the 2-D walk of the VM's current address of interest (ept-walk.ts). */
  walk?: TwoDWalkView | null;
}

/** Every field encoding this CPU implements, in encoding order. */
export const VMCS_FIELDS: readonly number[] = [...FIELD_NAMES.keys()].sort((a, b) => a - b);

// biome-ignore format: a table
const INTEL: Record<string, string> = {
  VPID: 'Virtual-processor identifier (VPID)',
  IO_BITMAP_A: 'Address of I/O bitmap A', IO_BITMAP_B: 'Address of I/O bitmap B',
  MSR_BITMAP: 'Address of MSR bitmaps', TSC_OFFSET: 'TSC offset', EPTP: 'EPT pointer (EPTP)',
  GUEST_PHYS_ADDR: 'Guest-physical address', VMCS_LINK_PTR: 'VMCS link pointer',
  GUEST_DEBUGCTL: 'Guest IA32_DEBUGCTL',
  PIN_CTLS: 'Pin-based VM-execution controls', PROC_CTLS: 'Primary processor-based VM-execution controls',
  EXC_BITMAP: 'Exception bitmap', PF_EC_MASK: 'Page-fault error-code mask', PF_EC_MATCH: 'Page-fault error-code match',
  CR3_TARGET_COUNT: 'CR3-target count', EXIT_CTLS: 'Primary VM-exit controls',
  EXIT_MSR_STORE_COUNT: 'VM-exit MSR-store count', EXIT_MSR_LOAD_COUNT: 'VM-exit MSR-load count',
  ENTRY_CTLS: 'VM-entry controls', ENTRY_MSR_LOAD_COUNT: 'VM-entry MSR-load count',
  ENTRY_INTR_INFO: 'VM-entry interruption-information field', ENTRY_EXC_EC: 'VM-entry exception error code',
  ENTRY_INSTR_LEN: 'VM-entry instruction length', TPR_THRESHOLD: 'TPR threshold',
  PROC_CTLS2: 'Secondary processor-based VM-execution controls',
  VM_INSTR_ERROR: 'VM-instruction error', EXIT_REASON: 'Exit reason',
  EXIT_INTR_INFO: 'VM-exit interruption information', EXIT_INTR_EC: 'VM-exit interruption error code',
  IDT_VEC_INFO: 'IDT-vectoring information field', IDT_VEC_EC: 'IDT-vectoring error code',
  EXIT_INSTR_LEN: 'VM-exit instruction length', EXIT_INSTR_INFO: 'VM-exit instruction information',
  GUEST_INTERRUPTIBILITY: 'Guest interruptibility state', GUEST_ACTIVITY: 'Guest activity state',
  GUEST_SYSENTER_CS: 'Guest IA32_SYSENTER_CS', PREEMPTION_TIMER: 'VMX-preemption timer value',
  HOST_SYSENTER_CS: 'Host IA32_SYSENTER_CS',
  CR0_MASK: 'CR0 guest/host mask', CR4_MASK: 'CR4 guest/host mask',
  CR0_SHADOW: 'CR0 read shadow', CR4_SHADOW: 'CR4 read shadow',
  CR3_TARGET0: 'CR3-target value 0', CR3_TARGET1: 'CR3-target value 1',
  CR3_TARGET2: 'CR3-target value 2', CR3_TARGET3: 'CR3-target value 3',
  EXIT_QUAL: 'Exit qualification', IO_RCX: 'I/O RCX', IO_RSI: 'I/O RSI', IO_RDI: 'I/O RDI', IO_RIP: 'I/O RIP',
  GUEST_LINEAR_ADDR: 'Guest-linear address',
  GUEST_PENDING_DBG: 'Guest pending debug exceptions',
  GUEST_SYSENTER_ESP: 'Guest IA32_SYSENTER_ESP', GUEST_SYSENTER_EIP: 'Guest IA32_SYSENTER_EIP',
  HOST_SYSENTER_ESP: 'Host IA32_SYSENTER_ESP', HOST_SYSENTER_EIP: 'Host IA32_SYSENTER_EIP',
};

const PART: Record<string, string> = {
  SEL: 'selector',
  LIMIT: 'limit',
  AR: 'access rights',
  BASE: 'base address',
};

/** Intel's name of a field (SDM Appendix B), e.g. GUEST_CS_AR → "Guest CS access rights". */
export function intelName(key: string): string {
  const known = INTEL[key];
  if (known) return known;
  const m = /^(GUEST|HOST)_([A-Z0-9]+)(?:_([A-Z]+))?$/.exec(key);
  if (!m) return key;
  const who = m[1] === 'GUEST' ? 'Guest' : 'Host';
  if (m[3] && PART[m[3]]) return `${who} ${m[2]} ${PART[m[3]]}`;
  return `${who} ${m[3] ? `${m[2]} ${m[3]}` : m[2]}`;
}

/** Group of a field from its encoding (bits 11:10 = type, §24.11.2) and, for controls, its name. */
export function fieldGroup(enc: number, key: string): VmcsGroup {
  const type = (enc >>> 10) & 3;
  if (type === 1) return 'exit-info';
  if (type === 2) return 'guest';
  if (type === 3) return 'host';
  if (key.startsWith('EXIT_')) return 'exit';
  if (key.startsWith('ENTRY_')) return 'entry';
  return 'execution';
}

/** A copy of every field (64-bit ones: low then high half), for the "changed since" marks. */
export function captureFields(v: Vmcs, into?: Int32Array | null): Int32Array {
  const out = into ?? new Int32Array(VMCS_FIELDS.length * 2);
  VMCS_FIELDS.forEach((enc, i) => {
    out[2 * i] = v.get(enc);
    if (fieldWidth(enc) === 64) out[2 * i + 1] = v.get(enc + 1);
  });
  return out;
}

/** The panel's view of a VMCS, read live from the CPU's cache; `prev` from captureFields(). */
export function vmcsInfo(v: Vmcs, current: boolean, exits: number, prev: Int32Array | null): VmcsInfo {
  const fields = VMCS_FIELDS.map((enc, i): VmcsFieldView => {
    const key = FIELD_NAMES.get(enc) ?? `0x${enc.toString(16)}`;
    const width = fieldWidth(enc);
    const f: VmcsFieldView = {
      enc,
      key,
      name: intelName(key),
      group: fieldGroup(enc, key),
      width,
      value: v.get(enc),
    };
    if (width === 64) f.hi = v.get(enc + 1);
    if (prev) {
      f.prev = prev[2 * i];
      if (width === 64) f.prevHi = prev[2 * i + 1];
    }
    return f;
  });
  return { addr: v.addr, launched: v.launched, current, exits, fields };
}
