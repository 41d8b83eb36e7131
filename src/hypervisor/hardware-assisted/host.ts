/**
 * The VMM's own (root-mode) world on the physical CPU: a host GDT with flat ring-0 segments and
 * a TSS, an IDT, identity page tables (4 MiB pages), the VMXON region — and the physical CPU put
 * into that state and into VMX operation with VMXON (SDM Vol.3C §23.7: CR4.VMXE, CR0 fixed bits,
 * IA32_FEATURE_CONTROL locked with VMX enabled, a 4 KiB region carrying the VMCS revision).
 *
 * The VMM itself is TypeScript: nothing ever executes at HOST_RIP (the CPU's `stopOnExit` returns
 * run() at each VM exit), but the host state is complete and valid as the VM-entry checks demand.
 */
import type { Cpu, CpuState } from '../../cpu/index.ts';
import type { VmmFrames } from '../vmm/memory-map.ts';

export const HOST_CS = 0x08;
export const HOST_DS = 0x10;
export const HOST_TR = 0x18;
/** CR0 = PE | ET | NE | PG; CR4 = PSE | VMXE. */
export const HOST_CR0 = 0x80000031 | 0;
export const HOST_CR4 = 0x2010;

export interface HostWorld {
  cr3: number;
  gdt: number;
  idt: number;
  tss: number;
  rip: number;
  rsp: number;
  vmxon: number;
}

/** Build the host structures in VMM frames and enter VMX root operation. */
export function enterHost(cpu: Cpu, frames: VmmFrames, hostBytes: number): HostWorld {
  const ram = cpu.ram;
  const w32 = (a: number, v: number) => {
    ram[a] = v;
    ram[a + 1] = v >>> 8;
    ram[a + 2] = v >>> 16;
    ram[a + 3] = v >>> 24;
  };
  const gdt = frames.alloc();
  // Null, flat 32-bit code (0x9B), flat data (0x93), 32-bit busy TSS (0x8B) at `tss`.
  const tss = frames.alloc();
  w32(gdt + 8, 0x0000ffff);
  w32(gdt + 12, 0x00cf9b00);
  w32(gdt + 16, 0x0000ffff);
  w32(gdt + 20, 0x00cf9300);
  w32(gdt + 24, ((tss & 0xffff) << 16) | 0x67);
  w32(gdt + 28, (tss & 0xff000000) | 0x8b00 | ((tss >>> 16) & 0xff));
  const idt = frames.alloc();
  // Identity map of all host memory with 4 MiB pages (P, RW, PS).
  const pd = frames.alloc();
  for (let i = 0; i < Math.ceil(hostBytes / 0x400000) && i < 1024; i++) w32(pd + 4 * i, (i << 22) | 0x83);
  const code = frames.alloc();
  ram[code] = 0xf4; // hlt; jmp $-3 — never reached: the TypeScript VMM handles exits
  ram[code + 1] = 0xeb;
  ram[code + 2] = 0xfd;
  const stack = frames.alloc();
  const vmxon = frames.alloc();
  w32(vmxon, cpu.vmx.readMsr(0x480)?.[0] ?? 0);
  const flat = (sel: number, ar: number) => ({ sel, base: 0, limit: 0xffffffff, ar });
  const s = cpu.getState();
  const host: CpuState = {
    ...s,
    eip: code,
    eflags: 2,
    segs: [
      flat(HOST_DS, 0xc093),
      flat(HOST_CS, 0xc09b),
      flat(HOST_DS, 0xc093),
      flat(HOST_DS, 0xc093),
      flat(HOST_DS, 0xc093),
      flat(HOST_DS, 0xc093),
      { sel: 0, base: 0, limit: 0, ar: 0x10000 },
      { sel: HOST_TR, base: tss, limit: 0x67, ar: 0x8b },
    ],
    cpl: 0,
    cr0: HOST_CR0,
    cr3: pd,
    cr4: HOST_CR4,
    gdtr: { base: gdt, limit: 31 },
    idtr: { base: idt, limit: 0x7ff },
    halted: false,
  };
  host.regs = [...s.regs];
  host.regs[4] = stack + 4096;
  cpu.setState(host);
  const st = cpu.vmx.vmxon(vmxon);
  if (st !== 0) throw new Error(`VMXON failed (status ${st})`);
  cpu.vmx.stopOnExit = true;
  return { cr3: pd, gdt, idt, tss, rip: code, rsp: stack + 4096, vmxon };
}
