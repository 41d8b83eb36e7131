/**
 * VMX state as plain data (structured-clone- and JSON-safe) for CPU snapshots: VMX operation and
 * the VMXON pointer, the current-VMCS pointer, every VMCS the processor has cached (its fields and
 * launch state), root vs. non-root operation and what VM entry cached from the controls (EPT
 * pointer, VPID tag, preemption timer, a pending MTF VM exit). Taken and restored at instruction
 * boundaries, where no exit is half-staged, so restoring it continues the run exactly.
 */
import type { CpuCore } from '../core.ts';
import { Vmcs } from './vmcs.ts';
import type { Vmx } from './vmx.ts';

export interface VmcsState {
  addr: number;
  launched: boolean;
  /** Written fields: encoding, value pairs, flattened. */
  fields: number[];
}

export interface VmxState {
  on: boolean;
  vmxonPtr: number;
  /** Address of the current VMCS, -1 when none. */
  current: number;
  cache: VmcsState[];
  featureControl: number;
  exits: number;
  nonRoot: boolean;
  eptOn: boolean;
  /** Instruction counts, -1 for "never" (JSON has no Infinity). */
  timerAt: number;
  mtfAt: number;
  /** CR2 as it was before a #PF that may become a VM exit (mmu.ts). */
  cr2BeforeFault: number;
  /** Controls cached at VM entry, in a fixed order (see CACHED). */
  cached: number[];
  cr3Targets: number[];
  eptAd: boolean;
  tlbTag: number;
  delivering: [number, number, number];
  entryFailureDetail: string;
}

const CACHED = [
  'pin',
  'proc',
  'proc2',
  'excBitmap',
  'pfMask',
  'pfMatch',
  'cr0Mask',
  'cr0Shadow',
  'cr4Mask',
  'cr4Shadow',
  'eptRoot',
  'exitCtls',
] as const;

const never = (v: number) => (v === Number.POSITIVE_INFINITY ? -1 : v);
const fromNever = (v: number) => (v < 0 ? Number.POSITIVE_INFINITY : v);

export function saveVmx(c: CpuCore): VmxState {
  const x: Vmx = c.vmx;
  const cache: VmcsState[] = [];
  for (const v of x.cache.values())
    cache.push({ addr: v.addr, launched: v.launched, fields: v.entries().flat() });
  return {
    on: x.on,
    vmxonPtr: x.vmxonPtr,
    current: x.current ? x.current.addr : -1,
    cache,
    featureControl: x.featureControl,
    exits: x.exits,
    nonRoot: c.vmxNonRoot,
    eptOn: c.eptOn,
    timerAt: never(x.timerAt),
    mtfAt: never(x.mtfAt),
    cr2BeforeFault: c.vmxCr2,
    cached: CACHED.map((k) => x[k]),
    cr3Targets: [...x.cr3Targets],
    eptAd: x.eptAd,
    tlbTag: x.tlbTag,
    delivering: [x.delivering, x.deliveringEc, x.deliveringLen],
    entryFailureDetail: x.entryFailureDetail,
  };
}

/** Put `s` back (the caller flushes the TLB: translations may belong to another VPID or EPT). */
export function restoreVmx(c: CpuCore, s: VmxState): void {
  const x: Vmx = c.vmx;
  x.on = s.on;
  x.vmxonPtr = s.vmxonPtr;
  x.cache.clear();
  for (const vs of s.cache) {
    const v = new Vmcs(vs.addr);
    for (let i = 0; i + 1 < vs.fields.length; i += 2) v.set(vs.fields[i], vs.fields[i + 1]);
    v.launched = vs.launched;
    x.cache.set(vs.addr, v);
  }
  x.current = s.current >= 0 ? (x.cache.get(s.current) ?? null) : null;
  x.featureControl = s.featureControl;
  x.exits = s.exits;
  c.vmxNonRoot = s.nonRoot;
  c.eptOn = s.eptOn;
  x.timerAt = fromNever(s.timerAt);
  x.mtfAt = fromNever(s.mtfAt);
  c.vmxTimerAt = Math.min(x.timerAt, x.mtfAt);
  c.vmxCr2 = s.cr2BeforeFault;
  CACHED.forEach((k, i) => {
    x[k] = s.cached[i] | 0;
  });
  x.cr3Targets.length = 0;
  x.cr3Targets.push(...s.cr3Targets);
  x.eptAd = s.eptAd;
  x.tlbTag = s.tlbTag;
  [x.delivering, x.deliveringEc, x.deliveringLen] = s.delivering;
  x.entryFailureDetail = s.entryFailureDetail;
}
