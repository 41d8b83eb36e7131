/**
 * Guests that retire no instruction (issue 16): every event delivery takes a tick of virtual time,
 * so budgets end, timers fire and the VMM's scheduler still shares the CPU. Before, the run loops
 * waited for an instruction count that never moved, and hung.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrapKind } from '../hypervisor/vmm/trap-log.ts';
import { Session } from './session.ts';
import type { Technique } from './types.ts';

const kernel = (f: string) =>
  new Uint8Array(readFileSync(resolve(import.meta.dirname, '..', '..', 'guests', 'hostile', f)));

function storm(technique: Technique, vms = 1): Session {
  return new Session({
    guest: { kind: 'kernel', kernel: kernel('storm-ud.elf') },
    technique,
    vms,
    memMiB: 8,
    noReboot: true,
  });
}

describe('a guest whose every exception handler faults on its first instruction', () => {
  for (const technique of ['native', 'trap-and-emulate'] as const) {
    it(`${technique}: each run() ends after its budget, counting the deliveries`, () => {
      const s = storm(technique);
      s.run(20_000); // boots and starts the storm
      expect(Buffer.from(s.takeSerial(0)).toString()).toContain('storm: go');
      const ins = s.instructions;
      const ev = s.eventsDelivered;
      const t = s.virtualTimeNs;
      expect(s.run(5_000).state).toBe('running');
      expect(s.instructions).toBe(ins); // nothing retires any more…
      expect(s.eventsDelivered - ev).toBe(5_000); // …but every tick was a delivery
      expect(s.virtualTimeNs - t).toBe(5_000 * 10);
    }, 30_000);
  }

  it('trap-and-emulate: the storming VMs still share the CPU (world switches, traps in each)', () => {
    const s = storm('trap-and-emulate', 2);
    // 500k ticks = 5 ms virtual: 2.5 scheduler quanta (2 ticks of the 1 kHz physical timer).
    for (let i = 0; i < 10; i++) s.run(50_000);
    expect(s.traps.countByKind(TrapKind.WorldSwitch)).toBeGreaterThanOrEqual(2);
    for (const v of s.vmInfo()) expect(v.reflected).toBeGreaterThan(1_000);
  }, 60_000);
});

describe('memory the emulated PC cannot address', () => {
  const hello = new Uint8Array(
    readFileSync(resolve(import.meta.dirname, '..', '..', 'guests', 'hello', 'hello.elf')),
  );
  const make = (technique: Technique, vms: number, memMiB: number) => () =>
    new Session({ guest: { kind: 'kernel', kernel: hello }, technique, vms, memMiB, noReboot: true });

  it('is refused with a clear SessionError, never run with RAM at or above 2 GiB', () => {
    expect(make('native', 1, 2049)).toThrow(/memory must be a whole number of MiB from 1 to 2048, got 2049/);
    // 16 MiB for the VMM + 12 × 200 MiB = 2416 MiB: once a VM whose slice lay above 2 GiB killed
    // the whole session with "internal error" (exit 70).
    expect(make('trap-and-emulate', 12, 200)).toThrow(
      /12 VMs of 200 MiB need 2416 MiB of host memory .*at most 2048 MiB/,
    );
  });

  it('runs a VM whose slice ends exactly at 2 GiB (16 + 2 × 1016 MiB)', () => {
    const s = make('trap-and-emulate', 2, 1016)();
    let st = s.run(1_000_000);
    for (let i = 0; i < 20 && st.state === 'running'; i++) st = s.run(1_000_000);
    expect(st.state).toBe('exited');
    for (let vm = 0; vm < 2; vm++)
      expect(Buffer.from(s.takeSerial(vm)).toString()).toContain('Hello from TrapLab!');
    expect(s.vmInfo()[1].memory.some((m) => m.hostPhys + m.bytes === 2048 * 1024 * 1024)).toBe(true);
  }, 60_000);
});
