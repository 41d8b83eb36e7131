// Type 1 vs Type 2 (issue 18): the same guest under the same technique, with the VMM owning the PC
// (Type 1) or reached through a host OS's driver and VMApp (Type 2, minikernel -DHOST as the host).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TrapKind } from '../hypervisor/vmm/trap-log.ts';
import { hostingRow } from './hosting-stats.ts';
import { Session } from './session.ts';
import type { Hosting, SessionConfig, Technique } from './types.ts';

const guests = join(import.meta.dirname, '../../guests');
const hostKernel = readFileSync(join(guests, 'minikernel/minikernel-host.elf'));
const trapdemo = readFileSync(join(guests, 'trapdemo/trapdemo.elf'));
const expected = readFileSync(join(guests, 'trapdemo/expected-output.txt'), 'latin1');
const dec = new TextDecoder('latin1');
const enc = new TextEncoder();

function session(kernel: Uint8Array, technique: Technique, hosting: Hosting): Session {
  const c: SessionConfig = {
    guest: { kind: 'kernel', kernel },
    technique,
    vms: 1,
    memMiB: 16,
    noReboot: true,
  };
  return new Session(hosting === 'type2' ? { ...c, hosting, hostKernel } : c);
}

/** Run to the end (or until `until` appears on the guest console), typing `hostInput` to the host. */
function drive(s: Session, opts: { until?: string; hostInput?: string; maxSlices?: number } = {}) {
  let guest = '';
  let host = '';
  let typed = opts.hostInput === undefined;
  let typedWhileGuestRan = false;
  for (let i = 0; i < (opts.maxSlices ?? 200); i++) {
    const st = s.run(250_000);
    guest += dec.decode(s.takeSerial(0));
    host += dec.decode(s.takeHostSerial());
    // Typed into the host's console once its shell prompts and the guest is under way.
    if (!typed && host.includes('host$ ') && guest.length > 0) {
      s.sendHostSerial(enc.encode(opts.hostInput));
      typed = true;
      typedWhileGuestRan = st.state === 'running' && guest.length > 0;
    }
    if (st.state !== 'running') break;
    if (opts.until && guest.includes(opts.until)) break;
  }
  return { guest, host, typedWhileGuestRan };
}

describe('Type 2 hosting: minikernel as the host OS, the VMM behind its driver', () => {
  it('runs trapdemo under trap-and-emulate with Type 1 output while the host shell answers ps; Type 2 costs more world switches per guest I/O, deterministically', () => {
    const one = session(trapdemo, 'trap-and-emulate', 'type1');
    const r1 = drive(one);
    expect(r1.guest).toBe(expected);
    expect(one.status).toMatchObject({ state: 'exited', exitCode: 1 });

    const runType2 = () => {
      const s = session(trapdemo, 'trap-and-emulate', 'type2');
      return { s, r: drive(s, { hostInput: 'ps\n' }) };
    };
    const a = runType2();
    expect(a.r.guest).toBe(expected);
    expect(a.s.status).toMatchObject({ state: 'exited', exitCode: 1 });
    // The host booted first, natively, and its shell answered while the guest was running.
    expect(a.r.host).toMatch(/^\r?\n?minikernel 1\.0/);
    expect(a.r.typedWhileGuestRan).toBe(true);
    const vmapp = a.r.host.match(
      /host\$ ps\r?\n\s+PID NAME[^\n]*\n(?:[^\n]*\n)*?\s+2 vmapp\s+\S+\s+\d+\s+\d+\s+(\d+)/,
    );
    expect(vmapp).not.toBeNull();
    expect(Number(vmapp?.[1])).toBeGreaterThan(0); // VMApp had made system calls by then
    // The hosted path's records: every guest output byte left the VMM world (a switch to the host
    // for guest output), and each switch to the host is matched by one back.
    const c = a.s.hostingCounters();
    expect(c).not.toBeNull();
    if (!c) return;
    expect(c.bytesOut).toBe(expected.length);
    expect(c.toHost).toBeGreaterThan(0);
    expect(Math.abs(c.toVmm - c.toHost)).toBeLessThanOrEqual(1);
    expect(a.s.traps.countByKind(TrapKind.HostWorldSwitch)).toBe(c.toVmm + c.toHost);
    expect(a.s.traps.countByKind(TrapKind.HostSyscall)).toBe(c.hostSyscalls);
    expect(a.s.traps.countByKind(TrapKind.HostInterrupt)).toBe(c.hostInterrupts);
    expect(c.hostInterrupts).toBeGreaterThan(0);
    // VMApp's write() calls reached the host kernel (int 0x80 with SYS_WRITE = 1 on fd 3).
    const writes = a.s.traps.filter({ kind: TrapKind.HostSyscall });
    let toGuestLine = 0;
    for (const i of writes) {
      const rec = a.s.traps.get(i);
      if (rec.reason === 1 && rec.details.type === 'other' && rec.details.values[0] === 3) toGuestLine++;
    }
    expect(toGuestLine).toBeGreaterThan(0);

    const t1 = hostingRow(one, r1.guest.length);
    const t2 = hostingRow(a.s, a.r.guest.length);
    expect(t1.guestIo).toBe(t2.guestIo);
    expect(t2.worldSwitches / t2.guestIo).toBeGreaterThan(t1.worldSwitches / t1.guestIo);
    expect(t2.modelledCycles / t2.guestIo).toBeGreaterThan(t1.modelledCycles / t1.guestIo);
    expect(t2.virtualTimeNs).toBeGreaterThan(t1.virtualTimeNs);

    // Deterministic: the same guest and the same host input give the same numbers and log.
    const b = runType2();
    expect(hostingRow(b.s, b.r.guest.length)).toEqual(t2);
    expect(b.s.hostingCounters()).toEqual(c);
    expect(b.r.host).toBe(a.r.host);
  });

  it('runs trapdemo hosted under binary translation and hardware assist with Type 1 output', () => {
    for (const t of ['binary-translation', 'hardware-assisted'] as const) {
      const s = session(trapdemo, t, 'type2');
      const r = drive(s);
      expect(r.guest, t).toBe(expected);
      expect(s.status, t).toMatchObject({ state: 'exited', exitCode: 1 });
      expect(s.traps.countByKind(TrapKind.HostWorldSwitch), t).toBeGreaterThan(0);
      // The Paging tab and the EPT address box still answer when a host OS owns the PC.
      expect(s.pageWalk(0, 0x1000), t).not.toBeNull();
      const ept = s.eptWalk(0, 0xb8000, 'guest-physical');
      if (t === 'hardware-assisted') {
        expect(ept?.final?.gpa).toBe(0xb8000);
        expect(ept?.final?.levels.length).toBe(4);
      } else expect(ept).toBeNull();
    }
  });

  it('boots minikernel hosted under binary translation, and minikernel-pv under paravirtual, to their shells', () => {
    const cases = [
      ['minikernel/minikernel.elf', 'binary-translation'],
      ['minikernel/minikernel-pv.elf', 'paravirtual'],
    ] as const;
    for (const [file, t] of cases) {
      const k = readFileSync(join(guests, file));
      const one = drive(session(k, t, 'type1'), { until: 'mini$ ' });
      const s = session(k, t, 'type2');
      const two = drive(s, { until: 'mini$ ' });
      expect(two.guest, t).toContain('mini shell, pid 1: type help');
      expect(two.guest, t).toBe(one.guest);
      // Guest input the reverse way: COM2 → VMApp read() → the driver → the VMM → the guest's UART.
      s.sendSerial(0, enc.encode('uptime\n'));
      const more = drive(s, { until: 'timer ticks' });
      expect(more.guest, t).toMatch(/up \d+\.\d\d s/);
      expect(s.hostingCounters()?.bytesIn, t).toBe(7);
    }
  });

  it('refuses what it cannot host, with a clear message', () => {
    expect(() => session(trapdemo, 'native', 'type2')).toThrow(/needs a hypervisor technique/);
    expect(
      () =>
        new Session({
          guest: { kind: 'kernel', kernel: trapdemo },
          technique: 'trap-and-emulate',
          vms: 2,
          memMiB: 16,
          noReboot: true,
          hosting: 'type2',
          hostKernel,
        }),
    ).toThrow(/one VM/);
    expect(
      () =>
        new Session({
          guest: { kind: 'kernel', kernel: trapdemo },
          technique: 'trap-and-emulate',
          vms: 1,
          memMiB: 16,
          noReboot: true,
          hosting: 'type2',
        }),
    ).toThrow(/host OS image/);
  });
});
