/**
 * The string instructions run as one function per family (string.ts STRING_OPS). These pin each
 * family's architectural result on the interpreter: which index registers move and by how much
 * (DF, operand size, 16-bit addressing), ECX, REPE/REPNE stops, flags, memory and port traffic.
 */
import { describe, expect, it } from 'vitest';
import { DF } from './constants.ts';
import { fastPaths } from './fastpaths.ts';
import { makeCpu } from './test/harness.ts';

const CODE = 0x1000;
const EAX = 0;
const ECX = 1;
const ESI = 6;
const EDI = 7;

function run(code: number[], regs: Record<string, number>, setup?: (ram: Uint8Array) => void) {
  const { cpu, bus } = makeCpu(1 << 22);
  bus.ram.set([...code, 0xf4], CODE);
  setup?.(bus.ram);
  cpu.enterProtectedFlat(CODE, { esp: 0x8000, ...regs });
  const blocks = fastPaths.blockCache;
  fastPaths.blockCache = false; // the interpreter alone: these are the families' own results
  try {
    cpu.run(100);
  } finally {
    fastPaths.blockCache = blocks;
  }
  return { cpu, bus, ram: bus.ram };
}

describe('string instruction families', () => {
  it('REPE CMPSB stops after the first difference, flags from that pair', () => {
    const { cpu } = run([0xf3, 0xa6], { esi: 0x20000, edi: 0x30000, ecx: 10 }, (ram) => {
      ram.set([1, 2, 3, 4], 0x20000);
      ram.set([1, 2, 9, 4], 0x30000);
    });
    expect(cpu.regs[ECX]).toBe(7);
    expect(cpu.regs[ESI]).toBe(0x20003);
    expect(cpu.regs[EDI]).toBe(0x30003);
    expect(cpu.getZF()).toBe(false);
    expect(cpu.getCF()).toBe(1); // 3 < 9
  });

  it('REPNE SCASB stops at the byte found, DF = 1 walks down', () => {
    const { cpu } = run([0xfd, 0xf2, 0xae], { eax: 0x42, edi: 0x20010, ecx: 100 }, (ram) => {
      ram[0x2000c] = 0x42;
    });
    expect(cpu.regs[ECX]).toBe(95);
    expect(cpu.regs[EDI]).toBe(0x2000b);
    expect(cpu.getZF()).toBe(true);
    expect(cpu.flags & DF).toBe(DF);
  });

  it('REPE CMPSD runs out of ECX with every dword equal', () => {
    const { cpu } = run([0xf3, 0xa7], { esi: 0x20000, edi: 0x30000, ecx: 3 }, (ram) => {
      ram.set([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 0x20000);
      ram.set([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 0x30000);
    });
    expect(cpu.regs[ECX]).toBe(0);
    expect(cpu.regs[ESI]).toBe(0x2000c);
    expect(cpu.regs[EDI]).toBe(0x3000c);
    expect(cpu.getZF()).toBe(true);
  });

  it('SCASW compares AX with the word at ES:EDI and moves EDI by 2', () => {
    const { cpu } = run([0x66, 0xaf], { eax: 0x1234, edi: 0x20000 }, (ram) => {
      ram.set([0x35, 0x12], 0x20000);
    });
    expect(cpu.regs[EDI]).toBe(0x20002);
    expect(cpu.getZF()).toBe(false);
    expect(cpu.getCF()).toBe(1); // 0x1234 < 0x1235
  });

  it('LODSD with DF = 1 loads EAX and moves ESI down by 4; REP LODSB keeps the last byte', () => {
    const one = run([0xfd, 0xad], { esi: 0x20004 }, (ram) => {
      ram.set([0x78, 0x56, 0x34, 0x12], 0x20004);
    });
    expect(one.cpu.regs[EAX]).toBe(0x12345678);
    expect(one.cpu.regs[ESI]).toBe(0x20000);
    const rep = run([0xf3, 0xac], { eax: 0xaabbccdd | 0, esi: 0x20000, ecx: 3 }, (ram) => {
      ram.set([1, 2, 3], 0x20000);
    });
    expect(rep.cpu.regs[EAX] >>> 0).toBe(0xaabbcc03);
    expect(rep.cpu.regs[ESI]).toBe(0x20003);
    expect(rep.cpu.regs[ECX]).toBe(0);
  });

  it('16-bit addressing: REP MOVSB wraps SI and DI at 64 KiB and counts CX, leaving the high halves', () => {
    const { cpu, ram } = run(
      [0x67, 0xf3, 0xa4],
      { esi: 0x7777fffe, edi: 0x5555fffd, ecx: 0x12340004 },
      (r) => {
        r.set([0xa1, 0xa2], 0xfffe);
        r.set([0xa3, 0xa4], 0x0000);
      },
    );
    expect([...ram.subarray(0xfffd, 0x10000)]).toEqual([0xa1, 0xa2, 0xa3]);
    expect(ram[0]).toBe(0xa4);
    expect(cpu.regs[ESI] >>> 0).toBe(0x77770002);
    expect(cpu.regs[EDI] >>> 0).toBe(0x55550001);
    expect(cpu.regs[ECX] >>> 0).toBe(0x12340000);
  });

  it('STOSW (no REP) stores AX and moves EDI by 2 only', () => {
    const { cpu, ram } = run([0x66, 0xab], { eax: 0xbeef, edi: 0x20001, ecx: 9 });
    expect([...ram.subarray(0x20001, 0x20003)]).toEqual([0xef, 0xbe]);
    expect(cpu.regs[EDI]).toBe(0x20003);
    expect(cpu.regs[ECX]).toBe(9);
  });

  it('REP OUTSB writes each byte to DX and moves ESI; REP INSW reads DX into ES:EDI', () => {
    const out = run([0xf3, 0x6e], { edx: 0x3f8, esi: 0x20000, ecx: 3 }, (ram) => {
      ram.set([0x68, 0x69, 0x21], 0x20000);
    });
    expect(out.bus.serial).toBe('hi!');
    expect(out.cpu.regs[ESI]).toBe(0x20003);
    expect(out.cpu.regs[ECX]).toBe(0);
    const inp = run([0x66, 0xf3, 0x6d], { edx: 0x1234, edi: 0x20000, ecx: 2 });
    expect([...inp.ram.subarray(0x20000, 0x20005)]).toEqual([0xff, 0xff, 0xff, 0xff, 0]);
    expect(inp.cpu.regs[EDI]).toBe(0x20004);
    expect(inp.cpu.regs[ECX]).toBe(0);
  });
});
