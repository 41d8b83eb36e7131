/**
 * Runs the self-checking protected-mode guests in guests/cputests (nasm, verified under QEMU/bochs
 * by their author) on this CPU with the minimal test harness: RAM, a COM1 collector, port 0xF4.
 * Each guest prints PASS/FAIL lines and exits with 0 when every check passed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StopReason } from './constants.ts';
import { MonitorAction } from './interrupts.ts';
import { loadElf, makeCpu, runToExit } from './test/harness.ts';

const dir = resolve(__dirname, '../../guests/cputests');
const guests = existsSync(dir)
  ? readdirSync(dir)
      // x87.elf and apic.elf need machine options (FPU + PIC, local APIC): src/machine/x87.test.ts
      // and apic.test.ts run them on the Pc.
      .filter((f) => f.endsWith('.elf') && f !== 'x87.elf' && f !== 'apic.elf')
      .sort()
  : [];

function boot(file: string, reflect = false) {
  const { cpu, bus } = makeCpu(32 << 20);
  bus.latchPorts = true;
  if (reflect) cpu.monitor = { onEvent: () => MonitorAction.Reflect };
  const entry = loadElf(bus.ram, new Uint8Array(readFileSync(resolve(dir, file))));
  cpu.enterProtectedFlat(entry, { eax: 0x2badb002, ebx: 0x9000 });
  const code = runToExit(cpu, bus, 50_000_000);
  return { cpu, bus, code };
}

describe('guests/cputests on the CPU', () => {
  it('found the guests', () => {
    expect(guests.length).toBeGreaterThan(0);
  });
  for (const g of guests.filter((f) => f !== 'triplefault.elf')) {
    it(`${g}: every check passes`, () => {
      const { bus, code } = boot(g);
      const fails = bus.serial.split(/\r?\n/).filter((l) => l.includes('FAIL'));
      expect(fails, bus.serial).toEqual([]);
      expect(bus.serial).toMatch(/PASS/);
      expect(code, bus.serial).toBe(0);
    });
  }
  // The monitor path must be transparent: reflecting every event gives the same results.
  for (const g of guests.filter((f) => f !== 'triplefault.elf')) {
    it(`${g}: identical output with a monitor that reflects every event`, () => {
      const plain = boot(g);
      const mon = boot(g, true);
      expect(mon.bus.serial).toBe(plain.bus.serial);
      expect(mon.code).toBe(plain.code);
      expect(mon.cpu.instructions).toBe(plain.cpu.instructions);
    });
  }
  if (guests.includes('triplefault.elf')) {
    it('triplefault.elf: the CPU shuts down', () => {
      const { cpu, bus, code } = boot('triplefault.elf');
      expect(bus.serial).toContain('triplefault: expecting shutdown');
      expect(bus.serial).not.toContain('FAIL');
      expect(code).toBe(-1);
      expect(cpu.run(1)).toBe(StopReason.Shutdown);
      expect(cpu.shutdownReason).toMatch(/triple fault/);
    });
  }
});
