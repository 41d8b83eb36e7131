/**
 * The VMM's parts in isolation: the guest page walk with its accessed/dirty bits, the shadow
 * tables, the decoder, the cost model's ordering, time slicing on the physical PIT, the silent
 * POPF in a five-byte guest, and configuration errors.
 */
import { describe, expect, it } from 'vitest';
import { loadRaw } from '../../machine/loaders/index.ts';
import { COST } from '../vmm/cost-model.ts';
import { decode } from '../vmm/decode.ts';
import { GuestMemory } from '../vmm/guest-mem.ts';
import { GuestMemoryMap, SLICES_BASE, VmmFrames } from '../vmm/memory-map.ts';
import { ShadowPaging, VMM_LIN_GDT } from '../vmm/shadow.ts';
import { TrapAction, TrapKind, TrapOp } from '../vmm/trap-log.ts';
import { VmmConfigError } from '../vmm/vm.ts';
import { createTrapAndEmulateRunner } from './runner.ts';

const MiB = 1024 * 1024;

/** A raw flat guest at 1 MiB; `mov esp, 0x90000` is prepended (5 bytes) unless `noStack`. */
function rawBoot(code: number[], memMiB = 4, noStack = false) {
  const bytes = noStack ? code : [0xbc, 0x00, 0x00, 0x09, 0x00, ...code];
  return loadRaw(Uint8Array.from(bytes), { ramBytes: memMiB * MiB, addr: 0x100000, entry: 0x100000 });
}

describe('guest page walk', () => {
  const host = new Uint8Array(SLICES_BASE + 4 * MiB);
  const map = new GuestMemoryMap(0, 4 * MiB, 0x100000, 0x101000);
  const regs = { cr0: 0x80010011, cr3: 0x2000, cr4: 0 };
  const mem = new GuestMemory(host, map, regs);
  // PD at 0x2000: PDE 0 → PT at 0x3000 (present, writable, user). PTE 5 → frame 0x9000, read-only.
  mem.writePhys32(0x2000, 0x3000 | 7);
  mem.writePhys32(0x3000 + 5 * 4, 0x9000 | 5);
  mem.writePhys32(0x3000 + 6 * 4, 0x8000 | 7);

  it('translates through the guest tables into the VM slice and sets A, then D on a write', () => {
    expect(mem.walk(0x6123, false, false, true)).toBe(true);
    expect(mem.info.gpa).toBe(0x8123);
    expect(mem.readPhys32(0x3000 + 6 * 4) & 0x60).toBe(0x20);
    expect(mem.readPhys32(0x2000) & 0x20).toBe(0x20);
    mem.write(0x6120, 4, 0xdeadbeef);
    expect(mem.readPhys32(0x3000 + 6 * 4) & 0x60).toBe(0x60);
    expect(host[SLICES_BASE + 0x8120]).toBe(0xef);
  });

  it('returns the guest-visible #PF error code: not present, and protection with WP', () => {
    expect(mem.walk(0x7000, true, false, true)).toBe(2); // not present, write, supervisor
    expect(mem.walk(0x5000, true, true, true)).toBe(7); // present, write, user
    expect(mem.walk(0x5000, true, false, true)).toBe(3); // CR0.WP: supervisor write refused
    regs.cr0 &= ~0x10000;
    expect(mem.walk(0x5000, true, false, true)).toBe(true);
    expect(mem.info.wpOverride).toBe(true);
    regs.cr0 |= 0x10000;
  });

  it('reads all ones outside the VM’s RAM and never writes there', () => {
    expect(mem.readPhys32(4 * MiB)).toBe(0xffffffff);
    expect(mem.readPhys8(0xa0000)).toBe(0xff);
    mem.writePhys32(4 * MiB, 0);
    expect(host.subarray(SLICES_BASE + 4 * MiB).every((b) => b === 0)).toBe(true);
  });
});

describe('shadow page tables', () => {
  const host = new Uint8Array(SLICES_BASE + 8 * MiB);
  const host32 = new Int32Array(host.buffer);
  const frames = new VmmFrames(host);
  const empty = frames.alloc();
  const map = new GuestMemoryMap(1, 4 * MiB, empty, frames.alloc());
  const sh = new ShadowPaging(host, host32, frames, map);

  it('maps guest-linear pages to the VM’s own host frames, read-only until dirty', () => {
    const hostFrame = sh.fill(0x400000, 0x123000, false, true, false, false);
    expect(hostFrame).toBe(SLICES_BASE + 4 * MiB + 0x123000);
    expect(sh.lookup(0x400abc)).toBe(hostFrame);
    expect(sh.entry(0x400000) & 7).toBe(5); // present, user, read-only (not dirty yet)
    sh.fill(0x400000, 0x123000, true, false, false, true);
    expect(sh.entry(0x400000) & 7).toBe(3); // present, writable, supervisor only
    expect(sh.tableCount).toBe(1);
  });

  it('maps non-RAM to the all-ones page for reads and to the VM’s sink for writes', () => {
    expect(sh.fill(0x800000, 0x7000000, false, true, false, false)).toBe(empty);
    expect(sh.fill(0x801000, 0x7000000, true, true, false, true)).toBe(map.sinkPage);
  });

  it('drops one entry on INVLPG and every table on a CR3 write', () => {
    expect(sh.invalidate(0x400000)).toBe(1);
    expect(sh.lookup(0x400000)).toBe(-1);
    expect(sh.dropAll()).toBe(2);
    expect(sh.tableCount).toBe(0);
    expect(sh.lookup(0x800000)).toBe(-1);
  });

  it('keeps the VMM region (shadow GDT) mapped in every address space', () => {
    expect(sh.lookup(VMM_LIN_GDT)).toBe(sh.gdtFrames[0]);
    expect(sh.mappedFrames().size).toBe(0);
  });
});

describe('decoder', () => {
  const regs = new Int32Array([0x1000, 0, 0x3f8, 0x2000, 0x8000, 0x9000, 0, 0]);
  it('decodes the privileged instructions with their operands', () => {
    const lgdt = decode(Uint8Array.from([0x0f, 0x01, 0x15, 0x78, 0x56, 0x34, 0x12]), true, regs);
    expect(lgdt).toMatchObject({ op: TrapOp.LGDT, len: 7, eaOff: 0x12345678, eaSeg: 3 });
    expect(decode(Uint8Array.from([0x0f, 0x22, 0xd8]), true, regs)).toMatchObject({
      op: TrapOp.MOV_TO_CR,
      reg: 3,
      rm: 0,
      len: 3,
    });
    expect(decode(Uint8Array.from([0x66, 0xed]), true, regs)).toMatchObject({
      op: TrapOp.IN,
      opsz32: false,
      len: 2,
    });
    expect(decode(Uint8Array.from([0xf3, 0x6e]), true, regs)).toMatchObject({ op: TrapOp.OUTS, rep: 0xf3 });
    expect(decode(Uint8Array.from([0x8e, 0xd0]), true, regs)).toMatchObject({ op: TrapOp.SEG_LOAD, reg: 2 });
    expect(decode(Uint8Array.from([0x8e, 0xd8]), true, regs)).toMatchObject({ op: 0 }); // MOV DS: no trap
    const inv = decode(Uint8Array.from([0x0f, 0x01, 0x7d, 0x10]), true, regs); // invlpg [ebp+0x10]
    expect(inv).toMatchObject({ op: TrapOp.INVLPG, eaOff: 0x9010, eaSeg: 2 });
    const sib = decode(Uint8Array.from([0x0f, 0x01, 0x1c, 0x98]), true, regs); // lidt [eax+ebx*4]
    expect(sib).toMatchObject({ op: TrapOp.LIDT, eaOff: 0x1000 + 0x8000 });
    const r16 = decode(Uint8Array.from([0x0f, 0x01, 0x17]), false, regs); // lgdt [bx]
    expect(r16).toMatchObject({ op: TrapOp.LGDT, eaOff: 0x2000, len: 3 });
    expect(decode(Uint8Array.from([0x0f]), true, regs)).toBeNull();
  });

  it('forms every 16-bit address (SDM Vol. 2 Table 2-1) with wrap and the SS default', () => {
    // BX 0x1234, BP 0xfff0, SI 0x0020, DI 0x8003, upper halves set: only the low 16 bits count.
    const r = new Int32Array([0, 0, 0, 0x7fff1234, 0, 0x1234fff0, 0x00010020, 0x00028003]);
    const bx = 0x1234;
    const bp = 0xfff0;
    const si = 0x20;
    const di = 0x8003;
    const sums = [bx + si, bx + di, bp + si, bp + di, si, di, bp, bx];
    for (let rm = 0; rm < 8; rm++) {
      // lidt [base + disp8 -2] (mod 1) and [base + disp16 0x9000] (mod 2), 16-bit addressing.
      const d8 = decode(Uint8Array.from([0x0f, 0x01, 0x58 | rm, 0xfe]), false, r);
      expect(d8, `rm ${rm} disp8`).toMatchObject({
        op: TrapOp.LIDT,
        len: 4,
        eaOff: (sums[rm] - 2) & 0xffff,
        eaSeg: rm === 2 || rm === 3 || rm === 6 ? 2 : 3,
      });
      const d16 = decode(Uint8Array.from([0x0f, 0x01, 0x98 | rm, 0x00, 0x90]), false, r);
      expect(d16, `rm ${rm} disp16`).toMatchObject({ len: 5, eaOff: (sums[rm] + 0x9000) & 0xffff });
    }
    // mod 0, rm 6 is a bare disp16 with DS; a segment prefix overrides the SS default.
    expect(decode(Uint8Array.from([0x0f, 0x01, 0x1e, 0x34, 0x12]), false, r)).toMatchObject({
      eaOff: 0x1234,
      eaSeg: 3,
      len: 5,
    });
    expect(decode(Uint8Array.from([0x26, 0x0f, 0x01, 0x5e, 0x00]), false, r)).toMatchObject({ eaSeg: 0 });
    // Bytes that run out mid-displacement decode to null, and the next call starts afresh.
    expect(decode(Uint8Array.from([0x0f, 0x01, 0x98, 0x00]), false, r)).toBeNull();
    expect(decode(Uint8Array.from([0xfa]), true, r)).toMatchObject({ op: TrapOp.CLI, len: 1 });
  });
});

describe('cost model', () => {
  it('orders costs as a software VMM on the Adams & Agesen machine would pay them', () => {
    expect(COST.silent).toBe(0);
    expect(COST.simple).toBeLessThan(COST.register);
    expect(COST.register).toBeLessThan(COST.portIo);
    expect(COST.reflect).toBeLessThan(COST.reflectPageFault);
    expect(COST.hiddenFault).toBeLessThan(COST.reflectPageFault);
    expect(COST.portIo).toBeLessThan(COST.worldSwitch);
    expect(COST.cr3Write).toBeGreaterThan(COST.register);
  });
});

describe('time slicing and silent events', () => {
  it('switches between two spinning VMs on the physical timer, never on their own initiative', () => {
    // mov ecx, 200000; loop $; mov dx, 0x3F8; mov al, 'x'; out dx, al; jmp start
    const spin = [
      0xb9, 0x40, 0x0d, 0x03, 0x00, 0xe2, 0xfe, 0x66, 0xba, 0xf8, 0x03, 0xb0, 0x78, 0xee, 0xeb, 0xf0,
    ];
    const r = createTrapAndEmulateRunner({ vms: 2, memMiB: 4, noReboot: true }, rawBoot(spin, 4, true));
    expect(r.run(20_000_000, false).state).toBe('budget');
    const t = r.traps;
    const sw = Array.from(t.filter({ kind: TrapKind.WorldSwitch }), (i) => t.get(i));
    expect(sw.length).toBeGreaterThanOrEqual(40);
    // Strict alternation, at quantum-sized intervals of virtual time (2 ms of the 1 kHz tick).
    for (let i = 1; i < sw.length; i++) {
      const d = sw[i].details;
      if (d.type !== 'switch') throw new Error('details');
      expect(d.toVm).toBe(1 - (sw[i - 1].vm as number));
      const gap = sw[i].timeNs - sw[i - 1].timeNs;
      expect(gap).toBeGreaterThan(1_900_000);
      expect(gap).toBeLessThan(2_200_000);
    }
    const info = r.vmInfo();
    expect(info.map((v) => v.memory[0].hostPhys)).toEqual([SLICES_BASE, SLICES_BASE + 4 * MiB]);
    expect(info[0].switchesIn + info[1].switchesIn).toBe(sw.length + 1);
    expect(r.takeSerial(0).length).toBeGreaterThan(5);
    expect(r.takeSerial(1).length).toBeGreaterThan(5);
  });

  it('logs the POPF that silently kept IF clear, invisible to the VMM, then the fatal HLT', () => {
    // sti; pushfd; cli; popfd; hlt
    const r = createTrapAndEmulateRunner(
      { vms: 1, memMiB: 4, noReboot: true },
      rawBoot([0xfb, 0x9c, 0xfa, 0x9d, 0xf4]),
    );
    const res = r.run(1000, false);
    expect(res.state).toBe('hung');
    const t = r.traps;
    const recs = Array.from({ length: t.count }, (_, i) => t.get(i)).filter(
      (x) => x.kind !== TrapKind.HiddenPageFault,
    );
    expect(recs.map((x) => [x.kind, x.reason])).toEqual([
      [TrapKind.PrivilegedInstruction, TrapOp.STI],
      [TrapKind.PrivilegedInstruction, TrapOp.CLI],
      [TrapKind.SilentEvent, TrapOp.POPF],
      [TrapKind.PrivilegedInstruction, TrapOp.HLT],
    ]);
    expect(recs[2].invisible).toBe(true);
    expect(recs[2].eip).toBe(0x100008);
    expect(recs[3].action).toBe(TrapAction.Stopped);
    // The guest believes it is at CPL 0 and sees its virtual IF = 0 in the snapshot.
    const s = r.snapshot();
    expect(s.cpl).toBe(1);
    expect(s.virtual?.cpl).toBe(0);
    expect((s.virtual?.eflags ?? 0) & 0x200).toBe(0);
  });

  it('stops at every trap record with stopOnTrap (hidden faults first, then the CLI)', () => {
    const r = createTrapAndEmulateRunner(
      { vms: 1, memMiB: 4, noReboot: true },
      rawBoot([0x90, 0x90, 0xfa, 0x90, 0xf4]),
    );
    for (let n = 1; n < 20; n++) {
      expect(r.run(1_000, true).state).toBe('budget');
      expect(r.traps.count).toBe(n);
      const last = r.traps.get(n - 1);
      if (last.kind === TrapKind.HiddenPageFault) continue;
      expect(last.reason).toBe(TrapOp.CLI);
      expect(r.snapshot().eip).toBe(0x100008);
      return;
    }
    throw new Error('no CLI trap');
  });
});

describe('configuration errors', () => {
  it('refuses guests that start in real mode, and host memory it does not have', () => {
    const bios = { chunks: [], entry: { mode: 'reset' as const }, summary: 'bios' };
    expect(() => createTrapAndEmulateRunner({ vms: 1, memMiB: 4, noReboot: true }, bios)).toThrow(
      VmmConfigError,
    );
    expect(() =>
      createTrapAndEmulateRunner({ vms: 16, memMiB: 256, noReboot: true }, rawBoot([0xf4])),
    ).toThrow(/host memory/);
  });
});
