/**
 * IN/OUT as block records (block-io.ts): the interpreter's port accesses, values and count on
 * every tier; the #GP(0) of the I/O permission check (CPL > IOPL, the TSS bitmap; SDM Vol.1 §19.5)
 * with the same vector, EIP, length and count; and an OUT that raises INTR taken right after it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TrapEvent } from './interrupts.ts';
import { CODE, type Env, STUBS, TSS } from './test/env.ts';
import { loadElf, makeCpu, runToExit } from './test/harness.ts';
import {
  HLT,
  le,
  records,
  resetTier,
  runWith,
  setTier,
  stopAtEvent,
  TIERS,
  type Tier,
  twin,
} from './test/tiers.ts';

afterEach(resetTier);

const tierName = (t: Tier) => (t === false ? 'interpreter' : t === true ? 'blocks' : 'jit');
const INC_ESI = 0x46;
const MOV_EAX = (v: number) => [0xb8, ...le(v)];
const MOV_EDX = (v: number) => [0xba, ...le(v)];

/** A TSS I/O bitmap at 0x68 with every port allowed but `denied` (bits set), TR's limit over it. */
function bitmap(env: Env, denied: number[]): void {
  env.dv.setUint16(TSS + 0x66, 0x68, true);
  for (const p of denied) env.bus.ram[TSS + 0x68 + (p >>> 3)] |= 1 << (p & 7);
  env.cpu.setSeg(7, 0x28, TSS, 0x68 + 0x2000, 0x8b);
}

/** Run `code` on every tier with a monitor that stops at the first event; all must agree. */
function faultOnEveryTier(name: string, code: number[], o: { cpl?: number; setup?: (e: Env) => void }) {
  const seen = TIERS.map((tier) => {
    const got: TrapEvent[] = [];
    const e = runWith(tier, code, {
      cpl: o.cpl,
      setup: (env) => {
        env.bus.logIo = true;
        env.bus.latchPorts = true;
        o.setup?.(env);
        stopAtEvent(env, got);
      },
    });
    return { got, state: e.cpu.getState(), io: e.bus.ioLog, recs: records(e), tier: tierName(tier) };
  });
  for (const s of seen) {
    expect(s.got, `${name}, ${s.tier}`).toEqual(seen[1].got);
    expect(s.state, `${name}, ${s.tier}`).toEqual(seen[1].state);
    expect(s.io, `${name}, ${s.tier}`).toEqual(seen[1].io);
  }
  return seen;
}

describe('IN/OUT records', () => {
  it('every form at CPL 0: the interpreter’s port accesses and values, each a record of its own', () => {
    const code = [
      ...MOV_EAX(0x12345678),
      ...[0xe6, 0x80], // out 0x80, al
      ...[0xe7, 0x80], // out 0x80, eax
      ...MOV_EDX(0x3ff),
      0xee, // out dx, al
      0xef, // out dx, eax
      ...[0xe4, 0x80], // in al, 0x80
      INC_ESI,
      ...[0xe5, 0x81], // in eax, 0x81
      0xec, // in al, dx
      0xed, // in eax, dx
      ...MOV_EDX(0x3f8),
      ...[0x26, 0xee], // es: out dx, al (a segment prefix means nothing to OUT: still a record)
      INC_ESI,
      HLT,
    ];
    const e = twin(code, {
      setup: (env) => {
        env.bus.logIo = true;
        env.bus.latchPorts = true;
      },
    });
    const off = runWith(false, code, {
      setup: (env) => {
        env.bus.logIo = true;
        env.bus.latchPorts = true;
      },
    });
    expect(e.bus.ioLog).toEqual(off.bus.ioLog);
    expect(e.bus.ioLog).toEqual([
      ['out8', 0x80, 0x78],
      ['out32', 0x80, 0x12345678],
      ['out8', 0x3ff, 0x78],
      ['out32', 0x3ff, 0x12345678],
      ['in8', 0x80, 0],
      ['in32', 0x81, 0],
      ['in8', 0x3ff, 0],
      ['in32', 0x3ff, 0],
      ['out8', 0x3f8, 0xff],
    ]);
    expect(e.bus.serial).toBe('\xff');
    expect([e.cpu.regs[0] >>> 0, e.cpu.regs[6]]).toEqual([0xffffffff, 2]);
    expect(e.cpu.instructions).toBe(15);
    const recs = records(e);
    expect(recs.get('ioImm')).toBe(4);
    expect(recs.get('ioDx')).toBe(5);
  });

  it('#GP(0) at CPL 3 > IOPL 0 for each opcode: the same event, EIP, length and count', () => {
    for (const [op, len] of [
      [0xe4, 2],
      [0xe5, 2],
      [0xe6, 2],
      [0xe7, 2],
      [0xec, 1],
      [0xed, 1],
      [0xee, 1],
      [0xef, 1],
    ]) {
      const insn = len === 2 ? [op, 0x80] : [op];
      const code = [...MOV_EDX(0x80), INC_ESI, ...insn, INC_ESI, HLT];
      const seen = faultOnEveryTier(op.toString(16), code, { cpl: 3 });
      const ev = seen[1].got[0];
      const at = CODE + 6;
      expect([ev.vector, ev.errorCode, ev.instrEip, ev.eip, ev.length], op.toString(16)).toEqual([
        13,
        0,
        at,
        at,
        len,
      ]);
      expect(seen[1].state.instructions).toBe(2);
      expect(seen[1].io).toEqual([]);
      expect(seen[0].recs.get(len === 2 ? 'ioImm' : 'ioDx'), op.toString(16)).toBe(1);
    }
  });

  it('the TSS bitmap: an allowed port runs, a dword over one denied port faults, IOPL 3 needs no bitmap', () => {
    // in al, dx (0x80: allowed) ; inc esi ; mov edx, 0x3fc ; in eax, dx (0x3fc–0x3ff: 0x3ff denied)
    const code = [...MOV_EDX(0x80), 0xec, INC_ESI, ...MOV_EDX(0x3fc), 0xed, INC_ESI, HLT];
    const seen = faultOnEveryTier('bitmap', code, { cpl: 3, setup: (env) => bitmap(env, [0x3ff]) });
    const ev = seen[1].got[0];
    const at = CODE + 5 + 1 + 1 + 5;
    expect([ev.vector, ev.errorCode, ev.instrEip, ev.eip, ev.length]).toEqual([13, 0, at, at, 1]);
    expect(seen[1].io).toEqual([['in8', 0x80, 0]]);
    expect(seen[1].state.instructions).toBe(4);
    expect(seen[1].state.regs[6]).toBe(1);
    // The same program with IOPL 3: CPL ≤ IOPL, so the bitmap is not consulted (§19.5.1); HLT at
    // CPL 3 is then the one #GP.
    const free = faultOnEveryTier('iopl 3', code, {
      cpl: 3,
      setup: (env) => {
        bitmap(env, [0x3ff, 0x80]);
        env.cpu.flags |= 3 << 12;
      },
    });
    expect(free[1].io).toEqual([
      ['in8', 0x80, 0],
      ['in32', 0x3fc, 0],
    ]);
    expect(free[1].state.instructions).toBe(6);
    expect(free[1].got[0].instrEip).toBe(CODE + code.length - 1);
  });

  it('an OUT that raises INTR: the interrupt comes right after it, on every tier', () => {
    // out 0x81, al ; inc esi ; inc esi ; hlt — port 0x81 raises vector 0x40 (its stub halts).
    const code = [0xe6, 0x81, INC_ESI, INC_ESI, HLT];
    const runs = TIERS.map((tier) => {
      const e = runWith(tier, code, {
        setup: (env) => {
          const bus = env.bus;
          const out8 = bus.out8.bind(bus);
          bus.out8 = (port, v) => {
            out8(port, v);
            if (port === 0x81) bus.pendingVector = 0x40;
          };
          env.cpu.flags |= 0x200;
        },
      });
      return { state: e.cpu.getState(), ret: new DataView(e.bus.ram.buffer).getUint32(0x8000 - 12, true) };
    });
    expect(runs[0]).toEqual(runs[1]);
    expect(runs[2]).toEqual(runs[1]);
    expect(runs[1].state.regs[6]).toBe(0); // neither INC ran
    expect(runs[1].ret).toBe(CODE + 2); // the return EIP pushed: the instruction after the OUT
    expect(runs[1].state.eip).toBe(STUBS + 0x40 + 1); // halted in the vector's stub
    expect(runs[1].state.instructions).toBe(2); // the OUT and the stub's HLT
  });

  it('VMX non-root: the I/O exit (reason 30, its qualification and length) of guests/vmx on every tier', () => {
    // The guest's VMM skips each exiting instruction by the exit's instruction length (SDM Vol.3C
    // §27.2.5), read from EIP/IP as the instruction ran: a wrong one derails every later check.
    const elf = new Uint8Array(readFileSync(join(import.meta.dirname, '../../guests/vmx/vmx.elf')));
    const runs = TIERS.map((tier) => {
      const { cpu, bus } = makeCpu(32 << 20);
      cpu.enterProtectedFlat(loadElf(bus.ram, elf), { eax: 0x2badb002, ebx: 0x9000 });
      setTier(tier);
      const code = runToExit(cpu, bus, 20_000_000);
      resetTier();
      return {
        code,
        serial: bus.serial,
        exits: cpu.vmx.exits,
        instructions: cpu.instructions,
        built: cpu.blocks.built,
      };
    });
    expect(runs[1].serial).toContain('PASS out 0x80 with unconditional i/o exiting: reason 30');
    expect(runs[1].serial).toContain('PASS   qualification: size 1, out, immediate, port 80h');
    expect(runs[1].code).toBe(0);
    for (const r of [runs[0], runs[2]]) {
      expect(r.serial).toBe(runs[1].serial);
      expect([r.code, r.exits, r.instructions]).toEqual([runs[1].code, runs[1].exits, runs[1].instructions]);
      expect(r.built).toBeGreaterThan(0);
    }
  });
});
