/** Instruction groups in 32-bit protected mode: architectural results and flags. */
import { describe, expect, it } from 'vitest';
import { CF, OF, ZF } from './constants.ts';
import { CODE, DATA, pmEnv, stubVector } from './test/env.ts';
import { makeCpu } from './test/harness.ts';

const le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const movEax = (v: number) => [0xb8, ...le(v)];
const movEcx = (v: number) => [0xb9, ...le(v)];
const movEdx = (v: number) => [0xba, ...le(v)];
const movEbx = (v: number) => [0xbb, ...le(v)];

function run(code: number[], setup?: (dv: DataView) => void) {
  const env = pmEnv([...code, 0xf4]);
  setup?.(env.dv);
  env.cpu.run(1000);
  return env;
}
const u = (v: number) => v >>> 0;

describe('multiply and divide', () => {
  it('MUL r32: 64-bit product, CF=OF=1 when EDX≠0', () => {
    const { cpu } = run([...movEax(0xffffffff), ...movEcx(0xffffffff), 0xf7, 0xe1]);
    expect([u(cpu.regs[0]), u(cpu.regs[2])]).toEqual([1, 0xfffffffe]);
    expect(cpu.getEflags() & (CF | OF)).toBe(CF | OF);
  });
  it('IMUL r32 one-operand and two-operand forms', () => {
    const { cpu } = run([...movEax(-2), ...movEcx(3), 0xf7, 0xe9, ...movEbx(-5), 0x0f, 0xaf, 0xd9]);
    expect([cpu.regs[0], cpu.regs[2]]).toEqual([-6, -1]);
    expect(cpu.regs[3]).toBe(-15);
    expect(cpu.getEflags() & (CF | OF)).toBe(0);
  });
  it('DIV and IDIV r32 with a 64-bit dividend', () => {
    const a = run([...movEdx(1), ...movEax(0), ...movEcx(2), 0xf7, 0xf1]);
    expect([u(a.cpu.regs[0]), a.cpu.regs[2]]).toEqual([0x80000000, 0]);
    const b = run([...movEdx(-1), ...movEax(-7), ...movEcx(2), 0xf7, 0xf9]);
    expect([b.cpu.regs[0], b.cpu.regs[2]]).toEqual([-3, -1]);
  });
  it('DIV overflow is #DE with EIP at the DIV (a fault)', () => {
    const { cpu, dv } = run([...movEdx(2), ...movEax(0), ...movEcx(2), 0xf7, 0xf1]);
    expect(stubVector(cpu)).toBe(0);
    expect(dv.getUint32(0x8000 - 12, true)).toBe(CODE + 15);
  });
});

describe('bit operations and exchanges', () => {
  it('BSF/BSR/BSWAP', () => {
    const { cpu } = run([
      ...movEax(0xf0),
      0x0f,
      0xbc,
      0xc8,
      0x0f,
      0xbd,
      0xd0,
      ...movEbx(0x12345678),
      0x0f,
      0xcb,
    ]);
    expect([cpu.regs[1], cpu.regs[2], u(cpu.regs[3])]).toEqual([4, 7, 0x78563412]);
  });
  it('BTS with a register bit offset addresses beyond the operand (bit string)', () => {
    const { cpu, dv } = run([...movEcx(35), 0x0f, 0xab, 0x0d, ...le(DATA)]);
    expect(dv.getUint32(DATA + 4, true)).toBe(8);
    expect(cpu.getEflags() & CF).toBe(0);
  });
  it('XADD, CMPXCHG, CMPXCHG8B', () => {
    const a = run([...movEax(1), ...movEcx(2), 0x0f, 0xc1, 0xc8]);
    expect([a.cpu.regs[0], a.cpu.regs[1]]).toEqual([3, 1]);
    const b = run(
      [...movEax(1), ...movEdx(2), ...movEbx(5), ...movEcx(6), 0x0f, 0xc7, 0x0d, ...le(DATA)],
      (dv) => {
        dv.setUint32(DATA, 1, true);
        dv.setUint32(DATA + 4, 2, true);
      },
    );
    expect([b.dv.getUint32(DATA, true), b.dv.getUint32(DATA + 4, true)]).toEqual([5, 6]);
    expect(b.cpu.getEflags() & ZF).toBe(ZF);
    const c = run([...movEax(9), ...movEcx(7), 0x0f, 0xb1, 0x0d, ...le(DATA)], (dv) =>
      dv.setUint32(DATA, 4, true),
    );
    expect(c.cpu.regs[0]).toBe(4); // mismatch: accumulator loaded
    expect(c.dv.getUint32(DATA, true)).toBe(4);
  });
  it('SHLD/SHRD', () => {
    const { cpu } = run([
      ...movEax(0x12345678),
      ...movEcx(0x9abcdef0),
      0x0f,
      0xa4,
      0xc8,
      0x04,
      ...movEdx(0x12345678),
      0x0f,
      0xac,
      0xca,
      0x08,
    ]);
    expect(u(cpu.regs[0])).toBe(0x23456789);
    expect(u(cpu.regs[2])).toBe(0xf0123456);
  });
  it('SETcc and CMOVcc follow the flags', () => {
    const { cpu } = run([...movEdx(42), 0x39, 0xc0, 0x0f, 0x44, 0xca, 0x0f, 0x94, 0xc3, 0x0f, 0x45, 0xc2]);
    expect(cpu.regs[1]).toBe(42);
    expect(cpu.regs[3] & 0xff).toBe(1);
    expect(cpu.regs[0]).toBe(0); // CMOVNZ not taken
  });
});

describe('strings, stack frames, misc', () => {
  it('REP MOVSD copies ECX dwords and leaves ECX = 0', () => {
    const { cpu, dv } = run([0xbe, ...le(DATA), 0xbf, ...le(DATA + 0x100), ...movEcx(4), 0xf3, 0xa5], (d) => {
      for (let i = 0; i < 4; i++) d.setUint32(DATA + i * 4, 0x1111 * (i + 1), true);
    });
    expect([0, 1, 2, 3].map((i) => dv.getUint32(DATA + 0x100 + i * 4, true))).toEqual([
      0x1111, 0x2222, 0x3333, 0x4444,
    ]);
    expect(cpu.regs[1]).toBe(0);
    expect(u(cpu.regs[7])).toBe(DATA + 0x110);
  });
  it('ENTER/LEAVE build and drop a frame', () => {
    const { cpu } = run([0xc8, 0x10, 0x00, 0x00, 0x89, 0xe8 + 0, 0xc9]);
    expect(cpu.regs[4]).toBe(0x8000);
  });
  it('CPUID reports GenuineIntel, family 5, no FPU, PSE/TSC/MSR/CX8/SEP/PGE/CMOV; RDTSC counts instructions', () => {
    const { cpu } = run([...movEax(1), 0x0f, 0xa2]);
    expect(cpu.regs[0]).toBe(0x521);
    expect(cpu.regs[2] & 1).toBe(0);
    expect(u(cpu.regs[2])).toBe(0x8 | 0x10 | 0x20 | 0x100 | 0x800 | 0x2000 | 0x8000);
    const t = run([0x90, 0x90, 0x0f, 0x31]);
    expect(t.cpu.regs[0]).toBe(2);
  });
});

describe('real mode', () => {
  it('INT n through the IVT and IRET back', () => {
    const { cpu, bus } = makeCpu(1 << 20);
    // IVT[0x21] = 0000:0600; handler: mov al, 0x55; iret. Main at 0000:0500: int 21h; hlt.
    bus.ram.set([0x00, 0x06, 0x00, 0x00], 0x21 * 4);
    bus.ram.set([0xb0, 0x55, 0xcf], 0x600);
    bus.ram.set([0xcd, 0x21, 0xf4], 0x500);
    cpu.enterReal(0, 0x500, { esp: 0x7000 });
    cpu.run(10);
    expect(cpu.regs[0] & 0xff).toBe(0x55);
    expect(cpu.ip).toBe(0x503);
    expect(cpu.regs[4]).toBe(0x7000);
  });
  it('A20 masking wraps addresses at 1 MiB when disabled', () => {
    const { cpu, bus } = makeCpu(2 << 20);
    bus.ram[0x100000] = 0x11;
    bus.ram[0x0] = 0x22;
    // mov ax, 0xffff; mov ds, ax; mov al, [0x10]; hlt
    bus.ram.set([0xb8, 0xff, 0xff, 0x8e, 0xd8, 0xa0, 0x10, 0x00, 0xf4], 0x500);
    cpu.enterReal(0, 0x500);
    cpu.run(10);
    expect(cpu.regs[0] & 0xff).toBe(0x11);
    cpu.setA20(false);
    cpu.enterReal(0, 0x500);
    cpu.run(10);
    expect(cpu.regs[0] & 0xff).toBe(0x22);
  });
});

describe('restartable read-modify-write', () => {
  it('ADC to a read-only page faults before CF changes, so the retried ADC is exact', () => {
    // stc; adc dword [DATA], 1 — DATA is read-only at CPL 3: #PF (P|W|U) with CF still set.
    const env = pmEnv([0xf9, 0x83, 0x15, ...le(DATA), 0x01, 0xcd, 0x80], { cpl: 3, paging: true });
    env.dv.setUint32(0x11000 + (DATA >>> 12) * 4, DATA | 5, true);
    env.dv.setUint32(DATA, 0xffffffff, true);
    env.cpu.run(100);
    expect(stubVector(env.cpu)).toBe(14);
    const frame = 0x9000 - 24;
    expect(env.dv.getUint32(frame, true)).toBe(7);
    expect(env.dv.getUint32(frame + 4, true)).toBe(CODE + 1);
    expect(env.dv.getUint32(frame + 12, true) & CF).toBe(CF); // EFLAGS image: CF untouched
    expect(env.dv.getUint32(DATA, true)).toBe(0xffffffff);
  });
});
