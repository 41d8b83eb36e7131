/**
 * One VMCS per VM (SDM Vol.3C ch.24): VMCLEAR + VMPTRLD of a fresh 4 KiB region, then VMWRITEs of
 * the controls, the host state (the VMM's world, host.ts) and the guest state the boot protocol
 * leaves a native CPU in (flat 32-bit protected mode, paging off — which VMX allows only with
 * "unrestricted guest", so the shadow-paging mode runs the guest with PG = 1 on its shadow tables
 * and shows it CR0.PG = 0 through the CR0 read shadow).
 */
import type { Cpu } from '../../cpu/index.ts';
import { CTL_CAPS, EXIT_REASON_NAMES, F, PIN, PROC, PROC2, VM_ERROR_NAMES } from '../../cpu/vmx/fields.ts';
import type { Vm } from '../vmm/vm.ts';
import { HOST_CR0, HOST_CR4, HOST_CS, HOST_DS, HOST_TR, type HostWorld } from './host.ts';

export type Paging = 'ept' | 'shadow';

/** CR0 bits the VMM owns: NE (fixed 1 in VMX operation); with shadow paging also PE, WP, PG. */
export const CR0_MASK_EPT = 0x20;
export const CR0_MASK_SHADOW = 0x80010021 | 0;
/** CR4 bits the VMM owns: VMXE; with shadow paging also VME, PVI, PSE, PGE (its tables are 4 KiB). */
export const CR4_MASK_EPT = 0x2000;
export const CR4_MASK_SHADOW = 0x2093;

export class VmxError extends Error {
  override name = 'VmxError';
}

/** A VMWRITE that must succeed (the VMM's own fields). */
export function wr(cpu: Cpu, enc: number, v: number): void {
  const st = cpu.vmx.vmwrite(enc, v);
  if (st !== 0) throw new VmxError(`VMWRITE 0x${enc.toString(16)} failed: ${VM_ERROR_NAMES[st] ?? st}`);
}
export function rd(cpu: Cpu, enc: number): number {
  const v = cpu.vmx.vmread(enc);
  if (v === null) throw new VmxError(`VMREAD 0x${enc.toString(16)} failed`);
  return v;
}

export interface VmcsOptions {
  paging: Paging;
  host: HostWorld;
  eptp: number;
  /** Host frame of an all-zero MSR bitmap: RDMSR/WRMSR never exit. */
  msrBitmap: number;
  /** Shadow paging: the real CR3 (the VM's shadow page directory). */
  shadowPd: number;
}

/** Build and load VM `vm`'s VMCS at host frame `region`; it becomes the current VMCS. */
export function buildVmcs(
  cpu: Cpu,
  vm: Vm,
  region: number,
  o: VmcsOptions,
  entry: { eip: number; esp: number },
): void {
  const ram = cpu.ram;
  const rev = cpu.vmx.readMsr(0x480)?.[0] ?? 0;
  ram[region] = rev;
  ram[region + 1] = rev >>> 8;
  ram[region + 2] = rev >>> 16;
  ram[region + 3] = rev >>> 24;
  for (const [name, st] of [
    ['VMCLEAR', cpu.vmx.vmclear(region)],
    ['VMPTRLD', cpu.vmx.vmptrld(region)],
  ] as const) {
    if (st !== 0) throw new VmxError(`${name} failed: ${VM_ERROR_NAMES[st] ?? st}`);
  }
  const ept = o.paging === 'ept';
  // Controls (§24.6–24.8): external interrupts and the preemption timer give the VMM the CPU back;
  // HLT and every I/O instruction exit; MSR accesses do not (an all-zero MSR bitmap).
  wr(cpu, F.PIN_CTLS, CTL_CAPS.pin.must | PIN.EXT_INT | PIN.PREEMPT_TIMER);
  let proc = CTL_CAPS.proc.must | PROC.HLT | PROC.UNCOND_IO | PROC.MSR_BITMAPS | PROC.SECONDARY;
  if (!ept) proc |= PROC.CR3_LOAD | PROC.CR3_STORE | PROC.INVLPG;
  wr(cpu, F.PROC_CTLS, proc);
  // With EPT each VM gets a VPID (its index + 1): its translations survive exits and entries.
  // Shadow paging changes the shadow tables at exits, so it runs without (a flush per entry).
  wr(cpu, F.PROC_CTLS2, ept ? PROC2.EPT | PROC2.UNRESTRICTED | PROC2.VPID : 0);
  wr(cpu, F.VPID, ept ? vm.index + 1 : 0);
  wr(cpu, F.EXC_BITMAP, ept ? 0 : 1 << 14);
  wr(cpu, F.PF_EC_MASK, 0);
  wr(cpu, F.PF_EC_MATCH, 0);
  wr(cpu, F.MSR_BITMAP, o.msrBitmap);
  wr(cpu, F.CR3_TARGET_COUNT, 0);
  wr(cpu, F.EXIT_CTLS, CTL_CAPS.exit.must);
  wr(cpu, F.ENTRY_CTLS, CTL_CAPS.entry.must);
  wr(cpu, F.ENTRY_INTR_INFO, 0);
  if (ept) {
    wr(cpu, F.EPTP, o.eptp);
    wr(cpu, F.EPTP + 1, 0);
  }
  wr(cpu, F.VMCS_LINK_PTR, -1);
  wr(cpu, F.VMCS_LINK_PTR + 1, -1);
  // Host state (§24.5).
  wr(cpu, F.HOST_CR0, HOST_CR0);
  wr(cpu, F.HOST_CR3, o.host.cr3);
  wr(cpu, F.HOST_CR4, HOST_CR4);
  for (const f of [F.HOST_ES_SEL, F.HOST_SS_SEL, F.HOST_DS_SEL, F.HOST_FS_SEL, F.HOST_GS_SEL])
    wr(cpu, f, HOST_DS);
  wr(cpu, F.HOST_CS_SEL, HOST_CS);
  wr(cpu, F.HOST_TR_SEL, HOST_TR);
  wr(cpu, F.HOST_TR_BASE, o.host.tss);
  wr(cpu, F.HOST_GDTR_BASE, o.host.gdt);
  wr(cpu, F.HOST_IDTR_BASE, o.host.idt);
  wr(cpu, F.HOST_RSP, o.host.rsp);
  wr(cpu, F.HOST_RIP, o.host.rip);
  // Guest state: what the boot loader leaves a native CPU with (Cpu.enterProtectedFlat).
  const cr0 = 0x60000011; // CD, NW (reset values), ET, PE
  const cr0Mask = ept ? CR0_MASK_EPT : CR0_MASK_SHADOW;
  wr(cpu, F.CR0_MASK, cr0Mask);
  wr(cpu, F.CR0_SHADOW, cr0);
  wr(cpu, F.GUEST_CR0, ept ? cr0 | 0x20 : cr0 | CR0_MASK_SHADOW);
  wr(cpu, F.CR4_MASK, ept ? CR4_MASK_EPT : CR4_MASK_SHADOW);
  wr(cpu, F.CR4_SHADOW, 0);
  wr(cpu, F.GUEST_CR4, 0x2000);
  wr(cpu, F.GUEST_CR3, ept ? 0 : o.shadowPd);
  wr(cpu, F.GUEST_DR7, 0x400);
  const segs: Array<[number, number, number, number, number]> = [
    [F.GUEST_ES_SEL, F.GUEST_ES_BASE, F.GUEST_ES_LIMIT, F.GUEST_ES_AR, 0x18],
    [F.GUEST_CS_SEL, F.GUEST_CS_BASE, F.GUEST_CS_LIMIT, F.GUEST_CS_AR, 0x10],
    [F.GUEST_SS_SEL, F.GUEST_SS_BASE, F.GUEST_SS_LIMIT, F.GUEST_SS_AR, 0x18],
    [F.GUEST_DS_SEL, F.GUEST_DS_BASE, F.GUEST_DS_LIMIT, F.GUEST_DS_AR, 0x18],
    [F.GUEST_FS_SEL, F.GUEST_FS_BASE, F.GUEST_FS_LIMIT, F.GUEST_FS_AR, 0x18],
    [F.GUEST_GS_SEL, F.GUEST_GS_BASE, F.GUEST_GS_LIMIT, F.GUEST_GS_AR, 0x18],
  ];
  for (const [sel, base, limit, ar, v] of segs) {
    wr(cpu, sel, v);
    wr(cpu, base, 0);
    wr(cpu, limit, 0xffffffff);
    wr(cpu, ar, v === 0x10 ? 0xc09b : 0xc093);
  }
  wr(cpu, F.GUEST_LDTR_SEL, 0);
  wr(cpu, F.GUEST_LDTR_AR, 0x10000);
  // TR as after RESET: selector 0, base 0, limit FFFFh, a busy 32-bit TSS (Cpu.reset()).
  wr(cpu, F.GUEST_TR_SEL, 0);
  wr(cpu, F.GUEST_TR_BASE, 0);
  wr(cpu, F.GUEST_TR_LIMIT, 0xffff);
  wr(cpu, F.GUEST_TR_AR, 0x8b);
  wr(cpu, F.GUEST_GDTR_BASE, 0);
  wr(cpu, F.GUEST_GDTR_LIMIT, 0xffff);
  wr(cpu, F.GUEST_IDTR_BASE, 0);
  wr(cpu, F.GUEST_IDTR_LIMIT, 0xffff);
  wr(cpu, F.GUEST_RSP, entry.esp);
  wr(cpu, F.GUEST_RIP, entry.eip);
  wr(cpu, F.GUEST_RFLAGS, 2);
  wr(cpu, F.GUEST_INTERRUPTIBILITY, 0);
  wr(cpu, F.GUEST_ACTIVITY, 0);
}

export function exitReasonName(reason: number): string {
  return EXIT_REASON_NAMES[reason & 0xffff] ?? `exit reason ${reason & 0xffff}`;
}
