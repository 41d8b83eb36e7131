import { describe, expect, it } from 'vitest';
import { IoPortBus } from './io-bus.ts';
import { PhysicalMemory } from './memory.ts';

describe('physical memory', () => {
  it('RAM pages are direct; holes, ROM and space above RAM are not', () => {
    const m = new PhysicalMemory({ ramBytes: 4 << 20 });
    expect(m.isDirect(0)).toBe(true);
    expect(m.isDirect(0x9f)).toBe(true);
    expect(m.isDirect(0xa0)).toBe(false);
    expect(m.isDirect(0xff)).toBe(false);
    expect(m.isDirect(0x100)).toBe(true);
    expect(m.isDirect(0x3ff)).toBe(true);
    expect(m.isDirect(0x400)).toBe(false);
  });

  it('unmapped space reads as 0xFF and ignores writes', () => {
    const m = new PhysicalMemory({ ramBytes: 4 << 20 });
    for (const a of [0xa0000, 0xb8000, 0xc0000, 0xdffff, 0xf0000, 0x400000, 0xfee00000, 0xfffffff0]) {
      m.write8(a, 0x12);
      expect(m.read8(a)).toBe(0xff);
    }
    m.write8(0x1234, 0x56);
    expect(m.read8(0x1234)).toBe(0x56);
    expect(m.ram[0x1234]).toBe(0x56);
  });

  it('a BIOS maps at the top of 4 GiB with its last 128 KiB aliased below 1 MiB, read-only', () => {
    const m = new PhysicalMemory();
    const bios = new Uint8Array(256 * 1024);
    for (let i = 0; i < bios.length; i++) bios[i] = (i * 7 + (i >> 12)) & 0xff;
    bios[bios.length - 16] = 0xea; // far jmp at the reset vector
    m.mapBios(bios);
    expect(m.read8(0xfffffff0)).toBe(0xea);
    expect(m.read8(0xffff0)).toBe(0xea);
    expect(m.read8(0xfffc0000)).toBe(bios[0]);
    expect(m.read8(0xe0000)).toBe(bios[bios.length - 0x20000]);
    expect(m.read8(0xe1234)).toBe(bios[bios.length - 0x20000 + 0x1234]);
    expect(m.isDirect(0xf0)).toBe(false);
    m.write8(0xffff0, 0);
    m.write8(0xfffffff0, 0);
    expect(m.read8(0xffff0)).toBe(0xea);
    expect(m.describe(0xf0000)).toBe('rom:bios-alias');
  });

  it('a 64 KiB BIOS aliases at 0xF0000 only', () => {
    const m = new PhysicalMemory();
    const bios = new Uint8Array(0x10000).fill(0x90);
    m.mapBios(bios);
    expect(m.read8(0xf0000)).toBe(0x90);
    expect(m.read8(0xeffff)).toBe(0xff);
  });

  it('MMIO regions get the full address; overlaps and misalignment throw', () => {
    const m = new PhysicalMemory({ ramBytes: 4 << 20 });
    const log: string[] = [];
    m.mapMmio(
      0xfec00000,
      0x1000,
      { read8: (a) => a & 0xff, write8: (a, v) => log.push(`${a.toString(16)}=${v}`) },
      'ioapic',
    );
    expect(m.read8(0xfec00012)).toBe(0x12);
    m.write8(0xfec00010, 7);
    expect(log).toEqual(['fec00010=7']);
    expect(() => m.mapMmio(0x1000, 0x1000, { read8: () => 0, write8: () => {} }, 'x')).toThrow(
      /overlaps ram/,
    );
    expect(() => m.mapMmio(0xfec00800, 0x1000, { read8: () => 0, write8: () => {} }, 'y')).toThrow(/aligned/);
  });

  it('rejects bad RAM sizes and loads that do not fit', () => {
    expect(() => new PhysicalMemory({ ramBytes: 1000 })).toThrow(/RAM size/);
    const m = new PhysicalMemory({ ramBytes: 1 << 20 });
    expect(() => m.loadRam(0xffff0, new Uint8Array(32))).toThrow(/RAM ends/);
  });
});

describe('I/O bus', () => {
  it('unclaimed ports read all ones; wide reads of byte devices split low byte first', () => {
    const io = new IoPortBus();
    expect(io.in8(0x300)).toBe(0xff);
    expect(io.in16(0x300)).toBe(0xffff);
    expect(io.in32(0x300)).toBe(0xffffffff);
    const regs = [0x11, 0x22, 0x33, 0x44];
    const writes: string[] = [];
    io.register(
      0x300,
      4,
      { read8: (p) => regs[p - 0x300], write8: (p, v) => writes.push(`${p.toString(16)}:${v.toString(16)}`) },
      'dev',
    );
    expect(io.in16(0x300)).toBe(0x2211);
    expect(io.in32(0x300)).toBe(0x44332211);
    expect(io.in16(0x303)).toBe(0xff44); // second byte is unclaimed
    io.out32(0x300, 0xaabbccdd);
    expect(writes).toEqual(['300:dd', '301:cc', '302:bb', '303:aa']);
  });

  it('uses a wide handler when present and refuses double claims', () => {
    const io = new IoPortBus();
    io.register(0x500, 4, { read32: () => 0xdeadbeef, read8: () => 1 }, 'wide');
    expect(io.in32(0x500)).toBe(0xdeadbeef);
    expect(io.in16(0x500)).toBe(0x0101);
    expect(() => io.register(0x502, 1, {}, 'other')).toThrow(/already claimed by wide/);
  });
});
