/**
 * IN/OUT's I/O permission check (SDM §19.5) throws its #GP(0) from portIo itself (ops-high.ts,
 * CpuTask.ioPermitted): the same event, EIP, length and count on every tier, and a port the TSS
 * bitmap allows runs without a fault.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { TrapEvent } from './interrupts.ts';
import { CODE, TSS } from './test/env.ts';
import { HLT, le, resetTier, runWith, stopAtEvent, TIERS } from './test/tiers.ts';

afterEach(resetTier);

const INC_ESI = 0x46;
// mov edx, 0x70 ; inc esi ; in al, dx ; out dx, al ; inc esi ; hlt (CPL 3, IOPL 0)
const CODE_IO = [0xba, ...le(0x70), INC_ESI, 0xec, 0xee, INC_ESI, HLT];

describe('IN/OUT at CPL > IOPL', () => {
  it('#GP(0) on every tier: the same event, state and count', () => {
    const seen = TIERS.map((tier) => {
      const got: TrapEvent[] = [];
      const e = runWith(tier, CODE_IO, {
        cpl: 3,
        setup: (env) => {
          stopAtEvent(env, got);
        },
      });
      return { got, state: e.cpu.getState() };
    });
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[2]).toEqual(seen[1]);
    const ev = seen[1].got[0];
    expect([ev.vector, ev.errorCode, ev.instrEip, ev.eip, ev.length]).toEqual([13, 0, CODE + 6, CODE + 6, 1]);
    expect(seen[1].state.instructions).toBe(2);
  });

  it('a port the TSS bitmap allows: no fault, both accesses run', () => {
    const seen = TIERS.map((tier) => {
      const got: TrapEvent[] = [];
      const e = runWith(tier, CODE_IO, {
        cpl: 3,
        setup: (env) => {
          // A TSS with an I/O bitmap at 0x68 (all zero: every port allowed) and its byte after it.
          env.dv.setUint16(TSS + 0x66, 0x68, true);
          env.cpu.setSeg(7, 0x28, TSS, 0x68 + 0x2000, 0x8b);
          stopAtEvent(env, got);
        },
      });
      return { got: got.map((ev) => ev.vector), state: e.cpu.getState() };
    });
    expect(seen[0]).toEqual(seen[1]);
    expect(seen[2]).toEqual(seen[1]);
    // HLT at CPL 3 is the one fault: #GP(0) after all five instructions before it.
    expect(seen[1].state.instructions).toBe(5);
    expect(seen[1].state.regs[6]).toBe(2);
  });
});
