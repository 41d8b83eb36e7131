/**
 * CPU-bound guest loop with paging on, for measuring interpreter speed (not a test):
 *   npx tsx src/cpu/perf-loop.ts [iterations]
 * Loop body (7 instructions): add, xor, store, load, inc, dec, jnz — plus a call/ret pair
 * every iteration to exercise the stack. Prints guest MIPS.
 */
import { StopReason } from './constants.ts';
import { jitTuning } from './fastpaths.ts';
import { makeCpu } from './test/harness.ts';

// REGIONS=1: page-sized regions (jit-region.ts) instead of single compiled blocks.
if (process.env.REGIONS) {
  jitTuning.regions = true;
  jitTuning.jitAfter = 1000;
}

// TRACES=1: traces (jit-trace.ts) instead of single compiled blocks.
if (process.env.TRACES) {
  jitTuning.traces = true;
  jitTuning.jitAfter = Number(process.env.JITAFTER ?? 1000);
  if (process.env.TRACEMEGA) jitTuning.traceMegaCalls = process.env.TRACEMEGA === '1';
}

const iterations = Number(process.argv[2] ?? 20_000_000);
const { cpu, bus } = makeCpu(16 << 20);
const ram = bus.ram;
const code = [
  0xb9,
  ...le32(iterations), // mov ecx, N
  // loop:
  0x01,
  0xd8, // add eax, ebx
  0x31,
  0xc2, // xor edx, eax
  0x89,
  0x06, // mov [esi], eax
  0x8b,
  0x5e,
  0x04, // mov ebx, [esi+4]
  0xe8,
  ...le32(0x1100 - 0x1013), // call sub (at 0x1100)
  0x47, // inc edi
  0x49, // dec ecx
  0x75,
  0x100 - 0x12, // jnz loop
  0xf4, // hlt
];
ram.set(code, 0x1000);
ram.set([0x83, 0xc5, 0x01, 0xc3], 0x1100); // sub: add ebp, 1; ret
function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
// Identity-map 4 MiB with 4 KiB pages: page directory at 0x10000, one page table at 0x11000.
const dv = new DataView(ram.buffer);
dv.setUint32(0x10000, 0x11000 | 7, true);
for (let i = 0; i < 1024; i++) dv.setUint32(0x11000 + i * 4, (i << 12) | 7, true);
cpu.enterProtectedFlat(0x1000, { esi: 0x2000, esp: 0x9000 });
cpu.cr3 = 0x10000;
cpu.cr0 |= 0x80000000;
cpu.flushTlb(false);
const t0 = performance.now();
const c0 = process.cpuUsage();
let r: StopReason = StopReason.Budget;
while (r === StopReason.Budget) r = cpu.run(10_000_000);
const dt = (performance.now() - t0) / 1000;
const cu = process.cpuUsage(c0);
const cpuSec = (cu.user + cu.system) / 1e6;
// CPU-time MIPS is the stable number on a shared machine; wall-clock MIPS depends on the load.
console.log(
  `${cpu.instructions} instructions: ${(cpu.instructions / cpuSec / 1e6).toFixed(1)} MIPS per CPU-second, ${(cpu.instructions / dt / 1e6).toFixed(1)} MIPS wall-clock (paging on, stop ${r}, ebp=${cpu.regs[5]})`,
);
