import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadElf, makeCpu, runToExit } from './test/harness.ts';

describe('hello guest', () => {
  it('boots guests/hello/hello.elf in flat protected mode and exits through port 0xF4', () => {
    const { cpu, bus } = makeCpu();
    const elf = readFileSync(resolve(__dirname, '../../guests/hello/hello.elf'));
    const entry = loadElf(bus.ram, new Uint8Array(elf));
    cpu.enterProtectedFlat(entry, { eax: 0x2badb002, ebx: 0x9000 });
    const code = runToExit(cpu, bus, 1_000_000);
    expect(bus.serial).toBe('Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n');
    expect(code).toBe(0);
    expect(cpu.instructions).toBeGreaterThan(100);
  });
});
