/**
 * The Translation view's data (info.ts) from a real binary-translation run of trapdemo: each
 * unit's guest listing sits beside exactly the TC bytes the CPU executes, disassembled.
 */
import { describe, expect, it } from 'vitest';
import { disassemble } from '../../cpu/index.ts';
import { bootImage } from '../trap-and-emulate/test-guests.ts';
import { createBinaryTranslationRunner } from './runner.ts';

describe('translation info: trapdemo under binary translation', () => {
  const runner = createBinaryTranslationRunner(
    { vms: 1, memMiB: 16, noReboot: true },
    bootImage('trapdemo/trapdemo.elf', 16),
  );
  // Part way: the guest is still running, so the TC holds live units.
  runner.run(15_000, false);
  const info = runner.translationInfo(0);
  const tc = runner.technique.bt[0].tc;

  it('reports the live TC statistics', () => {
    expect(info.liveUnits).toBe(tc.units.size);
    expect(info.liveUnits).toBeGreaterThan(5);
    expect(info.tcUsed).toBe(tc.used);
    expect(info.tcUsed).toBeGreaterThan(0);
    expect(info.tcSize).toBe(1024 * 1024);
    expect(info.translated).toBeGreaterThanOrEqual(info.liveUnits);
    expect(info.exitsChained).toBeGreaterThan(0);
    expect(info.exitsChained).toBeLessThanOrEqual(info.exits);
    expect(info.units.length + info.unitsOmitted).toBeGreaterThanOrEqual(info.liveUnits);
    // The unit at the guest's EIP (if translated) is always sent.
    const eip = runner.snapshot().virtual?.eip;
    if (eip !== undefined && tc.units.has(eip)) expect(info.units.some((u) => u.guestEip === eip)).toBe(true);
  });

  it('shows each unit listing beside its TC bytes, disassembled', () => {
    let ident = 0;
    let callouts = 0;
    for (const u of info.units) {
      const unit = tc.units.get(u.guestEip);
      expect(unit).toBeDefined();
      if (!unit) continue;
      // The rows and the tail cover the unit's TC code exactly, in order.
      const shown = [...u.rows.flatMap((r) => r.tc), ...u.tail];
      const all = tc.readBytes(unit.start, unit.end - unit.start);
      expect(shown.flatMap((i) => i.bytes)).toEqual(Array.from(all));
      expect(shown[0].addr).toBe(u.tcAddr);
      for (const i of shown) {
        expect(i.text).toBe(disassemble(Uint8Array.from(i.bytes), 0, 32, i.addr).text);
      }
      expect(u.rows.map((r) => [r.eip, r.text, r.rewritten])).toEqual(
        tc.listings.rowsOf(unit).map((l) => [l.eip, l.text, l.rewritten]),
      );
      // The listing is rebuilt on demand from the guest bytes kept at translation: contiguous guest
      // code from the unit's EIP, each row the disassembly of exactly its own bytes.
      let eip = u.guestEip;
      for (const r of u.rows) {
        expect(r.eip).toBe(eip);
        expect(r.text).toBe(disassemble(Uint8Array.from(r.bytes), 0, 32, r.eip).text);
        expect(disassemble(Uint8Array.from(r.bytes), 0, 32, r.eip).length).toBe(r.bytes.length);
        eip = (eip + r.bytes.length) >>> 0;
      }
      expect(u.rows.reduce((n, r) => n + r.bytes.length, 0)).toBe(unit.guestBytes);
      for (const r of u.rows) {
        expect(r.tc.length).toBeGreaterThan(0);
        if (r.rewritten === '') {
          // IDENT: the guest's own bytes, copied unchanged, the same instruction.
          ident++;
          expect(r.tc).toHaveLength(1);
          expect(r.tc[0].bytes).toEqual(r.bytes);
          expect(r.tc[0].text).toBe(r.text);
        } else if (r.rewritten === 'callout') {
          callouts++;
          expect(r.tc[0].bytes).toEqual([0xcd, 0xbb]);
        } else {
          expect(r.tc[0].bytes).not.toEqual(r.bytes);
        }
      }
    }
    expect(ident).toBeGreaterThan(10);
    expect(callouts).toBeGreaterThan(0);
    // Callout counts come from the TC's sites: some fired, never more than the VMM counted.
    const fired = info.units.flatMap((u) => u.rows).reduce((n, r) => n + r.callouts, 0);
    expect(fired).toBeGreaterThan(0);
    expect(fired).toBeLessThanOrEqual(tc.stats.callouts);
  });
});
