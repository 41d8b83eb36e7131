/**
 * The local APIC machine option (devices/lapic.ts): the self-checking cpu-apic guest passes on a
 * Pc with an APIC (and under bochs 2.7), the default PC has none, and the timer runs exactly in
 * virtual time (one count per tick ÷ the divide configuration), with TPR masking, priority order
 * and EOI checked on the device alone.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resetTier, setTier, TIERS } from '../cpu/test/tiers.ts';
import { VirtualClock } from './clock.ts';
import { IOAPIC_BASE, IoApic } from './devices/ioapic.ts';
import { LocalApic } from './devices/lapic.ts';
import { loadMultiboot } from './loaders/multiboot.ts';
import { Pc } from './pc.ts';

const elf = new Uint8Array(readFileSync(resolve(__dirname, '../../guests/cputests/apic.elf')));

function boot(apic: boolean) {
  const pc = new Pc({ apic, noReboot: true });
  pc.load(loadMultiboot(elf, { ramBytes: pc.memory.ramBytes }));
  let out = '';
  pc.serialOut[0].listener = (b) => {
    out += String.fromCharCode(b);
  };
  let r = pc.runSlice(1_000_000);
  while (r.state === 'running' && pc.instructions < 20_000_000) r = pc.runSlice(1_000_000);
  return { out, r };
}

/** A LocalApic on a clock we move by hand, with a PIC that never interrupts. */
function device() {
  let t = 0;
  const clock = new VirtualClock(() => t);
  const apic = new LocalApic(clock, { hasInterrupt: () => false, acknowledge: () => -1 });
  apic.write32(0xf0, 0x1ff);
  return {
    apic,
    clock,
    advance(n: number) {
      t += n;
      clock.runDue();
    },
  };
}

describe('the local APIC machine option', () => {
  it('cpu-apic passes every check on a Pc with an APIC', () => {
    const { out, r } = boot(true);
    expect(
      out.split(/\r?\n/).filter((l) => l.startsWith('FAIL')),
      out,
    ).toEqual([]);
    expect(out).toMatch(/DONE checks=23 failed=0/);
    expect(r.exitCode).toBe(1); // 0 written to port 0xF4
  });
  it('the default PC has no APIC (CPUID says so, MSR 1Bh faults)', () => {
    const { out } = boot(false);
    expect(out).toContain('FAIL cpuid.1: EDX.APIC: expected 00000001 got 00000000');
    expect(out).toMatch(/FAIL unexpected exception vector=0000000D/);
  });
  it('periodic timer: one interrupt every initial × divide ticks, no drift', () => {
    const { apic, advance } = device();
    apic.write32(0x3e0, 0x1); // divide by 4
    apic.write32(0x320, 0x20050); // periodic, vector 50h
    apic.write32(0x380, 1000);
    const at: number[] = [];
    for (let tick = 0; tick < 20_000; tick += 100) {
      advance(100);
      if (apic.hasInterrupt()) {
        expect(apic.acknowledge()).toBe(0x50);
        apic.write32(0xb0, 0);
        at.push(tick + 100);
      }
    }
    expect(at).toEqual([4000, 8000, 12000, 16000, 20000]);
    apic.write32(0x380, 0);
    advance(8000);
    expect(apic.hasInterrupt()).toBe(false);
  });
  it('one-shot timer: the current count falls one per divided tick and stops at 0', () => {
    const { apic, advance } = device();
    apic.write32(0x3e0, 0xb); // divide by 1
    apic.write32(0x320, 0x50);
    apic.write32(0x380, 500);
    advance(120);
    expect(apic.read32(0x390)).toBe(380);
    advance(380);
    expect(apic.read32(0x390)).toBe(0);
    expect(apic.acknowledge()).toBe(0x50);
    apic.write32(0xb0, 0);
    advance(10_000);
    expect(apic.hasInterrupt()).toBe(false);
  });
  it('a machine reset returns the APIC to its power-up state', () => {
    const { apic, advance } = device();
    apic.write32(0x320, 0x20050);
    apic.write32(0x380, 100);
    apic.write32(0x300, 0x40040);
    apic.reset();
    expect([apic.read32(0xf0), apic.read32(0x320), apic.read32(0x380), apic.read32(0x200 + 0x20)]).toEqual([
      0xff, 0x10000, 0, 0,
    ]);
    advance(1000);
    expect(apic.hasInterrupt()).toBe(false);
  });
  it('I/O APIC: edge entries send on a rising edge; level entries wait for the EOI (Remote IRR)', () => {
    const { apic } = device();
    const io = new IoApic(apic);
    const route = (pin: number, lo: number) => {
      io.write8(IOAPIC_BASE, 0x10 + 2 * pin);
      for (let k = 0; k < 4; k++) io.write8(IOAPIC_BASE + 0x10 + k, (lo >>> (8 * k)) & 0xff);
    };
    route(2, 0x70); // edge, vector 70h
    io.setIrq(0, true); // IRQ 0 is wired to pin 2
    expect(apic.acknowledge()).toBe(0x70);
    apic.write32(0xb0, 0);
    io.setIrq(0, true); // no new edge
    expect(apic.hasInterrupt()).toBe(false);
    route(9, 0x8071); // level, vector 71h
    io.setIrq(9, true);
    expect(apic.acknowledge()).toBe(0x71);
    io.setIrq(9, true);
    expect(apic.hasInterrupt()).toBe(false); // Remote IRR holds it
    apic.write32(0xb0, 0); // EOI: still asserted, so it is sent again
    expect(apic.acknowledge()).toBe(0x71);
    io.setIrq(9, false);
    apic.write32(0xb0, 0);
    expect(apic.hasInterrupt()).toBe(false);
  });
  it('TPR holds back lower classes; higher vectors first; EOI ends the highest in service', () => {
    const { apic } = device();
    apic.write32(0x80, 0x50);
    apic.write32(0x300, 0x40040); // self-IPI 40h
    expect(apic.hasInterrupt()).toBe(false);
    apic.write32(0x300, 0x40061);
    expect(apic.acknowledge()).toBe(0x61);
    expect(apic.read32(0xa0)).toBe(0x60); // PPR: the in-service class
    apic.write32(0x80, 0);
    expect(apic.hasInterrupt()).toBe(false); // 40h < class 6 in service
    apic.write32(0xb0, 0);
    expect(apic.acknowledge()).toBe(0x40);
    apic.write32(0xb0, 0);
    expect(apic.read32(0x100 + 0x20)).toBe(0);
  });
});

describe('apic.elf on every CPU tier', () => {
  it('interpreter, pre-decoded blocks and the second tier give the same output and count', () => {
    const runs = TIERS.map((t) => {
      setTier(t);
      try {
        const pc = new Pc({ apic: true, noReboot: true });
        pc.load(loadMultiboot(elf, { ramBytes: pc.memory.ramBytes }));
        let out = '';
        pc.serialOut[0].listener = (b) => {
          out += String.fromCharCode(b);
        };
        let r = pc.runSlice(1_000_000);
        while (r.state === 'running' && pc.instructions < 20_000_000) r = pc.runSlice(1_000_000);
        return { out, exit: r.exitCode, instructions: pc.instructions };
      } finally {
        resetTier();
      }
    });
    expect(runs[0].out).toMatch(/failed=0/);
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });
});
