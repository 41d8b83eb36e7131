import { describe, expect, it } from 'vitest';
import { countV8, formatCounts } from './v8-counts.ts';

// Lines as V8 prints them (Chromium's through Playwright's debug log, Node's bare).
const LOG = [
  '2026-12-07T08:41:44.820Z pw:browser [pid=601][out] [completed compiling 0x1 <JSFunction fastLoop (sfi = 0xa1)> (target MAGLEV) - took 0.001, 37.580, 0.053 ms]',
  '2026-12-07T08:41:44.821Z pw:browser [pid=601][out] [completed compiling 0x1 <JSFunction fastLoop (sfi = 0xa1)> (target TURBOFAN_JS) OSR - took 0.002, 332.492, 0.255 ms]',
  '[completed compiling 0x1 <JSFunction fastLoop (sfi = 0xa1)> (target MAGLEV) - took 0.001, 11.2, 0.02 ms]',
  '[completed compiling 0x2 <JSFunction  (sfi = 0xb2)> (target TURBOFAN) - took 0.1, 2.0, 0.1 ms]',
  '[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x1 <JSFunction fastLoop (sfi = 0xa1)>, 0x9 <Code TURBOFAN_JS>, opt id 6]',
  '[bailout (kind: deopt-eager, reason: prepare for on stack replacement (OSR)): begin. deoptimizing 0x1 <JSFunction fastLoop (sfi = 0xa1)>]',
  '[bailout (kind: deopt-lazy, reason: (unknown)): begin. deoptimizing 0x3 <JSFunction run (sfi = 0xc3)>]',
  '[bailout (kind: deopt-eager, reason: wrong map): begin. deoptimizing 0x3 <JSFunction run (sfi = 0xc3)>]',
  '[marking dependent code 0x5 <Code MAGLEV> (0x6 <SharedFunctionInfo rd32>) (opt id 27) for deoptimization, reason: dependent prototype chain changed]',
  '[marking 0x1 <JSFunction fastLoop (sfi = 0xa1)> for optimization to TURBOFAN_JS, ConcurrencyMode::kConcurrent, reason: hot and stable]',
  'bench: run 1: chromium 4.750 s wall',
].join('\n');

describe('v8-counts: counting a --trace-opt --trace-deopt log', () => {
  it('counts compile jobs by tier, distinct functions, deopts by reason, OSR entries, invalidations', () => {
    const c = countV8(LOG);
    expect(c.jobs).toEqual({ MAGLEV: 2, TURBOFAN_JS: 1, TURBOFAN: 1 });
    expect(c.functions).toEqual({ MAGLEV: 1, TURBOFAN_JS: 1, TURBOFAN: 1 });
    expect(c.deopts).toEqual({ 'wrong map': 2, '(unknown)': 1 });
    expect(c.osrEntries).toBe(1);
    expect(c.invalidated).toEqual({ 'dependent prototype chain changed': 1 });
    expect(c.top[0]).toEqual(['fastLoop MAGLEV', 2]);
    expect(c.top.map(([k]) => k)).toContain('(anonymous) TURBOFAN');
    const text = formatCounts(c, 2);
    expect(text).toContain('compile jobs 4 (MAGLEV 2 jobs / 1 functions, TURBOFAN 1 jobs / 1 functions');
    expect(text).toContain('deopts 3 (plus 1 OSR entries)');
    expect(text).toMatch(/most compiled:\n\s+2 {2}fastLoop MAGLEV/);
  });

  it('finds nothing in output without a trace', () => {
    const c = countV8('32031855 instructions, 2.2 s CPU\nbench: run 1');
    expect(c.jobs).toEqual({});
    expect(c.deopts).toEqual({});
  });
});
