/**
 * Trap-and-emulate on the teaching guests (issue 6, "Done when"): trapdemo byte-identical to
 * native with every trap kind logged with its details; minikernel failing as Robin & Irvine
 * predict, first silent event = the POPF that dropped IF; four VMs at once; memory isolation;
 * determinism of the trap log.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SLICES_BASE } from '../vmm/memory-map.ts';
import { TrapAction, TrapKind, TrapOp, type TrapRecord } from '../vmm/trap-log.ts';
import { bootImage, jsonl, ROOT, runNative, runTe, type TeRun } from './test-guests.ts';

const EXPECTED = readFileSync(resolve(ROOT, 'guests/trapdemo/expected-output.txt'), 'latin1');
const MEM = 16;

function records(run: TeRun): TrapRecord[] {
  const t = run.runner.traps;
  return Array.from({ length: t.count }, (_, i) => t.get(i));
}

function io(recs: TrapRecord[], dir: 'in' | 'out', port: number): number[] {
  return recs.flatMap((r) =>
    r.details.type === 'io' && r.details.direction === dir && r.details.port === port
      ? [r.details.value]
      : [],
  );
}

describe('trapdemo under trap-and-emulate', () => {
  let te: TeRun;
  let recs: TrapRecord[];
  beforeAll(() => {
    te = runTe(bootImage('trapdemo/trapdemo.elf', MEM), { memMiB: MEM });
    recs = records(te);
  });

  it('prints byte-identical output to native and exits the same way', () => {
    const nat = runNative(bootImage('trapdemo/trapdemo.elf', MEM), MEM);
    expect(nat.out).toBe(EXPECTED);
    expect(te.outs[0]).toBe(nat.out);
    expect(te.result.state).toBe('exited');
    expect(te.result.exitCode).toBe(nat.exitCode);
  });

  it('logs the console as port I/O on the virtual UART (LSR reads, THR writes)', () => {
    // Port 0x3F8 is also the divisor latch while LCR.DLAB = 1: the one write of 0x01 programs 115200.
    const thr = io(recs, 'out', 0x3f8).filter((v) => v !== 0x01);
    expect(String.fromCharCode(...thr)).toBe(EXPECTED);
    expect(io(recs, 'in', 0x3fd).length).toBeGreaterThanOrEqual(thr.length);
    const first = recs.find((r) => r.kind === TrapKind.PortIo) as TrapRecord;
    expect(first.action).toBe(TrapAction.Emulated);
    expect(first.bytes.length).toBeGreaterThan(0);
    expect(first.cpl).toBe(0); // the guest believes it is in ring 0
  });

  it('emulates LGDT (rebuilding the ring-compressed shadow), MOV SS with RPL 0, LIDT, LLDT and LTR', () => {
    const op = (o: number) => recs.filter((r) => r.kind === TrapKind.PrivilegedInstruction && r.reason === o);
    const lgdt = op(TrapOp.LGDT)[0];
    expect(lgdt.details).toMatchObject({ type: 'other' });
    if (lgdt.details.type !== 'other') throw new Error('details');
    expect(lgdt.details.values[1]).toBe(31); // 4 descriptors
    expect(lgdt.details.values[3]).toBe(2); // code and data: DPL 0 → 1
    const ss = op(TrapOp.SEG_LOAD)[0];
    if (ss.details.type !== 'other') throw new Error('details');
    expect(ss.details.values[2]).toBe(0x10); // the guest's selector…
    expect(ss.details.values[3]).toBe(0x11); // …loaded at RPL 1
    const lidt = op(TrapOp.LIDT)[0];
    if (lidt.details.type !== 'other') throw new Error('details');
    expect(lidt.details.values[1]).toBe(48 * 8 - 1);
    expect(op(TrapOp.LLDT)).toHaveLength(1);
    const ltr = op(TrapOp.LTR)[0];
    if (ltr.details.type !== 'other') throw new Error('details');
    expect(ltr.details.values[0]).toBe(0x18);
    expect(op(TrapOp.CLI).length).toBeGreaterThanOrEqual(3);
    expect(op(TrapOp.STI).length).toBeGreaterThanOrEqual(2);
    expect(op(TrapOp.WBINVD)).toHaveLength(1);
    const dr = op(TrapOp.MOV_DR).find((r) => r.details.type === 'other' && r.details.values[2] === 0x123450);
    expect(dr).toBeDefined();
  });

  it('sends UART, PIC and PIT programming to the VM’s own devices with the right values', () => {
    expect(io(recs, 'out', 0x3fb)).toEqual(expect.arrayContaining([0x80, 0x03]));
    expect(io(recs, 'in', 0x3fb)).toContain(0x03);
    expect(io(recs, 'out', 0x3ff)).toContain(0x5a);
    expect(io(recs, 'in', 0x3ff)).toContain(0x5a);
    expect(io(recs, 'out', 0x20)).toContain(0x11);
    expect(io(recs, 'out', 0x21)).toEqual(expect.arrayContaining([0x20, 0xfe]));
    expect(io(recs, 'out', 0xa1)).toContain(0x28);
    expect(io(recs, 'in', 0x21)).toContain(0xfe);
    expect(io(recs, 'out', 0x43)).toContain(0x34);
    expect(io(recs, 'out', 0x40)).toEqual([11932 & 0xff, 11932 >> 8]);
    expect(io(recs, 'out', 0xf4)).toEqual([0]);
  });

  it('blocks HLT until the virtual timer fires, injects IRQ0 through the guest IDT, emulates the IRET', () => {
    const hlt = recs.filter((r) => r.reason === TrapOp.HLT && r.kind === TrapKind.PrivilegedInstruction);
    expect(hlt.some((r) => r.action === TrapAction.Blocked)).toBe(true);
    const irq = recs.filter((r) => r.kind === TrapKind.Interrupt);
    expect(irq.length).toBeGreaterThanOrEqual(3);
    for (const r of irq) expect(r.details).toEqual({ type: 'interrupt', vector: 0x20, irq: 0 });
    expect(recs.filter((r) => r.reason === TrapOp.IRET).length).toBeGreaterThanOrEqual(3);
    // Each EOI is a trap too.
    expect(io(recs, 'out', 0x20).filter((v) => v === 0x20).length).toBeGreaterThanOrEqual(3);
  });

  it('traps the control-register writes and reads with old and new values', () => {
    const cr = recs.filter((r) => r.kind === TrapKind.ControlRegister).map((r) => r.details);
    expect(cr).toContainEqual({ type: 'cr', cr: 3, old: 0, new: 0x00102000 });
    // CR0 as the native CPU has it after the loader: CD and NW from reset, ET, PE; then PG.
    expect(
      cr.some((d) => d.type === 'cr' && d.cr === 0 && d.old === 0x60000011 && d.new === 0xe0000011),
    ).toBe(true);
    // The guest reads its virtual CR2 in the page-fault handler.
    expect(
      recs.some(
        (r) =>
          r.reason === TrapOp.MOV_FROM_CR &&
          r.details.type === 'cr' &&
          r.details.cr === 2 &&
          r.details.new === 0x400000,
      ),
    ).toBe(true);
  });

  it('fills shadow page tables on hidden faults, into the VM’s own slice', () => {
    const hidden = recs.filter((r) => r.kind === TrapKind.HiddenPageFault);
    expect(hidden.length).toBeGreaterThan(5);
    const slice = te.runner.memoryMaps()[0].sliceBase;
    expect(slice).toBe(SLICES_BASE);
    for (const r of hidden) {
      expect(r.action).toBe(TrapAction.ShadowFill);
      if (r.details.type !== 'fault') throw new Error('details');
      const gpa = r.details.guestPhysical as number;
      expect(r.details.hostPhysical).toBe(slice + (gpa & ~0xfff));
    }
  });

  it('drops the shadow entry on INVLPG and all shadows on a CR3 reload', () => {
    const inv = recs.filter((r) => r.reason === TrapOp.INVLPG);
    expect(inv).toHaveLength(1);
    if (inv[0].details.type !== 'other') throw new Error('details');
    expect(inv[0].details.values[0]).toBe(0x00401000);
    expect(inv[0].details.values[1]).toBe(1); // one live shadow entry dropped
    expect(EXPECTED).toContain('after INVLPG reads 0x22222222');
    const cr3 = recs.filter(
      (r) => r.reason === TrapOp.MOV_TO_CR && r.details.type === 'cr' && r.details.cr === 3,
    );
    expect(cr3.length).toBe(2);
    // The reload dropped the shadow tables built since paging went on (d3 of a CR record).
    expect(recs.indexOf(cr3[1])).toBeGreaterThan(recs.indexOf(inv[0]));
  });

  it('reflects the guest’s own page fault with its CR2 and error code, and #DE', () => {
    const pf = recs.filter((r) => r.kind === TrapKind.GuestException && r.reason === 14);
    expect(pf).toHaveLength(1);
    expect(pf[0].details).toEqual({ type: 'fault', vector: 14, faultAddress: 0x400000, errorCode: 2 });
    expect(pf[0].action).toBe(TrapAction.Reflected);
    const de = recs.filter((r) => r.kind === TrapKind.GuestException && r.reason === 0);
    expect(de).toHaveLength(1);
    expect(de[0].eip).toBe(0x001005c2);
    expect(de[0].bytes).toEqual([0xf7, 0xf1]);
  });

  it('costs every record and orders the costs as the model says', () => {
    const cost = (k: TrapKind) => recs.find((r) => r.kind === k)?.cost ?? -1;
    const cli = recs.find((r) => r.reason === TrapOp.CLI)?.cost ?? -1;
    expect(cli).toBeGreaterThan(0);
    expect(cost(TrapKind.PortIo)).toBeGreaterThan(cli);
    expect(cost(TrapKind.HiddenPageFault)).toBeGreaterThan(cli);
    const pf = recs.find((r) => r.kind === TrapKind.GuestException && r.reason === 14)?.cost ?? -1;
    const de = recs.find((r) => r.kind === TrapKind.GuestException && r.reason === 0)?.cost ?? -1;
    expect(pf).toBeGreaterThan(de);
  });
});

describe('minikernel under trap-and-emulate fails as the theory predicts', () => {
  it('hangs after the POPF whose IF change the hardware silently dropped', () => {
    const boot = bootImage('minikernel/minikernel.elf', 64);
    const a = runTe(boot, { memMiB: 64 });
    expect(a.result.state).toBe('hung');
    expect(a.result.reason).toMatch(/HLT with interrupts disabled/);
    // The console stops after the first FIFO load of the first message after STI.
    expect(a.outs[0]).toContain('[mini] uart: COM1 on IRQ 4');
    expect(a.outs[0].endsWith('[mini] interrupt')).toBe(true);
    const recs = records(a);
    const silent = recs.filter((r) => r.kind === TrapKind.SilentEvent);
    expect(silent.length).toBeGreaterThanOrEqual(1);
    const first = silent[0];
    expect(first.reason).toBe(TrapOp.POPF);
    expect(first.invisible).toBe(true);
    expect(first.action).toBe(TrapAction.None);
    expect(first.bytes).toEqual([0x9d]);
    // …in console_write() (irqrestore() inlined), per the kernel's own symbol table.
    const syms = spawnSync('nm', ['-S', '--defined-only', join(ROOT, 'guests/minikernel/minikernel.elf')], {
      encoding: 'utf8',
    }).stdout;
    const fn = syms
      .split('\n')
      .map((l) => l.split(' '))
      .find(
        ([a, n, t]) =>
          /^[tT]$/.test(t ?? '') &&
          Number.parseInt(a, 16) <= first.eip &&
          first.eip < Number.parseInt(a, 16) + Number.parseInt(n, 16),
      );
    expect(fn?.[3]).toBe('console_write');
    if (first.details.type !== 'other') throw new Error('details');
    const [attempted, real, , virtualIf] = first.details.values;
    expect(attempted & 0x200).toBe(0x200); // the guest meant to turn interrupts back on…
    expect(real & 0x200).toBe(0); // …the CPU kept IF clear at CPL 1 > IOPL 0…
    expect(virtualIf).toBe(0); // …and the VMM never learned of it.
    // Before it, the guest's CLI trapped; after it, the fatal HLT stopped the VM.
    const i = recs.indexOf(first);
    const before = recs.slice(0, i).filter((r) => r.reason === TrapOp.CLI);
    expect(before.length).toBeGreaterThan(0);
    const last = recs[recs.length - 1];
    expect(last.reason).toBe(TrapOp.HLT);
    expect(last.action).toBe(TrapAction.Stopped);
    // Deterministic: the same run gives the same log.
    const b = runTe(boot, { memMiB: 64, slice: 123_457 });
    expect(jsonl(b.runner)).toBe(jsonl(a.runner));
  });
});

describe('several VMs', () => {
  it('runs four trapdemo VMs at once, each with its own console, with logged world switches', () => {
    const r = runTe(bootImage('trapdemo/trapdemo.elf', MEM), { vms: 4, memMiB: MEM });
    expect(r.result.state).toBe('exited');
    expect(r.result.reason).toMatch(/^all 4 VMs powered off through isa-debug-exit \(VM 0: status 1,/);
    for (const out of r.outs) expect(out).toBe(EXPECTED);
    const recs = records(r);
    const sw = recs.filter((x) => x.kind === TrapKind.WorldSwitch);
    expect(sw.length).toBeGreaterThanOrEqual(3);
    for (const s of sw) {
      if (s.details.type !== 'switch') throw new Error('details');
      expect(s.details.fromVm).not.toBe(s.details.toVm);
      expect(s.vm).toBe(s.details.toVm);
      expect(s.cost).toBeGreaterThan(0);
    }
    for (let vm = 0; vm < 4; vm++) {
      expect(recs.filter((x) => x.vm === vm && x.kind === TrapKind.Interrupt).length).toBeGreaterThanOrEqual(
        3,
      );
    }
  });

  it('isolates memory: the probe in each of four VMs sees only its own tags', () => {
    const r = runTe(bootImage('trapdemo/trapdemo.elf', MEM, 'probe'), { vms: 4, memMiB: MEM });
    expect(r.result.state).toBe('exited');
    for (const out of r.outs) {
      expect(out).toContain('probe: 0x00000000-0x00FFFFFF own RAM (our tags) (4 frames)');
      expect(out).toContain('(own 4, foreign 0, other 0)');
      expect(out).toContain('isolation ok');
    }
    // Every frame any VM's shadow tables map lies in that VM's slice or the VMM's empty/sink pages.
    const maps = r.runner.memoryMaps();
    for (const [i, vm] of r.runner.vmm.vms.entries()) {
      const m = maps[i];
      for (const f of vm.shadow.mappedFrames()) {
        const own = f >= m.sliceBase && f < m.sliceBase + m.memBytes;
        expect(own || f === m.emptyPage || f === m.sinkPage).toBe(true);
      }
    }
  });
});

describe('determinism', () => {
  it('gives the same trap log whatever the host run() slices are', () => {
    const boot = bootImage('trapdemo/trapdemo.elf', MEM);
    const a = runTe(boot, { memMiB: MEM, slice: 10_000_000 });
    const b = runTe(boot, { memMiB: MEM, slice: 7_777 });
    expect(a.runner.traps.count).toBeGreaterThan(1000);
    expect(jsonl(b.runner)).toBe(jsonl(a.runner));
  });

  it('also with four VMs time-sliced on the physical timer', () => {
    const boot = bootImage('trapdemo/trapdemo.elf', MEM, 'probe');
    const a = runTe(boot, { vms: 4, memMiB: MEM, slice: 5_000_000 });
    const b = runTe(boot, { vms: 4, memMiB: MEM, slice: 33_333 });
    expect(a.runner.traps.countByKind(TrapKind.WorldSwitch)).toBeGreaterThan(10);
    expect(jsonl(b.runner)).toBe(jsonl(a.runner));
    expect(b.outs).toEqual(a.outs);
  });
});

describe('the CLI', () => {
  it('runs trapdemo under trap-and-emulate with --trace and --stats, identically twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'traplab-hv-'));
    const run = (n: number) =>
      spawnSync(
        process.execPath,
        [
          join(ROOT, 'bin/traplab.mjs'),
          'run',
          '--guest',
          'trapdemo',
          '--technique',
          'trap-and-emulate',
          '--trace',
          `t${n}.jsonl`,
          '--stats',
        ],
        { cwd: dir, encoding: 'latin1', timeout: 60_000, env: { ...process.env, TRAPLAB_DEBUG: '' } },
      );
    const a = run(1);
    const b = run(2);
    expect(a.stdout).toBe(EXPECTED);
    expect(a.status).toBe(b.status);
    expect(a.stderr).toMatch(/hidden page fault/);
    const t1 = readFileSync(join(dir, 't1.jsonl'), 'latin1');
    expect(t1.split('\n').length).toBeGreaterThan(1000);
    expect(readFileSync(join(dir, 't2.jsonl'), 'latin1')).toBe(t1);
    expect(JSON.parse(t1.split('\n')[0])).toMatchObject({ seq: 0, vm: 0 });
  });
});
