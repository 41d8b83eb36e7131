/**
 * Issue 17's semantic fixes, on every tier: the cpu-semantics and cpu-straddle guests (POP SS with
 * a stack-size change, ENTER on a 16-bit stack, aliased XADD, a 286 TSS, AAM 0; far pointers,
 * BOUND, LGDT and dwords straddling a 64 KiB limit) give the same serial output, exit value and
 * instruction count on the interpreter, on pre-decoded blocks and with the second tier.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadElf, makeCpu, runToExit } from './test/harness.ts';
import { resetTier, setTier, TIERS, type Tier } from './test/tiers.ts';

const dir = resolve(__dirname, '../../guests/cputests');

function boot(file: string, tier: Tier) {
  setTier(tier);
  const { cpu, bus } = makeCpu(32 << 20);
  bus.latchPorts = true;
  const entry = loadElf(bus.ram, new Uint8Array(readFileSync(resolve(dir, file))));
  cpu.enterProtectedFlat(entry, { eax: 0x2badb002, ebx: 0x9000 });
  const code = runToExit(cpu, bus, 5_000_000);
  return { serial: bus.serial, code, instructions: cpu.instructions };
}

describe('issue 17 semantics on every tier', () => {
  afterEach(resetTier);
  for (const g of ['semantics.elf', 'straddle.elf']) {
    it(`${g}: every check passes, identically on all three tiers`, () => {
      const runs = TIERS.map((t) => boot(g, t));
      expect(runs[0].serial).not.toMatch(/FAIL/);
      expect(runs[0].serial).toMatch(/DONE checks=\d+ failed=0/);
      expect(runs[0].code).toBe(0);
      for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
    });
  }
});
