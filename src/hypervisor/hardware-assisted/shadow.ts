/**
 * First-generation VT-x (2005, no EPT): the VMM keeps shadow page tables (the shared
 * vmm/shadow.ts) as the real CR3, and learns of everything that affects them through VM exits —
 * MOV to/from CR3 (CR3-load/store exiting), INVLPG exiting, and #PF through the exception bitmap
 * (SDM Vol.3C §25.1.3, §25.2). A #PF the guest's own tables explain is injected back at VM entry
 * (with the guest's CR2, which a VM exit never changes, §27.1); any other is a hidden fault that
 * fills a shadow entry. With EPT only the CR0/CR4 bits the VMM owns (NE, VMXE) ever exit.
 */
import { F } from '../../cpu/vmx/fields.ts';
import { TrapAction } from '../vmm/trap-log.ts';
import type { Vm } from '../vmm/vm.ts';
import type { HardwareAssisted } from './hardware-assisted.ts';
import { CR0_MASK_SHADOW, rd, wr } from './vmcs-setup.ts';

const CR0_PE = 1;
const CR0_PG = 0x80000000 | 0;
const CR0_WP = 0x10000;

/**
 * A MOV to CR0/CR3/CR4 (or CLTS/LMSW, as CR0) that exited: the guest's new value goes to the read
 * shadow and the real register keeps the VMM's bits. Returns true if the value is invalid (#GP).
 */
export function shadowCrWrite(h: HardwareAssisted, vm: Vm, cr: number, v: number): boolean {
  const cpu = h.cpu;
  const shadowMode = h.paging === 'shadow';
  if (cr === 0) {
    // SDM MOV CR0: PG without PE, NW without CD → #GP(0). ET is hardwired to 1.
    if ((v & CR0_PG && (v & CR0_PE) === 0) || (v & 0x20000000 && (v & 0x40000000) === 0)) return true;
    const nv = ((v | 0x10) & 0xe005003f) >>> 0;
    const old = vm.v.cr0;
    vm.v.cr0 = nv;
    wr(cpu, F.CR0_SHADOW, nv);
    wr(cpu, F.GUEST_CR0, shadowMode ? nv | CR0_MASK_SHADOW : nv | 0x20);
    if (shadowMode && (old ^ nv) & (CR0_PG | CR0_WP | CR0_PE)) vm.shadow.dropAll();
    if (!shadowMode) cpu.vmx.invvpid(2, 0); // the VMM changed the guest's paging controls (§28.3.3.3)
    return false;
  }
  if (cr === 4) {
    // Only VME/PVI/TSD/DE/PSE/PGE exist for the guest (VMX is not offered to it): others #GP(0).
    if (v & ~0x9f || v & 0x3) return true;
    const old = vm.v.cr4;
    vm.v.cr4 = v >>> 0;
    wr(cpu, F.CR4_SHADOW, v);
    wr(cpu, F.GUEST_CR4, (shadowMode ? v & 0xc : v) | 0x2000);
    if (shadowMode && (old ^ v) & 0x90) vm.shadow.dropAll();
    if (!shadowMode) cpu.vmx.invvpid(2, 0);
    return false;
  }
  // CR3 (shadow paging only): the guest's new address space; the shadow tables start empty.
  vm.v.cr3 = (v & ~0xfe7) >>> 0;
  vm.shadow.dropAll();
  return false;
}

/** #PF (exception bitmap bit 14) or INVLPG exit with shadow paging. */
export function shadowExit(
  h: HardwareAssisted,
  vm: Vm,
  qual: number,
  invlpg = false,
): { action: TrapAction; cost: number; gpa: number } {
  const cpu = h.cpu;
  if (invlpg) {
    vm.shadow.invalidate(qual);
    return { action: TrapAction.Emulated, cost: h.cost.invlpg, gpa: 0 };
  }
  const info = rd(cpu, F.EXIT_INTR_INFO);
  const vec = info & 0xff;
  const code = rd(cpu, F.EXIT_INTR_EC);
  if (vec !== 14) {
    h.injectException(vec, info & 0x800 ? code : -1);
    return { action: TrapAction.Reflected, cost: h.cost.reflect, gpa: 0 };
  }
  const lin = qual >>> 0;
  const write = (code & 2) !== 0;
  const user = (code & 4) !== 0;
  if (vm.shadow.inVmmRegion(lin)) relocate(vm, lin);
  const r = vm.mem.walk(lin, write, user, true);
  if (r !== true) {
    // The guest's own tables refuse the access: its #PF, with its CR2 (§27.1: the exit left CR2).
    cpu.cr2 = lin | 0;
    h.injectException(14, r);
    return { action: TrapAction.Reflected, cost: h.cost.reflect, gpa: 0 };
  }
  const w = vm.mem.info;
  const writable = w.writable && (w.dirty || write);
  const userOk = w.user && !(w.wpOverride && writable);
  vm.shadow.fill(lin, w.gpa, writable, userOk, w.large, write);
  vm.stats.hiddenFaults++;
  return { action: TrapAction.ShadowFill, cost: h.cost.hiddenFault, gpa: w.gpa };
}

/** The shadow directory's VMM slot is in the guest's way: move it to a slot the guest leaves empty. */
function relocate(vm: Vm, lin: number): void {
  const sh = vm.shadow;
  const paging = (vm.v.cr0 & CR0_PG) !== 0;
  for (let i = 1023; i >= 1; i--) {
    if (i === sh.vmmPde) continue;
    const free = paging
      ? (vm.mem.readPhys32(((vm.v.cr3 & 0xfffff000) + i * 4) >>> 0) & 1) === 0
      : i * 0x400000 >= vm.map.memBytes;
    if (free) {
      sh.relocate(i);
      return;
    }
  }
  throw new Error(`no free 4 MiB slot for the VMM's shadow region (guest access at 0x${lin.toString(16)})`);
}

export { rd };
