/**
 * VMX state in CPU snapshots (vmx/state.ts): the VMX conformance guest is stopped in the middle of
 * its run — in VMX non-root operation with the preemption timer armed, with EPT on, and with a
 * monitor trap flag exit pending — its state (registers + VMX + RAM) is restored into a fresh CPU,
 * and the restored run continues exactly as the uninterrupted one: the same serial output, the
 * same VM exits, the same final state.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadElf, makeCpu, runToExit } from '../test/harness.ts';

const elf = new Uint8Array(readFileSync(join(import.meta.dirname, '../../../guests/vmx/vmx.elf')));
const MEM = 32 << 20;

function start() {
  const m = makeCpu(MEM);
  const entry = loadElf(m.bus.ram, elf);
  m.cpu.enterProtectedFlat(entry, { eax: 0x2badb002, ebx: 0x9000 });
  return m;
}

type Where = 'timer' | 'ept' | 'mtf';

describe('VMX state snapshots', () => {
  it('restored mid-run (timer armed, EPT on, MTF exit pending), each run continues exactly', () => {
    const a = start();
    const c = a.cpu;
    const at: Record<Where, () => boolean> = {
      timer: () => c.vmx.timerAt !== Number.POSITIVE_INFINITY,
      ept: () => c.eptOn,
      mtf: () => c.vmx.mtfAt !== Number.POSITIVE_INFINITY,
    };
    const snaps: { where: Where; state: ReturnType<typeof c.getState>; ram: Uint8Array; serial: number }[] =
      [];
    // Step one instruction at a time through the run and stop it at the first moment of each kind.
    for (let i = 0; i < 400_000 && snaps.length < 3 && a.bus.exitCode < 0; i++) {
      c.run(1);
      if (!c.vmxNonRoot) continue;
      for (const where of ['timer', 'mtf', 'ept'] as Where[]) {
        if (snaps.some((x) => x.where === where) || !at[where]()) continue;
        snaps.push({
          where,
          state: structuredClone(c.getState()),
          ram: a.bus.ram.slice(),
          serial: a.bus.serial.length,
        });
      }
    }
    expect(snaps.map((x) => x.where).sort()).toEqual(['ept', 'mtf', 'timer']);
    const codeA = runToExit(c, a.bus, 20_000_000);
    expect(codeA).toBe(0);
    for (const { where, state, ram, serial } of snaps) {
      // The snapshot is plain data: it survives JSON (files, links) as well.
      expect(JSON.parse(JSON.stringify(state)), where).toEqual(state);
      expect(state.vmx?.nonRoot, where).toBe(true);
      const b = makeCpu(MEM);
      b.bus.ram.set(ram);
      b.cpu.setState(state);
      const codeB = runToExit(b.cpu, b.bus, 20_000_000);
      expect(codeB, where).toBe(codeA);
      expect(b.bus.serial, where).toBe(a.bus.serial.slice(serial));
      expect(b.bus.serial, where).not.toContain('FAIL');
      expect(b.cpu.vmx.exits, where).toBe(c.vmx.exits);
      expect(b.cpu.getState(), where).toEqual(c.getState());
      expect(Buffer.compare(b.bus.ram, a.bus.ram), where).toBe(0);
    }
  });
});
