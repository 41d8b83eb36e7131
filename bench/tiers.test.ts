// `--tiers`: parsing, the child's lines, and the side-by-side table with its ratios to the tier
// below (pure functions; the child processes themselves are what `npm run bench -- --tiers` runs).
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.ts';
import { parseChildLines, slowerThanBelow, type TierFigure, tierJsonLine, tiersTable } from './tiers.ts';

const fig = (workload: string, tier: TierFigure['tier'], cold: number, warm?: number): TierFigure => ({
  workload,
  tier,
  cold: { instructions: 32_000_000, cpu: cold, wall: cold * 1.5 },
  ...(warm !== undefined ? { warm: { instructions: 32_000_000, cpu: warm, wall: warm } } : {}),
});

describe('bench --tiers', () => {
  it('parses the tier list in tier order, each once, and rejects unknown tiers', () => {
    expect(parseBenchArgs([]).tiers).toBeNull();
    expect(parseBenchArgs(['--tiers']).tiers).toEqual(['interpreter', 'blocks', 'jit']);
    expect(parseBenchArgs(['--tiers=jit,blocks,jit', '--only', 'linux-boot'])).toMatchObject({
      tiers: ['blocks', 'jit'],
      only: ['linux-boot'],
    });
    expect(() => parseBenchArgs(['--tiers=blocks,fast'])).toThrow(
      /--tiers: 'fast' is not interpreter, blocks or jit/,
    );
    expect(() => parseBenchArgs(['--tiers='])).toThrow(/--tiers= needs at least one tier/);
    expect(parseBenchArgs(['--child', 'linux-boot', '--warm-runs', '3'])).toMatchObject({
      child: 'linux-boot',
      warmRuns: 3,
    });
    expect(parseBenchArgs(['--mem', '128']).memMiB).toBe(128);
    expect(() => parseBenchArgs(['--mem', '8'])).toThrow(/--mem: '8' is not a whole number of MiB/);
    expect(() => parseBenchArgs(['--warm-runs', '-1'])).toThrow(/--warm-runs: '-1' is not a whole number/);
  });

  it("reads the child's cold and warm lines among its other output", () => {
    const out =
      'noise\nCOLD {"instructions":5,"cpu":0.5,"wall":0.7}\nWARM {"instructions":5,"cpu":0.2,"wall":0.3}\n';
    expect(parseChildLines(out)).toEqual({
      cold: { instructions: 5, cpu: 0.5, wall: 0.7 },
      warm: { instructions: 5, cpu: 0.2, wall: 0.3 },
    });
    expect(parseChildLines('COLD {"instructions":1,"cpu":1,"wall":1}')).toMatchObject({ warm: null });
  });

  it('prints each tier beside the tier below it and marks a higher tier that is slower', () => {
    const figs = [
      fig('linux-boot', 'interpreter', 4, 3),
      fig('linux-boot', 'blocks', 2, 1),
      fig('linux-boot', 'jit', 2.2, 1.02),
      fig('cold-code', 'blocks', 1),
      fig('cold-code', 'jit', 0.5),
    ];
    const lines = tiersTable(figs).split('\n');
    expect(lines[0]).toMatch(/^workload\s+tier\s+instructions\s+cold cpu\s+cold wall\s+warm cpu\s+warm wall/);
    expect(lines[1]).toMatch(/^\s+cold\s+warm$/);
    expect(lines[2]).toMatch(/^-+$/);
    // The workload is named on its first row only; the lowest tier has no ratio.
    expect(lines[3]).toMatch(
      /^linux-boot\s+interpreter\s+32,000,000\s+4\.000\s+6\.000\s+3\.000\s+3\.000\s+8\.00\s+10\.7$/,
    );
    expect(lines[4]).toMatch(
      /^\s+blocks\s+32,000,000\s+2\.000\s+3\.000\s+1\.000\s+1\.000\s+16\.0\s+32\.0\s+0\.50\s+0\.33$/,
    );
    // jit: 1.10× cold (over the 5 % margin: marked), 1.02× warm (not marked).
    expect(lines[5]).toMatch(/^\s+jit\s.*\s1\.10>\s+1\.02$/);
    expect(lines[6]).toMatch(/^cold-code\s+blocks\s.*—\s+—\s+32\.0\s+—\s*$/);
    expect(lines[7]).toMatch(/\s0\.50$/);
    expect(slowerThanBelow(figs)).toEqual(['linux-boot: jit cold 1.10× the CPU time of blocks']);
    expect(JSON.parse(tierJsonLine(figs, figs[2]!))).toEqual({
      name: 'linux-boot',
      tier: 'jit',
      cold: { instructions: 32_000_000, cpu: 2.2, wall: 3.3, cpuMips: 14.545 },
      warm: { instructions: 32_000_000, cpu: 1.02, wall: 1.02, cpuMips: 31.373 },
      below: 'blocks',
      cpuRatioToBelow: { cold: 1.1, warm: 1.02 },
    });
  });
});
