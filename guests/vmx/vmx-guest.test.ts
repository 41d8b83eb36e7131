/**
 * The VMX conformance guest (guests/vmx/vmx.asm, expected values justified by SDM Vol. 3C sections
 * in its source) on TrapLab's CPU with the minimal test harness: every check passes, and the
 * guest's own VMM really ran its guest in non-root operation (exits counted by the CPU).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadElf, makeCpu, runToExit } from '../../src/cpu/test/harness.ts';

describe('guests/vmx: VMX conformance from guest machine code', () => {
  it('passes every check and exits with 0', () => {
    const { cpu, bus } = makeCpu(32 << 20);
    const entry = loadElf(bus.ram, new Uint8Array(readFileSync(join(import.meta.dirname, 'vmx.elf'))));
    cpu.enterProtectedFlat(entry, { eax: 0x2badb002, ebx: 0x9000 });
    const code = runToExit(cpu, bus, 20_000_000);
    const lines = bus.serial.split(/\r?\n/);
    expect(
      lines.filter((l) => l.includes('FAIL')),
      bus.serial,
    ).toEqual([]);
    expect(lines.filter((l) => l.startsWith('PASS')).length).toBeGreaterThanOrEqual(110);
    expect(bus.serial).toContain('PASS hlt with hlt exiting: reason 12');
    // The monitor trap flag (SDM 25.5.2) and EPT execute permission (SDM 28.2.3.2) sections ran.
    expect(bus.serial).toContain('PASS mtf: exit after one guest instruction, reason 37');
    expect(bus.serial).toContain('PASS mtf after hlt (hlt exiting off): reason 37');
    // MTF and REP (SDM 25.5.2): an exit after each iteration, the instruction not yet complete.
    expect(bus.serial).toContain('PASS mtf with rep stosb: an exit after each iteration, reason 37');
    expect(bus.serial).toContain('PASS   guest rip = the rep stosb: the instruction is not complete');
    expect(bus.serial).toContain('PASS   three bytes stored, the fourth untouched');
    expect(bus.serial).toContain('PASS fetch from a non-executable ept page: reason 48');
    expect(bus.serial).toContain('PASS read of an execute-only ept page: reason 48');
    expect(code, bus.serial).toBe(0);
    // VM exits (entry failure, cpuid, out, mov cr3, vmcall, ud2, hlt, injection, timer, EPT ×4).
    expect(cpu.vmx.exits).toBeGreaterThanOrEqual(13);
    expect(cpu.vmxNonRoot).toBe(false);
  });
});
