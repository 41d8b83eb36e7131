// Flags of `traplab compare` and `traplab popek-goldberg` (pure parsing; errors are UsageErrors).
import { describe, expect, it } from 'vitest';
import { UsageError } from './args.ts';
import { parseCompareArgs, parseMatrixArgs } from './lab-args.ts';

describe('traplab compare arguments', () => {
  it('takes a guest, two to four techniques (short names too), input with escapes and --json', () => {
    expect(
      parseCompareArgs([
        '--guest',
        'minikernel',
        '--techniques',
        'native,bt,vtx',
        '--input',
        'help\\r',
        '--json',
      ]),
    ).toEqual({
      guest: { kind: 'guest', id: 'minikernel' },
      techniques: ['native', 'binary-translation', 'hardware-assisted'],
      input: 'help\r',
      maxInstructions: 200_000_000,
      memMiB: 64,
      json: true,
    });
    expect(parseCompareArgs(['--help'])).toBe('help');
  });
  it('refuses what it cannot run, with a clear message', () => {
    const bad: [string[], RegExp][] = [
      [['--guest', 'x', '--techniques', 'native'], /two to four/],
      [['--guest', 'x', '--techniques', 'native,native'], /given twice/],
      [['--guest', 'x', '--techniques', 'native,warp'], /unknown technique 'warp'/],
      [['--techniques', 'native,bt'], /exactly one of --guest/],
      [['--guest', 'x'], /--techniques A,B is required/],
      [['--guest', 'x', '--techniques', 'native,bt', '--frob'], /unknown option '--frob'/],
    ];
    for (const [argv, msg] of bad) {
      expect(() => parseCompareArgs(argv)).toThrow(UsageError);
      expect(() => parseCompareArgs(argv)).toThrow(msg);
    }
  });
});

describe('traplab popek-goldberg arguments', () => {
  it('defaults to every technique and demo', () => {
    expect(parseMatrixArgs([])).toEqual({ kernel: null, techniques: null, tests: null, json: false });
    expect(parseMatrixArgs(['--json', '--techniques', 'native,pv', '--tests', 'SIDT,popf'])).toEqual({
      kernel: null,
      techniques: ['native', 'paravirtual'],
      tests: ['sidt', 'popf'],
      json: true,
    });
  });
});
