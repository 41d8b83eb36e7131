/**
 * fastLoop going on after an `attention` stop that is only an instruction boundary (Cpu.resume)
 * instead of returning to run(): a guest that writes an I/O port on every pass stays in one call
 * of the loop, and whatever run() would have done at such a boundary still happens at the same
 * instruction — the run's budget, a device's stop request, an interrupt raised by a port write,
 * single-step set by POPF. Each program runs on the interpreter, on blocks and on compiled blocks,
 * and all three must agree on everything (`twin`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { DB } from './constants.ts';
import { CODE, type Env, STUBS, stubVector } from './test/env.ts';
import { back, HLT, le, resetTier, runWith, TIERS, twin } from './test/tiers.ts';

afterEach(resetTier);

/** mov ecx,N ; L: out 0x80,al ; inc ebx ; dec ecx ; jnz L ; hlt — 3 + 4·N instructions to HLT. */
function outLoop(n: number): number[] {
  const code = [0xb9, ...le(n)]; // mov ecx, n
  const top = code.length;
  code.push(0xe6, 0x80, 0x43, 0x49, 0x75); // out 0x80,al ; inc ebx ; dec ecx ; jnz
  code.push(back(top, code.length));
  code.push(HLT);
  return code;
}

/** Calls `f` on the `at`-th write to port 0x80 (1-based). */
function onOut(at: number, f: (e: Env) => void): (e: Env) => void {
  return (e) => {
    const out8 = e.bus.out8.bind(e.bus);
    let seen = 0;
    e.bus.out8 = (port, v) => {
      out8(port, v);
      if (port === 0x80 && ++seen === at) f(e);
    };
  };
}

describe('the run loop goes on after a boundary with nothing to deliver', () => {
  it('a port written on every pass does not leave the loop each time', () => {
    const e = runWith(true, outLoop(1000), { budget: 100_000 });
    expect(e.cpu.halted).toBe(true);
    expect(e.cpu.instructions).toBe(2 + 4 * 1000);
    expect(e.cpu.regs[3]).toBe(1000);
    // One call per OUT (1 000) before; now run() enters the loop again only after HLT's stop.
    expect(e.cpu.loopEntries).toBeLessThan(10);
  });

  it('stops at the exact budget, whatever instruction it falls on', () => {
    for (const budget of [1, 2, 3, 4, 5, 6, 7, 41, 42, 43, 1001]) {
      const e = twin(outLoop(1000), { budget });
      expect(e.cpu.instructions, `budget ${budget}`).toBe(budget);
    }
  });

  it("a device's stop request ends the run right after the port write that made it", () => {
    for (const tier of TIERS) {
      const e = runWith(tier, outLoop(100), { setup: onOut(7, (env) => env.cpu.requestStop()) });
      // mov ecx; then per pass out, inc, dec, jnz: the 7th OUT is instruction 2 + 6·4.
      expect([e.cpu.instructions, e.cpu.regs[3], e.cpu.halted], `tier ${tier}`).toEqual([26, 6, false]);
    }
    twin(outLoop(100), { setup: onOut(7, (env) => env.cpu.requestStop()) });
  });

  it('an interrupt raised by a port write is taken at the boundary after it', () => {
    // sti first; vector 0x40's gate leads to its HLT stub.
    const code = [0xfb, ...outLoop(100)];
    const e = twin(code, { setup: onOut(5, (env) => (env.bus.pendingVector = 0x40)) });
    expect(stubVector(e.cpu)).toBe(0x40);
    // sti, mov ecx, then 4 full passes and the 5th OUT: 2 + 4·4 + 1 instructions, then HLT.
    expect(e.cpu.instructions).toBe(2 + 16 + 1 + 1);
    expect(e.cpu.regs[3]).toBe(4);
    // The stacked return EIP is the instruction after that OUT (inc ebx).
    expect(e.dv.getUint32(e.cpu.regs[4], true)).toBe(CODE + 1 + 5 + 2);
  });

  it("STI's interrupt shadow holds: an interrupt pending under CLI waits one more instruction", () => {
    // mov ecx,100 ; L: cli ; out 0x80,al ; sti ; inc ebx ; dec ecx ; jnz L ; hlt — the 3rd OUT raises
    // the line while IF = 0: it is taken after STI and the INC the shadow lets through.
    const code = [0xb9, ...le(100)];
    const top = code.length;
    code.push(0xfa, 0xe6, 0x80, 0xfb, 0x43, 0x49, 0x75);
    code.push(back(top, code.length));
    code.push(HLT);
    const e = twin(code, { setup: onOut(3, (env) => (env.bus.pendingVector = 0x41)) });
    expect(stubVector(e.cpu)).toBe(0x41);
    expect(e.cpu.regs[3]).toBe(3);
    expect(e.dv.getUint32(e.cpu.regs[4], true)).toBe(CODE + 5 + 1 + 2 + 1 + 1); // dec ecx
  });

  it('single-step set by POPF inside the loop traps after the next instruction', () => {
    // mov ecx,50 ; L: out 0x80,al ; inc ebx ; cmp ebx,9 ; jne N ; pushf ; or dword [esp],0x100 ;
    // popf ; N: dec ecx ; jnz L ; hlt
    const code = [0xb9, ...le(50)];
    const top = code.length;
    code.push(0xe6, 0x80, 0x43, 0x83, 0xfb, 0x09, 0x75, 0x09);
    code.push(0x9c, 0x81, 0x0c, 0x24, ...le(0x100), 0x9d);
    code.push(0x49, 0x75);
    code.push(back(top, code.length));
    code.push(HLT);
    const e = twin(code, {});
    expect(stubVector(e.cpu)).toBe(DB);
    expect(e.cpu.ip).toBe(STUBS + DB + 1);
    expect(e.cpu.regs[3]).toBe(9);
  });
});
