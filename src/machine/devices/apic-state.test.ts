/**
 * Local APIC and I/O APIC snapshots (saveState/restoreState): a device restored at the same
 * virtual time behaves exactly as the original from then on — timer count and deadline, IRR/ISR,
 * TPR, the redirection table with Remote IRR and pin levels.
 */
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../clock.ts';
import { IOAPIC_BASE, IoApic } from './ioapic.ts';
import { LocalApic } from './lapic.ts';

function device() {
  const time = { t: 0 };
  const clock = new VirtualClock(() => time.t);
  const apic = new LocalApic(clock, { hasInterrupt: () => false, acknowledge: () => -1 });
  const io = new IoApic(apic);
  return { apic, io, clock, time };
}

/** What software can observe: current count, pending/in-service vectors, priority. */
function observe(d: ReturnType<typeof device>, steps: number): number[] {
  const seen: number[] = [];
  for (let i = 0; i < steps; i++) {
    d.time.t += 37;
    d.clock.runDue(d.time.t);
    seen.push(d.apic.read32(0x390), d.apic.ppr);
    if (d.apic.hasInterrupt()) {
      const v = d.apic.acknowledge();
      seen.push(v);
      if (i % 3 === 0) d.apic.write32(0xb0, 0); // EOI some, leave others in service
    }
  }
  return seen;
}

describe('APIC snapshots', () => {
  it('a restored local APIC and I/O APIC continue exactly as the originals', () => {
    const a = device();
    a.apic.write32(0xf0, 0x1ff); // software-enable
    a.apic.write32(0x3e0, 0x1); // divide by 4
    a.apic.write32(0x320, 0x20040); // periodic, vector 0x40
    a.apic.write32(0x380, 50);
    a.apic.write32(0x80, 0x20); // TPR
    // I/O APIC: pin 3 → vector 0x31, level-triggered; raise it (Remote IRR set on delivery).
    a.io.write8(IOAPIC_BASE, 0x10 + 6);
    for (let i = 0; i < 4; i++) a.io.write8(IOAPIC_BASE + 0x10 + i, (0x8031 >>> (8 * i)) & 0xff);
    a.io.setIrq(3, true);
    observe(a, 7);
    a.io.write8(IOAPIC_BASE + 0x10, 0x99); // a half-written register (byte 0 of 4)
    const saved = { lapic: a.apic.saveState(), ioapic: a.io.saveState() };
    expect(JSON.parse(JSON.stringify(saved))).toEqual(saved);

    const b = device();
    b.time.t = a.time.t;
    b.apic.restoreState(saved.lapic);
    b.io.restoreState(saved.ioapic);
    expect(b.apic.saveState()).toEqual(saved.lapic);
    expect(b.io.saveState()).toEqual(saved.ioapic);
    const after = observe(a, 40);
    expect(observe(b, 40)).toEqual(after);
    expect(after.filter((v) => v === 0x40).length).toBeGreaterThan(2); // the timer kept firing
    expect(b.apic.saveState()).toEqual(a.apic.saveState());
    expect(b.io.saveState()).toEqual(a.io.saveState());
  });
});
