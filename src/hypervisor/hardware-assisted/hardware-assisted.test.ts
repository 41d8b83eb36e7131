/**
 * The hardware-assisted technique on the teaching guests: byte-identical consoles against the
 * native machine (EPT and shadow paging), the exits the VMCS controls ask for (and only those),
 * four VMs on one CPU, and a trap log that does not depend on how the host slices time.
 */
import { describe, expect, it } from 'vitest';
import { F } from '../../cpu/vmx/fields.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { bootImage, runNative } from '../trap-and-emulate/test-guests.ts';
import type { HvRunnerResult } from '../vmm/runner.ts';
import { TrapKind } from '../vmm/trap-log.ts';
import { createHardwareAssistedRunner, type HardwareAssistedRunner } from './runner.ts';

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

function runVtx(
  boot: BootImage,
  o: { vms?: number; memMiB: number; paging?: 'ept' | 'shadow'; slice?: number; maxTicks?: number },
): { runner: HardwareAssistedRunner; outs: string[]; result: HvRunnerResult } {
  const runner = createHardwareAssistedRunner(
    { vms: o.vms ?? 1, memMiB: o.memMiB, noReboot: true, paging: o.paging ?? 'ept' },
    boot,
  );
  const outs = Array.from({ length: runner.vmCount }, () => '');
  const slice = o.slice ?? 1_000_000;
  let result: HvRunnerResult = { state: 'budget' };
  for (let t = 0; t < (o.maxTicks ?? 100_000_000); t += slice) {
    result = runner.run(slice, false);
    for (let i = 0; i < outs.length; i++) outs[i] += text(runner.takeSerial(i));
    if (result.state !== 'budget') break;
  }
  return { runner, outs, result };
}

/** Every record the log holds, with its disassembly. */
function allRecords(runner: HardwareAssistedRunner) {
  const log = runner.traps;
  return Array.from({ length: log.count }, (_, i) => log.exportRecord(i));
}

describe('hardware-assisted (VT-x): trapdemo', () => {
  const boot = bootImage('trapdemo/trapdemo.elf', 16);
  const native = runNative(boot, 16);

  it.each(['ept', 'shadow'] as const)('prints byte-identical output with %s paging', (paging) => {
    const { runner, outs, result } = runVtx(bootImage('trapdemo/trapdemo.elf', 16), { memMiB: 16, paging });
    expect(result.state).toBe('exited');
    expect(outs[0]).toBe(native.out);
    expect(outs[0]).toContain('[trapdemo] done');
    const recs = allRecords(runner);
    const exits = recs.filter((r) => r.kind === TrapKind.VmExit);
    // The guest ran at real ring 0: privileged instructions (LGDT, CLI, MOV CR0…) did not exit;
    // I/O and HLT did, because the VMCS asks for them (unconditional I/O exiting, HLT exiting).
    const reasons = new Set(exits.map((r) => r.reason));
    expect(reasons.has(30)).toBe(true);
    expect(reasons.has(12)).toBe(true);
    const out = exits.find((r) => r.reason === 30 && r.disasm === 'out dx, al');
    expect(out?.details.type).toBe('vmexit');
    if (out?.details.type === 'vmexit') {
      // Qualification (SDM Table 27-5): size − 1 = 0, OUT (bit 3 clear), DX operand, port in 31:16.
      expect(out.details.qualification & 0xf).toBe(0);
      expect(out.details.qualification & 0x40).toBe(0);
      expect(out.details.instructionLength).toBe(1);
      expect(out.details.summary).toMatch(/^OUT 1 byte to port 0x[0-9A-F]{4} \(port in DX\), value 0x/);
    }
    if (paging === 'ept') {
      // Nothing about paging exits with EPT: no CR3, no #PF, no INVLPG exits.
      expect(reasons.has(28)).toBe(false);
      expect(reasons.has(0)).toBe(false);
      expect(reasons.has(14)).toBe(false);
    } else {
      // First-generation VT-x: CR3 loads (qualification CR 3, MOV to CR), #PF and INVLPG exit.
      const cr3 = exits.filter(
        (r) => r.reason === 28 && r.details.type === 'vmexit' && (r.details.qualification & 0x3f) === 3,
      );
      expect(cr3.length).toBeGreaterThanOrEqual(2);
      expect(exits.some((r) => r.reason === 0 && r.actionName === 'filled a shadow entry')).toBe(true);
      expect(exits.some((r) => r.reason === 0 && r.actionName === 'reflected to the guest')).toBe(true);
      expect(reasons.has(14)).toBe(true);
    }
    // Interrupts went in by VM-entry event injection.
    expect(recs.filter((r) => r.kind === TrapKind.Interrupt).length).toBe(3);
  });

  it('runs four VMs, each console identical to native, with world switches between VMCSs', () => {
    const { runner, outs, result } = runVtx(bootImage('trapdemo/trapdemo.elf', 8), { vms: 4, memMiB: 8 });
    expect(result.state).toBe('exited');
    const nat = runNative(bootImage('trapdemo/trapdemo.elf', 8), 8);
    for (const o of outs) expect(o).toBe(nat.out);
    const recs = allRecords(runner);
    expect(recs.filter((r) => r.kind === TrapKind.WorldSwitch).length).toBeGreaterThan(3);
    for (let vm = 0; vm < 4; vm++)
      expect(recs.some((r) => r.vm === vm && r.kind === TrapKind.VmExit)).toBe(true);
  });

  it('writes the same trap log whatever the host slice size', () => {
    const logs = [10_000_000, 7_777].map((slice) => {
      const { runner } = runVtx(bootImage('trapdemo/trapdemo.elf', 8), { vms: 2, memMiB: 8, slice });
      let s = '';
      runner.traps.writeJsonLines((c) => {
        s += c;
      });
      return s;
    });
    expect(logs[0].length).toBeGreaterThan(1000);
    expect(logs[1]).toBe(logs[0]);
  });

  it("computes the EPT view's 2-D walk from live state, as the VMM's own guest walk and map agree", () => {
    const runner = createHardwareAssistedRunner(
      { vms: 1, memMiB: 64, noReboot: true, paging: 'ept' },
      bootImage('minikernel/minikernel.elf', 64),
    );
    const vm = runner.vmm.vms[0];
    let walks = 0;
    let pagingSeen = false;
    for (let i = 0; i < 40 && runner.run(50_000, false).state === 'budget'; i++) {
      const w = runner.vmcsInfo(0)?.walk;
      if (!w || w.final === null || w.linear === null) continue;
      walks++;
      // Four EPT levels for a 4 KiB page (3 for a 2 MiB one), ending in the VM's slice.
      expect(w.final.levels[0].name).toBe('PML4E');
      expect(w.final.levels.at(-1)?.leaf).toBe(true);
      expect(w.final.hpa).toBe(vm.map.toHost(w.final.gpa));
      // The guest's own walk (PDE, PTE with paging on) reaches the guest-physical address the
      // VMM's guest-memory walker finds for the same linear address.
      expect(w.guest.length).toBe(w.paging ? (w.guest[0].value & 0x80 ? 1 : 2) : 0);
      expect(vm.mem.peek(w.linear)).toBe(w.final.gpa);
      if (w.paging) pagingSeen = true;
    }
    expect(walks).toBeGreaterThan(5);
    expect(pagingSeen).toBe(true);

    // The address box: any guest-linear address (the guest's walk, each step through the EPT) …
    const pc = runner.vmcsInfo(0)?.walk?.linear ?? 0;
    const lin = runner.eptWalk(0, pc, 'linear');
    expect(lin?.source).toBe('your guest-linear address');
    expect(lin?.paging).toBe(true);
    expect(lin?.final?.gpa).toBe(vm.mem.peek(pc));
    expect(lin?.final?.hpa).toBe(vm.map.toHost(lin?.final?.gpa ?? -1));
    // … or any guest-physical one: the EPT alone, to the VM's slice of host memory …
    const gpa = runner.eptWalk(0, 0x12345, 'guest-physical');
    expect(gpa?.linear).toBeNull();
    expect(gpa?.guest).toEqual([]);
    expect(gpa?.final?.hpa).toBe(vm.map.toHost(0x12345));
    expect(gpa?.final?.levels.map((l) => l.name)).toEqual(['PML4E', 'PDPTE', 'PDE', 'PTE']);
    // … and beyond the VM's 64 MiB the EPT has no entry: the walk ends in an EPT violation.
    const out = runner.eptWalk(0, 0x0800_0000, 'guest-physical');
    expect(out?.final?.hpa).toBeNull();
    expect(out?.final?.stop).toMatch(/not present: EPT violation/);
    // A linear address the guest never mapped stops in the guest's own walk (a #PF for it).
    const hole = runner.eptWalk(0, 0xffc0_0000, 'linear');
    expect(hole?.guestStop).toMatch(/not present: a #PF for the guest/);
    expect(hole?.final).toBeNull();
    expect(runner.eptWalk(3, 0, 'linear')).toBeNull(); // no such VM
  });

  it('shows the guest at real ring 0 in VMX non-root operation, CR4.VMXE hidden by the read shadow', () => {
    const runner = createHardwareAssistedRunner(
      { vms: 1, memMiB: 16, noReboot: true, paging: 'ept' },
      bootImage('trapdemo/trapdemo.elf', 16),
    );
    runner.run(20_000, false);
    const snap = runner.snapshot();
    expect(snap.cpl).toBe(0);
    expect(snap.cs.selector & 3).toBe(0);
    expect(snap.cr4 & 0x2000).toBe(0x2000); // the real CR4 has VMXE (fixed in VMX operation)
    expect(snap.virtual?.cr4 ?? -1).toBe(snap.cr4 & ~0x2000); // the guest reads its shadow
    expect(runner.vmm.cpu.vmx.current?.get(F.VMCS_LINK_PTR)).toBe(-1);
  });
});

// Every cpu-* guest of the manifest: the ten + semantics + straddle run under VT-x exactly as natively;
// triplefault and vmx differ for the reasons their tests name.
describe('hardware-assisted (VT-x): the cpu-* conformance guests', () => {
  const elfs = [
    'gates',
    'gate286',
    'tasks',
    'v86',
    'paging',
    'iopl',
    'iobitmap',
    'singlestep',
    'doublefault',
    'smc',
    'semantics',
    'straddle',
  ];
  it.each(elfs)(
    'cputests/%s.elf prints what it prints natively (ring 3, gates, tasks, V86 in non-root)',
    (name) => {
      const native = runNative(bootImage(`cputests/${name}.elf`, 16), 16, 50_000_000, true);
      const { outs, result } = runVtx(bootImage(`cputests/${name}.elf`, 16), { memMiB: 16 });
      expect(outs[0]).toBe(native.out);
      expect(outs[0]).toMatch(/DONE checks=\d+ failed=0/);
      expect(result.state).toBe('exited');
    },
    120_000,
  );

  it('cputests/triplefault.elf: the triple fault is VM exit 2 and stops only the VM', () => {
    const { outs, result } = runVtx(bootImage('cputests/triplefault.elf', 16), { memMiB: 16 });
    expect(outs[0]).toContain('triplefault: expecting shutdown');
    expect(result.state).toBe('shutdown');
    expect(result.reason).toMatch(/VM exit 2/);
  });

  it('vmx/vmx.elf does not pass in a VM: this VMM offers no nested VMX (CPUID.1:ECX.VMX = 0)', () => {
    const { outs } = runVtx(bootImage('vmx/vmx.elf', 16), { memMiB: 16 });
    expect(outs[0]).toContain('FAIL cpuid.1:ecx.vmx = 1');
  });
});
