/**
 * Robin & Irvine's sensitive-but-unprivileged instructions (reference/virtualization.md §2): at
 * CPL 3 they execute without trapping yet reveal or depend on privileged state.
 */
import { describe, expect, it } from 'vitest';
import { ZF } from './constants.ts';
import { GDT, IDT, pmEnv, stubVector } from './test/env.ts';

const INT80 = [0xcd, 0x80];

describe('sensitive unprivileged instructions at CPL 3', () => {
  it('SGDT/SIDT/SMSW/STR/SLDT do not trap and reveal the real values', () => {
    // sgdt [0x30000]; sidt [0x30008]; smsw eax; str ebx; sldt ecx; int 0x80
    const { cpu, dv } = pmEnv(
      [
        0x0f,
        0x01,
        0x05,
        0x00,
        0x00,
        0x03,
        0x00,
        0x0f,
        0x01,
        0x0d,
        0x08,
        0x00,
        0x03,
        0x00,
        0x0f,
        0x01,
        0xe0,
        0x0f,
        0x00,
        0xcb,
        0x0f,
        0x00,
        0xc1,
        ...INT80,
      ],
      { cpl: 3 },
    );
    cpu.run(100);
    expect(stubVector(cpu)).toBe(0x80);
    expect(dv.getUint16(0x30000, true)).toBe(0x37);
    expect(dv.getUint32(0x30002, true)).toBe(GDT);
    expect(dv.getUint32(0x3000a, true)).toBe(IDT);
    expect(cpu.regs[0] & 1).toBe(1); // PE visible through SMSW
    expect(cpu.regs[3] & 0xffff).toBe(0x28); // TR selector
  });

  it('PUSH CS / MOV r, CS expose the CPL', () => {
    const { cpu } = pmEnv([0x0e, 0x58, 0x8c, 0xcb, ...INT80], { cpl: 3 }); // push cs; pop eax; mov ebx, cs
    cpu.run(100);
    expect(cpu.regs[0] & 3).toBe(3);
    expect(cpu.regs[3] & 3).toBe(3);
  });

  it('VERW/VERR/LAR/LSL answer by privilege: a DPL 0 selector looks invalid from CPL 3', () => {
    // mov ax, 0x10 (DPL0 data); verw ax → ZF=0 at CPL3; lar ecx, eax → ZF=0
    const code = [0x66, 0xb8, 0x10, 0x00, 0x0f, 0x00, 0xe8, 0x9c, 0x5b, ...INT80];
    const u = pmEnv(code, { cpl: 3 });
    u.cpu.run(100);
    expect(u.cpu.regs[3] & ZF).toBe(0);
    const k = pmEnv([0x66, 0xb8, 0x10, 0x00, 0x0f, 0x00, 0xe8, 0x9c, 0x5b, 0xf4]);
    k.cpu.run(100);
    expect(k.cpu.regs[3] & ZF).toBe(ZF);
    // LSL/LAR on the DPL3 data selector 0x23 from CPL 3: limit and access rights.
    const l = pmEnv([0xb8, 0x23, 0, 0, 0, 0x0f, 0x03, 0xc8, 0x0f, 0x02, 0xd0, ...INT80], { cpl: 3 });
    l.cpu.run(100);
    expect(l.cpu.regs[1] >>> 0).toBe(0xffffffff);
    expect(l.cpu.regs[2] >>> 0).toBe(0xc0f200); // LAR masks with 00FxFF00h: limit bits 19:16 read as 0
  });

  it('MOV SS with an RPL 0 selector at CPL 3 is #GP(selector)', () => {
    const { cpu, dv } = pmEnv([0x66, 0xb8, 0x10, 0x00, 0x8e, 0xd0, ...INT80], { cpl: 3 });
    cpu.run(100);
    expect(stubVector(cpu)).toBe(13);
    expect(dv.getUint32(0x9000 - 24, true)).toBe(0x10);
  });
});
