/**
 * CF from the lazy flags (base.ts getCF) compares the operands unsigned: these pin it where the
 * signed order differs (operands on both sides of 2^31), for ADD, ADC, SUB, SBB and CMP.
 */
import { describe, expect, it } from 'vitest';
import { makeCpu } from './test/harness.ts';

const CODE = 0x1000;
const le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

/** Runs `code` from EAX = a, EBX = b with CF = cf; returns CF as getCF() computes it, and EAX. */
function cfAfter(a: number, b: number, cf: boolean, code: number[]): [number, number] {
  const { cpu, bus } = makeCpu(1 << 20);
  const setCf = cf ? 0xf9 : 0xf8; // STC / CLC
  bus.ram.set([0xb8, ...le(a), 0xbb, ...le(b), setCf, ...code, 0xf4], CODE);
  cpu.enterProtectedFlat(CODE, { esp: 0x8000 });
  cpu.run(100);
  return [cpu.getCF(), cpu.regs[0] >>> 0];
}

const ADD = [0x01, 0xd8]; // add eax, ebx
const ADC = [0x11, 0xd8]; // adc eax, ebx
const SUB = [0x29, 0xd8]; // sub eax, ebx
const SBB = [0x19, 0xd8]; // sbb eax, ebx
const CMP = [0x39, 0xd8]; // cmp eax, ebx

describe('CF from the lazy flags, unsigned across 2^31', () => {
  it('ADD: 0x7fffffff + 1 carries nothing, 0xffffffff + 1 carries', () => {
    expect(cfAfter(0x7fffffff, 1, false, ADD)).toEqual([0, 0x80000000]);
    expect(cfAfter(0xffffffff, 1, false, ADD)).toEqual([1, 0]);
    expect(cfAfter(0x80000000, 0x80000000, false, ADD)).toEqual([1, 0]);
  });

  it('ADC: the carry in decides at r = a', () => {
    expect(cfAfter(0x80000000, 0xffffffff, true, ADC)).toEqual([1, 0x80000000]);
    expect(cfAfter(0x7fffffff, 0, true, ADC)).toEqual([0, 0x80000000]);
  });

  it('SUB and CMP: 0x80000000 - 1 borrows nothing, 1 - 0x80000000 borrows', () => {
    expect(cfAfter(0x80000000, 1, false, SUB)).toEqual([0, 0x7fffffff]);
    expect(cfAfter(1, 0x80000000, false, SUB)).toEqual([1, 0x80000001]);
    expect(cfAfter(0x80000000, 1, false, CMP)).toEqual([0, 0x80000000]);
    expect(cfAfter(0x7fffffff, 0x80000000, false, CMP)).toEqual([1, 0x7fffffff]);
  });

  it('SBB: the borrow in decides at a = b', () => {
    expect(cfAfter(0x80000000, 0x80000000, true, SBB)).toEqual([1, 0xffffffff]);
    expect(cfAfter(0x80000000, 0x7fffffff, true, SBB)).toEqual([0, 0]);
  });
});
