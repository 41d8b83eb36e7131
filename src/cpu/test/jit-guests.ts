/**
 * Guests shared by the compiled tiers' tests (jit, regions, traces), which each run them under
 * their tier and under the interpreter and compare everything.
 */
import type { Cpu } from '../cpu.ts';
import { makeCpu } from './harness.ts';

/**
 * A loop at 0x1000 that runs 50 times, with a load from [esi] that faults (#PF) once ESI walks off
 * the identity-mapped first 0x40 pages. Runs under whatever tier the caller has set.
 */
export function pagedLoopCpu(): { cpu: Cpu; bus: ReturnType<typeof makeCpu>['bus'] } {
  const { cpu, bus } = makeCpu(4 << 20);
  // mov ecx, 50 ; L: add eax, ebx ; mov edx, [esi] ; inc ebx ; add esi, 0x1000 ; dec ecx ; jnz L ; hlt
  bus.ram.set(
    [0xb9, 50, 0, 0, 0, 0x01, 0xd8, 0x8b, 0x16, 0x43, 0x81, 0xc6, 0, 0x10, 0, 0, 0x49, 0x75, 0xf2, 0xf4],
    0x1000,
  );
  const dv = new DataView(bus.ram.buffer);
  dv.setUint32(0x10000, 0x11000 | 7, true);
  for (let i = 0; i < 0x40; i++) dv.setUint32(0x11000 + i * 4, (i << 12) | 7, true);
  cpu.enterProtectedFlat(0x1000, { esi: 0x20000, esp: 0x9000, ebx: 1 });
  cpu.cr3 = 0x10000;
  cpu.cr0 |= 0x80000000;
  cpu.flushTlb(false);
  return { cpu: cpu as Cpu, bus };
}

/**
 * A guest whose loads, stores, pushes and pops leave the compiled tiers' inline memory fast paths
 * (jit.ts `memory`).
 *
 * L: mov eax, [esi] ; push esp ; pop ebp ; push esi ; pop esp ; push 0x1234 ; pop ecx ;
 *    mov [esi+1], ebx (unaligned) ; mov edx, [edi] (straddles a page) ; mov [0x1800], eax (a
 *    code page) ; add esi, 4 ; dec ebx ; jnz L ; hlt
 */
const SIDE_EXITS = [
  0xbb, 100, 0, 0, 0, 0x8b, 0x06, 0x54, 0x5d, 0x56, 0x5c, 0x68, 0x34, 0x12, 0, 0, 0x59, 0x89, 0x5e, 0x01,
  0x8b, 0x17, 0xa3, 0x00, 0x18, 0, 0, 0x83, 0xc6, 0x04, 0x4b, 0x75, 0xe4, 0xf4,
];

/** Run the program on a fresh CPU under whatever tier the caller has set. */
export function runSideExits(): { state: ReturnType<Cpu['getState']>; n: number; ram: Uint8Array; cpu: Cpu } {
  const m = makeCpu(1 << 20);
  m.bus.ram.set(SIDE_EXITS, 0x1000);
  for (let i = 0; i < 0x400; i++) m.bus.ram[0x4000 + i] = (i * 37) & 0xff;
  m.cpu.enterProtectedFlat(0x1000, { esi: 0x4000, edi: 0x2ffe, esp: 0x9000 });
  m.cpu.run(5000);
  return {
    state: m.cpu.getState(),
    n: m.cpu.instructions,
    ram: m.bus.ram.slice(0, 0x10000),
    cpu: m.cpu as Cpu,
  };
}
