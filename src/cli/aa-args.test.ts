/** `--cpu-model` for `traplab run`, and `traplab aa`'s own arguments. */
import { describe, expect, it } from 'vitest';
import { AA_BENCHMARKS } from '../session/adams-agesen-data.ts';
import { AA_BENCHMARK_NAMES, parseAaArgs, parseCommand, parseRunArgs, UsageError } from './args.ts';

describe('--cpu-model', () => {
  it('selects a preset for traplab run, and is absent by default', () => {
    expect(parseRunArgs(['--guest', 'minikernel', '--cpu-model', 'nehalem']).cpuModel).toBe('nehalem');
    expect(parseRunArgs(['--guest', 'minikernel', '--cpu-model=p4']).cpuModel).toBe('p4');
    expect('cpuModel' in parseRunArgs(['--guest', 'minikernel'])).toBe(false);
  });

  it('refuses an unknown model, naming the presets', () => {
    expect(() => parseRunArgs(['--guest', 'minikernel', '--cpu-model', 'k6'])).toThrow(UsageError);
    expect(() => parseRunArgs(['--guest', 'minikernel', '--cpu-model', 'k6'])).toThrow(/p4, nehalem, modern/);
  });
});

describe('traplab aa', () => {
  it('defaults to the Pentium 4, every benchmark, a text table', () => {
    expect(parseCommand(['aa'])).toEqual({
      command: 'aa',
      options: { cpuModel: 'p4', json: false, only: AA_BENCHMARK_NAMES },
    });
  });

  it('takes all presets, JSON and a subset (kept in bench order)', () => {
    expect(parseAaArgs(['--cpu-model', 'all', '--json', '--only', 'ptemod,in'])).toEqual({
      cpuModel: 'all',
      json: true,
      only: ['in', 'ptemod'],
    });
  });

  it('refuses what it does not know, and has its own help', () => {
    expect(() => parseAaArgs(['--only', 'forkwait'])).toThrow(/unknown benchmark 'forkwait'/);
    expect(() => parseAaArgs(['--frob'])).toThrow(/unknown option/);
    expect(() => parseAaArgs(['--cpu-model'])).toThrow(/needs a value/);
    expect(parseCommand(['aa', '--help'])).toEqual({ command: 'help', topic: 'aa' });
  });

  it('names the same benchmarks as the lab (kept apart so help stays light)', () => {
    expect([...AA_BENCHMARK_NAMES]).toEqual([...AA_BENCHMARKS]);
  });
});
