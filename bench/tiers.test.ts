// `--tiers`: parsing, the child's lines, and the side-by-side table with its ratios to the tier
// below (pure functions; the child processes themselves are what `npm run bench -- --tiers` runs).
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from './args.ts';
import {
  median,
  type PairCheck,
  pairsFor,
  parseChildLines,
  SHORT_COLD_PAIRS,
  slowerThanBelow,
  suspectCells,
  type TierCell,
  type TierFigure,
  tierJsonLine,
  tiersTable,
  tierVerdicts,
} from './tiers.ts';

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
    expect(parseBenchArgs(['--tiers']).pairs).toBe(5);
    expect(parseBenchArgs(['--tiers', '--pairs', '0']).pairs).toBe(0);
    expect(() => parseBenchArgs(['--pairs', '21'])).toThrow(
      /--pairs: '21' is not a whole number from 0 to 20/,
    );
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

describe('bench --tiers verdicts', () => {
  const figs = [
    fig('minikernel-bench', 'interpreter', 0.5, 0.06),
    fig('minikernel-bench', 'blocks', 0.55, 0.08),
    fig('minikernel-bench', 'jit', 0.5, 0.08),
    fig('linux-boot', 'interpreter', 2, 1),
    fig('linux-boot', 'blocks', 2.4, 0.8),
    fig('bench-loop', 'interpreter', 6, 6),
    fig('bench-loop', 'blocks', 4, 4),
  ];

  it('lists the cells over the margin with the tier below and the kind', () => {
    expect(suspectCells(figs).map((c) => [c.workload, c.tier, c.below, c.kind, c.ratio.toFixed(2)])).toEqual([
      ['minikernel-bench', 'blocks', 'interpreter', 'cold', '1.10'],
      ['minikernel-bench', 'blocks', 'interpreter', 'warm', '1.33'],
      ['linux-boot', 'blocks', 'interpreter', 'cold', '1.20'],
    ]);
    expect(suspectCells(figs).map((c) => c.belowCpu)).toEqual([0.5, 0.06, 2]);
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
  });

  it('gives a cold cell whose lower tier ran under WARM_SAMPLE_S more pairs, and nothing else', () => {
    const short = [fig('hello-boot', 'interpreter', 0.04, 0.002), fig('hello-boot', 'blocks', 0.05, 0.003)];
    const [cold, warm] = suspectCells(short) as [TierCell, TierCell];
    expect([cold.kind, warm.kind]).toEqual(['cold', 'warm']);
    expect(SHORT_COLD_PAIRS).toBeGreaterThan(1);
    expect(pairsFor(cold, 5)).toBe(5 * SHORT_COLD_PAIRS);
    // Warm cells are repeated in-process instead (WARM_SAMPLE_S); long cold cells keep `pairs`.
    expect(pairsFor(warm, 5)).toBe(5);
    const lbCold = suspectCells(figs).find((c) => c.workload === 'linux-boot')!;
    expect(pairsFor(lbCold, 5)).toBe(5);
    expect(pairsFor(cold, 0)).toBe(0);
  });

  it('one line per workload: SLOWER on the pairs, cleared suspects named, UNCONFIRMED without pairs', () => {
    const [mkCold, mkWarm, lbCold] = suspectCells(figs) as [TierCell, TierCell, TierCell];
    const checks: PairCheck[] = [
      { cell: mkCold, ratios: [1.01, 0.98, 1.03] },
      { cell: mkWarm, ratios: [1.2, 1.3, 1.1, 1.25] },
      { cell: lbCold, ratios: [1.0, 1.04, 0.97] },
    ];
    expect(tierVerdicts(figs, checks)).toEqual([
      'minikernel-bench: SLOWER: blocks warm 1.23× interpreter (median of 4 pairs, 1.10–1.30); level on re-run: blocks cold 1.01× interpreter (median of 3 pairs, 0.98–1.03)',
      'linux-boot: OK: no tier over 5 % slower than the one below; level on re-run: blocks cold 1.00× interpreter (median of 3 pairs, 0.97–1.04)',
      'bench-loop: OK: no tier over 5 % slower than the one below',
    ]);
    // Without pairs (--pairs 0) a single run's loss is reported as unconfirmed, not as a verdict.
    expect(tierVerdicts(figs, [])[1]).toBe(
      'linux-boot: UNCONFIRMED: blocks cold 1.20× interpreter (one run)',
    );
  });
});
