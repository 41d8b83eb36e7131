/**
 * A plain-data picture of the CPU's architectural state (structured-clone-able), shared by every
 * layer that shows registers: the session's native runner, the hypervisor's runner (real CPU and,
 * beside it, a VM's virtual CPU), the worker and the UI.
 */
import type { CpuState } from './cpu.ts';

export interface SegmentSnapshot {
  selector: number;
  base: number;
  limit: number;
  /** Access rights as in descriptor bits 8–23 of the high dword (type, S, DPL, P, AVL, D/B, G). */
  access: number;
}

export interface CpuSnapshot {
  eax: number;
  ecx: number;
  edx: number;
  ebx: number;
  esp: number;
  ebp: number;
  esi: number;
  edi: number;
  eip: number;
  eflags: number;
  cpl: number;
  /** 'real' (CR0.PE=0), 'v86' (EFLAGS.VM=1) or 'protected'. */
  mode: 'real' | 'protected' | 'v86';
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  es: SegmentSnapshot;
  cs: SegmentSnapshot;
  ss: SegmentSnapshot;
  ds: SegmentSnapshot;
  fs: SegmentSnapshot;
  gs: SegmentSnapshot;
  ldtr: SegmentSnapshot;
  tr: SegmentSnapshot;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  dr: number[];
  halted: boolean;
  instructions: number;
  /** Which VM this CPU state belongs to (0 under native). */
  vm: number;
  /** Under a VMM: the current VM's virtual CPU (what the guest believes), beside the real one. */
  virtual?: CpuSnapshot;
}

const SEG_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'ldtr', 'tr'] as const;

/** The CPU's state as the session's plain snapshot. */
export function snapshotOf(s: CpuState, vm: number): CpuSnapshot {
  const seg = (i: number): SegmentSnapshot => {
    const x = s.segs[i];
    return { selector: x.sel & 0xffff, base: x.base >>> 0, limit: x.limit >>> 0, access: x.ar >>> 0 };
  };
  const r = s.regs.map((v) => v >>> 0);
  const eflags = s.eflags >>> 0;
  const mode = (s.cr0 & 1) === 0 ? 'real' : eflags & 0x20000 ? 'v86' : 'protected';
  return {
    eax: r[0],
    ecx: r[1],
    edx: r[2],
    ebx: r[3],
    esp: r[4],
    ebp: r[5],
    esi: r[6],
    edi: r[7],
    eip: s.eip >>> 0,
    eflags,
    cpl: s.cpl,
    mode,
    cr0: s.cr0 >>> 0,
    cr2: s.cr2 >>> 0,
    cr3: s.cr3 >>> 0,
    cr4: s.cr4 >>> 0,
    es: seg(0),
    cs: seg(1),
    ss: seg(2),
    ds: seg(3),
    fs: seg(4),
    gs: seg(5),
    ldtr: seg(6),
    tr: seg(7),
    gdtr: { base: s.gdtr.base >>> 0, limit: s.gdtr.limit },
    idtr: { base: s.idtr.base >>> 0, limit: s.idtr.limit },
    dr: s.dr.map((v) => v >>> 0),
    halted: s.halted,
    instructions: s.instructions,
    vm,
  };
}

export { SEG_NAMES };
