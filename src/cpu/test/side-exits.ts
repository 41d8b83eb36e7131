/**
 * A guest whose loads, stores, pushes and pops leave the compiled tiers' inline memory fast paths
 * (jit.ts `memory`): shared by the region and trace tests, which each run it under their tier and
 * under the interpreter and compare everything.
 *
 * L: mov eax, [esi] ; push esp ; pop ebp ; push esi ; pop esp ; push 0x1234 ; pop ecx ;
 *    mov [esi+1], ebx (unaligned) ; mov edx, [edi] (straddles a page) ; mov [0x1800], eax (a
 *    code page) ; add esi, 4 ; dec ebx ; jnz L ; hlt
 */
import type { Cpu } from '../cpu.ts';
import { makeCpu } from './harness.ts';

const PROG = [
  0xbb, 100, 0, 0, 0, 0x8b, 0x06, 0x54, 0x5d, 0x56, 0x5c, 0x68, 0x34, 0x12, 0, 0, 0x59, 0x89, 0x5e, 0x01,
  0x8b, 0x17, 0xa3, 0x00, 0x18, 0, 0, 0x83, 0xc6, 0x04, 0x4b, 0x75, 0xe4, 0xf4,
];

/** Run the program on a fresh CPU under whatever tier the caller has set. */
export function runSideExits(): { state: ReturnType<Cpu['getState']>; n: number; ram: Uint8Array; cpu: Cpu } {
  const m = makeCpu(1 << 20);
  m.bus.ram.set(PROG, 0x1000);
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
