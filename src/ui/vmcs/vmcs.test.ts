/**
 * The VMCS panel's data, from a real hardware-assisted run of trapdemo: the exit-reason field is
 * the reason of the last VmExit record, the fields are the CPU's own VMCS, and the controls decode
 * to their bits.
 */
import { describe, expect, it } from 'vitest';
import { F, PIN, PROC, PROC2 } from '../../cpu/vmx/fields.ts';
import { createHardwareAssistedRunner } from '../../hypervisor/hardware-assisted/runner.ts';
import { bootImage } from '../../hypervisor/trap-and-emulate/test-guests.ts';
import { TrapKind } from '../../hypervisor/vmm/trap-log.ts';
import { parseToWorker } from '../../worker/protocol.ts';
import { TrapView } from '../../worker/traps.ts';
import { parseHexAddress } from '../link-view.ts';
import { scenarioFromSearch, searchFromScenario } from '../scenario.ts';
import { decodeControl, PIN_BITS, PROC_BITS } from './controls.ts';
import { EXIT_REASONS } from './ExitReasons.tsx';
import { exitReasonText } from './VmcsPanel.tsx';

describe('VMCS panel data (hardware-assisted trapdemo)', () => {
  const runner = createHardwareAssistedRunner(
    { vms: 1, memMiB: 16, noReboot: true, paging: 'ept' },
    bootImage('trapdemo/trapdemo.elf', 16),
  );
  // Stop at VM exits, a few of them, as the UI's step-to-trap does.
  for (let i = 0; i < 40; i++) runner.run(1_000_000, true);
  const info = runner.vmInfo()[0];
  const vmcs = info.vmcs;
  const field = (key: string) => vmcs?.fields.find((f) => f.key === key);
  const log = runner.traps;
  const exits = Array.from({ length: log.count }, (_, i) => log.exportRecord(i)).filter(
    (r) => r.kind === TrapKind.VmExit,
  );

  it('reads the live VMCS of the VM', () => {
    expect(vmcs).toBeDefined();
    expect(vmcs?.launched).toBe(true);
    expect(vmcs?.current).toBe(true);
    expect(vmcs?.exits).toBeGreaterThan(1);
    const v = runner.vmm.cpu.vmx.current;
    expect(v).not.toBeNull();
    for (const f of vmcs?.fields ?? []) expect(f.value).toBe(v?.get(f.enc));
    expect(field('GUEST_RIP')?.group).toBe('guest');
    expect(field('HOST_RIP')?.group).toBe('host');
    expect(field('PIN_CTLS')?.group).toBe('execution');
    expect(field('EXIT_CTLS')?.group).toBe('exit');
    expect(field('ENTRY_CTLS')?.group).toBe('entry');
    expect(field('EXIT_QUAL')?.group).toBe('exit-info');
    expect(field('PIN_CTLS')?.name).toBe('Pin-based VM-execution controls');
    expect(field('GUEST_CS_AR')?.name).toBe('Guest CS access rights');
    expect(field('EPTP')?.width).toBe(64);
    // A second exit happened: every field carries its value at the previous exit.
    expect(field('EXIT_REASON')?.prev).toBeDefined();
  });

  it("shows the last VmExit record's reason in the exit-reason field", () => {
    expect(exits.length).toBeGreaterThan(0);
    const last = exits[exits.length - 1];
    expect((field('EXIT_REASON')?.value ?? -1) & 0xffff).toBe(last.reason);
    expect(exitReasonText(field('EXIT_REASON')?.value ?? 0)).toMatch(new RegExp(`^${last.reason} — `));
  });

  it("parses the EPT view's address box; lists exit reasons as SDM App. C numbers them", () => {
    expect(parseHexAddress('0xC0100000')).toBe(0xc0100000);
    expect(parseHexAddress(' b8000 ')).toBe(0xb8000);
    expect(parseHexAddress('0xffff_ffff')).toBe(0xffffffff);
    for (const bad of ['', '0x', 'xyz', '1_0000_0000', '-1', '12 34'])
      expect(parseHexAddress(bad)).toBeNull();
    const n = (x: number) => EXIT_REASONS.find((r) => r.n === x)?.name;
    expect([n(7), n(10), n(12), n(28), n(30), n(48), n(52)]).toEqual([
      'interrupt window',
      'CPUID',
      'HLT',
      'control-register access',
      'I/O instruction',
      'EPT violation',
      'VMX-preemption timer expired',
    ]);
  });

  it('decodes the controls bit by bit', () => {
    const pin = field('PIN_CTLS')?.value ?? 0;
    const proc = field('PROC_CTLS')?.value ?? 0;
    const proc2 = field('PROC_CTLS2')?.value ?? 0;
    expect(pin).toBe(runner.vmm.cpu.vmx.vmread(F.PIN_CTLS));
    for (const [key, v] of [
      ['PIN_CTLS', pin],
      ['PROC_CTLS', proc],
      ['PROC_CTLS2', proc2],
      ['EXIT_CTLS', field('EXIT_CTLS')?.value ?? 0],
      ['ENTRY_CTLS', field('ENTRY_CTLS')?.value ?? 0],
    ] as const) {
      const bits = decodeControl(key, v);
      for (const b of bits) expect(b.set).toBe(((v >>> b.bit) & 1) === 1);
      // Every set bit is listed (named or reserved).
      for (let bit = 0; bit < 32; bit++)
        if ((v >>> bit) & 1) expect(bits.some((b) => b.bit === bit)).toBe(true);
    }
    const named = (key: string, v: number, name: string) =>
      decodeControl(key, v).find((b) => b.name === name)?.set;
    expect(named('PIN_CTLS', pin, PIN_BITS[0])).toBe((pin & PIN.EXT_INT) !== 0);
    expect(named('PROC_CTLS', proc, 'HLT exiting')).toBe(true);
    expect(named('PROC_CTLS', proc, 'Unconditional I/O exiting')).toBe((proc & PROC.UNCOND_IO) !== 0);
    expect(named('PROC_CTLS', proc, PROC_BITS[31])).toBe((proc & PROC.SECONDARY) !== 0);
    expect(named('PROC_CTLS2', proc2, 'Enable EPT')).toBe((proc2 & PROC2.EPT) !== 0);
    expect((proc2 & PROC2.EPT) !== 0).toBe(true); // EPT paging was asked for
    // A changed bit is marked against the previous value.
    expect(decodeControl('PROC_CTLS', proc, proc ^ PROC.HLT).find((b) => b.bit === 7)?.changed).toBe(true);
  });
});

describe('exit-reason filter of the trap log (hardware-assisted trapdemo run to the end)', () => {
  it('keeps exactly the VM exits with the chosen reasons', () => {
    const runner = createHardwareAssistedRunner(
      { vms: 1, memMiB: 16, noReboot: true, paging: 'ept' },
      bootImage('trapdemo/trapdemo.elf', 16),
    );
    for (let i = 0; i < 200 && runner.run(1_000_000, false).state === 'budget'; i++);
    const log = runner.traps;
    const recs = Array.from({ length: log.count }, (_, i) => log.exportRecord(i));
    const view = new TrapView(log);
    for (const reasons of [[12], [30], [12, 10]]) {
      const want = recs.filter((r) => r.kind === TrapKind.VmExit && reasons.includes(r.reason));
      expect(want.length).toBeGreaterThan(0);
      const got = view.slice(0, 1_000_000, { exitReasons: reasons });
      expect(got.total).toBe(want.length);
      expect(Array.from(got.rows.kind)).toEqual(want.map(() => TrapKind.VmExit));
    }
    expect(view.slice(0, 10, {}).total).toBe(log.count);
  });
});

describe('the VT-x paging switch in links and load messages', () => {
  const fallback = { guestId: 'trapdemo', technique: 'native' as const, vms: 1, machine: 'pc' as const };
  it('carries shadow paging for hardware-assisted only; EPT is the default and stays out of links', () => {
    const shadow = scenarioFromSearch(
      '?guest=trapdemo&technique=hardware-assisted&vms=2&paging=shadow',
      fallback,
    );
    expect(shadow).toEqual({
      guestId: 'trapdemo',
      technique: 'hardware-assisted',
      vms: 2,
      machine: 'pc',
      paging: 'shadow',
    });
    expect(searchFromScenario(shadow)).toBe(
      '?guest=trapdemo&technique=hardware-assisted&vms=2&paging=shadow',
    );
    expect(
      scenarioFromSearch('?guest=trapdemo&technique=hardware-assisted&paging=ept', fallback).paging,
    ).toBe(undefined);
    expect(
      scenarioFromSearch('?guest=trapdemo&technique=trap-and-emulate&paging=shadow', fallback).paging,
    ).toBe(undefined);
    expect(searchFromScenario({ ...shadow, paging: 'ept' })).not.toContain('paging');
  });
  it('the worker accepts paging for hardware-assisted and refuses it elsewhere or misspelt', () => {
    const load = (technique: string, paging: unknown) =>
      parseToWorker({
        type: 'load',
        scenario: { guest: { kind: 'builtin', id: 'trapdemo' }, technique, vms: 1, paging },
      });
    const ok = load('hardware-assisted', 'shadow');
    expect(ok.ok && ok.value.type === 'load' && ok.value.scenario.paging).toBe('shadow');
    const te = load('trap-and-emulate', 'shadow');
    expect(te.ok ? '' : te.error).toMatch(/hardware-assisted only/);
    const bad = load('hardware-assisted', 'nested');
    expect(bad.ok ? '' : bad.error).toMatch(/'ept' or 'shadow'/);
  });
});
