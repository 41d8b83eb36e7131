/**
 * Child process of cpu-map.test.ts (run with `node --allow-natives-syntax --import tsx`): boots
 * the Linux guest until the kernel runs above 2 GiB and a little more, and prints whether the CPU
 * objects kept the map they were built with (V8's %HaveSameMap against a CPU built beside it and
 * never run). A field that changes representation mid-run gives the running CPU a new map, and
 * every function optimized for the old one is deoptimized (src/cpu/field-reps.ts).
 * Also stores a value ≥ 2^31 into every field field-reps.ts names wide, on a CPU that never ran.
 * Argument: instructions to run after the kernel first runs at ≥ 2 GiB.
 */
import type { Cpu } from '../cpu/cpu.ts';
import { CPU_WIDE_FIELDS, EVENT_WIDE_FIELDS } from '../cpu/field-reps.ts';
import { Pc } from './pc.ts';
import { loadTestLinux } from './test-linux.ts';

const sameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const after = Number(process.argv[2] ?? 1_000_000);

// Built before anything runs: the map every CPU starts with.
const idle = new Pc({ memMiB: 4, noReboot: true });
const pc = new Pc({ memMiB: 64, noReboot: true });
loadTestLinux(pc);
const cpu = pc.cpu as unknown as Cpu;
const still = idle.cpu as unknown as Cpu;
// Every field named wide takes a 32-bit value ≥ 2^31 (not a Smi in any V8) without a new map.
const poked = new Pc({ memMiB: 4, noReboot: true }).cpu as unknown as Cpu;
for (const f of CPU_WIDE_FIELDS) (poked as unknown as Record<string, number>)[f] = 0xc0000000;
for (const f of EVENT_WIDE_FIELDS) (poked.event as unknown as Record<string, number>)[f] = 0xc0000000;
const pokedSame = sameMap(poked, still) && sameMap(poked.event, still.event);
let highAt = -1;
while (highAt < 0 || pc.instructions < highAt + after) {
  const r = pc.runSlice(100_000);
  if (r.state !== 'running') throw new Error(`stopped: ${r.state}`);
  if (highAt < 0 && cpu.eip >>> 0 >= 0x80000000) highAt = pc.instructions;
  if (pc.instructions > 40_000_000) throw new Error('the kernel never ran above 2 GiB');
}
process.stdout.write(
  `${JSON.stringify({
    poked: pokedSame,
    highAt,
    instructions: pc.instructions,
    eip: cpu.eip >>> 0,
    cpu: sameMap(cpu, still),
    event: sameMap(cpu.event, still.event),
    blocks: sameMap(cpu.blocks, still.blocks),
    code: sameMap(cpu.code, still.code),
  })}\n`,
);
