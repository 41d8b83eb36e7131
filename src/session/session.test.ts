import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Session, type SessionConfig, SessionError, type SessionStatus } from './index.ts';
import { nasm } from './test-nasm.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const HELLO = new Uint8Array(readFileSync(join(ROOT, 'guests', 'hello', 'hello.elf')));
const GREETING = 'Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n';
const text = (b: Uint8Array) => new TextDecoder('latin1').decode(b);

function hello(extra: Partial<SessionConfig> = {}): Session {
  return new Session({
    guest: { kind: 'kernel', kernel: HELLO },
    technique: 'native',
    vms: 1,
    memMiB: 16,
    noReboot: false,
    ...extra,
  });
}

function raw(image: Uint8Array, noReboot = false): Session {
  return new Session({
    guest: { kind: 'raw', image, addr: 0x100000, entry: 0x100000 },
    technique: 'native',
    vms: 1,
    memMiB: 16,
    noReboot,
  });
}

/** Run until the session leaves 'running' (or `limit` calls). */
function runOut(s: Session, budget = 100_000, limit = 1000): { status: SessionStatus; out: string } {
  let out = '';
  let status = s.status;
  for (let i = 0; i < limit; i++) {
    status = s.run(budget);
    out += text(s.takeSerial(0));
    if (status.state !== 'running') break;
  }
  return { status, out };
}

describe('Session configuration', () => {
  const bad = (c: Partial<SessionConfig>, msg: RegExp) => {
    expect(() => hello(c)).toThrow(SessionError);
    expect(() => hello(c)).toThrow(msg);
  };
  it('rejects what it cannot run with a clear message', () => {
    // paravirtual is built, but runs only kernels ported to it: hello carries no PV guest header.
    bad(
      { technique: 'paravirtual' },
      /^paravirtual runs only kernels ported to its hypercall interface.*no PV guest header/,
    );
    bad(
      { technique: 'hardware-assisted', paging: 'nested' as never },
      /^paging must be ept or shadow, got 'nested'$/,
    );
    bad({ technique: 'warp' as never }, /unknown technique 'warp'/);
    bad({ vms: 2 }, /native runs one guest; use --technique trap-and-emulate for several VMs/);
    bad({ vms: 0 }, /number of VMs/);
    bad({ memMiB: 0 }, /memory must be/);
    bad({ memMiB: 1.5 }, /memory must be/);
    bad({ guest: { kind: 'kernel', kernel: new Uint8Array(100) } }, /unrecognised kernel format/);
    bad({ guest: { kind: 'kernel', kernel: new Uint8Array(0) } }, /kernel image is empty/);
    bad({ guest: { kind: 'floppy' } as never }, /unknown guest kind 'floppy'/);
    bad(
      { guest: { kind: 'raw', image: new Uint8Array(16), addr: 0x100000, entry: 0x200000 } },
      /entry point/,
    );
    bad(
      { guest: { kind: 'raw', image: new Uint8Array(16), addr: 0x7f00000, entry: 0x7f00000 }, memMiB: 8 },
      /RAM|memory|fit/i,
    );
    bad({ guest: { kind: 'bios', image: new Uint8Array(1000) } }, /BIOS|ROM|size/i);
  });
});

describe('Session under native', () => {
  it('boots hello to its debug-exit and then stays exited', () => {
    const s = hello();
    expect(s.vmCount).toBe(1);
    expect(s.bootSummary).toMatch(/multiboot/i);
    const { status, out } = runOut(s);
    expect(out).toBe(GREETING);
    expect(status).toMatchObject({ state: 'exited', exitCode: 1 });
    const n = s.instructions;
    expect(n).toBeGreaterThan(100);
    expect(s.virtualTimeNs).toBeGreaterThanOrEqual(n * 10);
    expect(s.run(1000)).toBe(s.status);
    expect(s.instructions).toBe(n);
    expect(s.traps.count).toBe(0); // native: nothing traps to anyone
  });

  it('is deterministic: same run twice → same output and count; other slicings → same output', () => {
    const a = runOut(hello(), 1_000_000);
    const sa = hello();
    const ra = runOut(sa, 1_000_000);
    expect(ra).toEqual(a);
    const b = hello();
    const rb = runOut(b, 7, 100_000);
    expect(rb.out).toBe(a.out);
    expect(rb.status).toEqual(a.status);
    const c = hello();
    let out = '';
    while (c.status.state === 'running') {
      c.step();
      out += text(c.takeSerial(0));
    }
    expect(out).toBe(a.out);
    expect(c.status).toEqual(a.status);
    // Stepping stops right after the OUT to 0xF4; a long slice runs on to the guest's HLT until
    // the CPU can end a run early on a device request (MachineCpu.requestStop).
    expect(sa.instructions - c.instructions).toBeGreaterThanOrEqual(0);
    expect(sa.instructions - c.instructions).toBeLessThanOrEqual(2);
  });

  it('snapshots the entry state the multiboot loader set up, as plain data', () => {
    const s = hello();
    const snap = s.snapshot();
    expect(snap).toMatchObject({
      eax: 0x2badb002,
      cpl: 0,
      mode: 'protected',
      vm: 0,
      halted: false,
      instructions: 0,
    });
    expect(snap.cs).toMatchObject({ selector: 0x10, base: 0, limit: 0xffffffff });
    expect(snap.cs.access & 0x4000).not.toBe(0); // 32-bit code
    expect(snap.cr0 & 1).toBe(1);
    expect(snap.eflags & 0x200).toBe(0);
    expect(structuredClone(snap)).toEqual(snap);
    // step() retires exactly one instruction.
    const eip0 = snap.eip;
    expect(s.step().state).toBe('running');
    expect(s.instructions).toBe(1);
    expect(s.snapshot().eip).not.toBe(eip0);
  });

  it('reads memory and disassembles at the entry point', () => {
    const s = hello();
    const eip = s.snapshot().eip;
    const lin = s.readLinear(eip, 32);
    expect(Array.from(lin)).toEqual(Array.from(s.readPhysical(eip, 32)));
    expect(lin[0]).toBe(0xbc); // mov esp, imm32 (hello.asm's first instruction)
    const lines = s.disassembleAt(eip, 4);
    expect(lines.length).toBe(4);
    expect(lines[0].addr).toBe(eip);
    expect(lines[0].bytes[0]).toBe(0xbc);
    expect(lines[0].text).toMatch(/^mov esp, 0x[0-9a-f]+$/);
    expect(lines[1].text).toBe('cmp eax, 0x2badb002'); // hello.asm checks the multiboot magic
    for (let i = 1; i < lines.length; i++) {
      expect(lines[i].addr).toBe(lines[i - 1].addr + lines[i - 1].bytes.length);
      expect(lines[i].text.length).toBeGreaterThan(0);
    }
    // Unmapped physical memory reads as all ones.
    expect(Array.from(s.readPhysical(0xf0000000, 4))).toEqual([0xff, 0xff, 0xff, 0xff]);
  });

  it('reads linear memory through the guest page tables', () => {
    // Identity-map the first 4 MiB with a 4 MiB... no: 4 KiB pages, and map linear 0x00400000 to
    // physical 0x00100000 (this code) through a second page table; then halt.
    const s = raw(
      nasm(
        'paging',
        `
    mov edi, 0x200000          ; page directory
    mov ecx, 3072
    xor eax, eax
    rep stosd                  ; clear directory + two tables (0x200000-0x202FFF)
    mov dword [0x200000], 0x201003
    mov dword [0x200004], 0x202003
    mov edi, 0x201000          ; identity map 0-4 MiB
    mov eax, 3
.fill:
    stosd
    add eax, 0x1000
    cmp edi, 0x202000
    jb .fill
    mov dword [0x202000], 0x100003   ; linear 0x400000 -> physical 0x100000
    mov eax, 0x200000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    cli
    hlt
`,
      ),
    );
    const { status } = runOut(s);
    expect(status.state).toBe('stopped'); // cli; hlt: nothing can wake it
    expect(status.reason).toMatch(/interrupts disabled/);
    expect(s.snapshot().cr0 >>> 31).toBe(1);
    expect(Array.from(s.readLinear(0x400000, 16))).toEqual(Array.from(s.readPhysical(0x100000, 16)));
    // Not-present pages read as zeros; the disassembler says so.
    expect(Array.from(s.readLinear(0x800000, 4))).toEqual([0, 0, 0, 0]);
    expect(s.disassembleAt(0x800000, 3)).toEqual([{ addr: 0x800000, bytes: [], text: '(not mapped)' }]);
  });

  it('feeds serial input, reports triple faults, resets and idles', () => {
    // Echo one byte, then exit with it.
    const echo = raw(
      nasm(
        'echo1',
        `
    mov dx, 0x3FD
.w: in al, dx
    test al, 1
    jz .w
    mov dx, 0x3F8
    in al, dx
    out dx, al
    out 0xF4, al
    jmp $
`,
      ),
    );
    expect(echo.run(10_000).state).toBe('running');
    echo.sendSerial(0, new Uint8Array([0x21]));
    const r = runOut(echo);
    expect(r.out).toBe('!');
    expect(r.status).toMatchObject({ state: 'exited', exitCode: (0x21 << 1) | 1 });

    const triple = raw(nasm('triple', 'lidt [idt]\nud2\nidt: dw 0\ndd 0\n'));
    const t = runOut(triple);
    expect(t.status.state).toBe('shutdown');
    expect(t.status.exitCode).toBe(2);
    expect(t.status.reason).toMatch(/\S/);
    expect(t.status.reason).not.toMatch(/\n/);

    const resetImg = nasm('reset', 'mov al, 0xFE\nout 0x64, al\njmp $\n');
    expect(runOut(raw(resetImg, true)).status).toMatchObject({ state: 'reset', exitCode: 0 });
    // Without noReboot the machine resets and re-enters the image: it keeps running.
    const again = raw(resetImg, false);
    expect(again.run(200_000).state).toBe('running');

    const idle = raw(nasm('idle', 'sti\nhlt\njmp $\n'));
    expect(runOut(idle).status.state).toBe('idle');
    const stopped = idle.stop('user pressed stop');
    expect(stopped).toEqual({ state: 'stopped', reason: 'user pressed stop' });
    expect(idle.run(100).state).toBe('stopped');
  });

  it('survives an emulator bug: the run stops with a reason instead of throwing', () => {
    const s = hello();
    const inner = s as unknown as { runner: { pc: { cpu: { run: () => number } } } };
    inner.runner.pc.cpu.run = () => {
      throw new Error('decoder fell over');
    };
    const st = s.run(1000);
    expect(st).toEqual({
      state: 'stopped',
      exitCode: 70,
      reason: 'internal emulator error: decoder fell over',
    });
    expect(s.lastError).toBeInstanceOf(Error);
    expect(s.snapshot().eax).toBe(0x2badb002); // state still readable
  });
});

describe('Session with a hypervisor technique plugged in', () => {
  it('runs several VMs under trap-and-emulate with per-VM consoles and a trap log', () => {
    const s = hello({ technique: 'trap-and-emulate', vms: 2 });
    expect(s.vmCount).toBe(2);
    const outs = ['', ''];
    let st = s.status;
    for (let i = 0; i < 1000 && st.state === 'running'; i++) {
      st = s.run(100_000);
      for (let vm = 0; vm < 2; vm++) outs[vm] += text(s.takeSerial(vm));
    }
    expect(outs).toEqual([GREETING, GREETING]);
    expect(st).toMatchObject({ state: 'exited', exitCode: 1 });
    expect(s.traps.count).toBeGreaterThan(0);
    expect(new Set(Array.from({ length: s.traps.count }, (_, i) => s.traps.get(i).vm))).toEqual(
      new Set([0, 1]),
    );
    expect(s.takeSerial(2).length).toBe(0); // no such VM: nothing, no throw
    // vmInfo: each VM's guest-physical RAM lives in its own, disjoint host slice; counters add up.
    const info = s.vmInfo();
    expect(info.map((v) => v.vm)).toEqual([0, 1]);
    const ram = info.map((v) => v.memory.find((r) => r.kind === 'ram' && r.guestPhys === 0));
    expect(ram[0]?.hostPhys).not.toBe(ram[1]?.hostPhys);
    expect(Math.abs((ram[0]?.hostPhys ?? 0) - (ram[1]?.hostPhys ?? 0))).toBeGreaterThanOrEqual(
      16 * 1024 * 1024,
    );
    for (const v of info) {
      expect(v.state).toBe('exited');
      expect(v.traps).toBeGreaterThan(0);
      expect(v.cycles).toBeGreaterThan(0);
    }
    let cycles = 0;
    for (let i = 0; i < s.traps.count; i++) cycles += s.traps.get(i).cost;
    expect(info[0].cycles + info[1].cycles).toBe(cycles);
  });

  it('describes the one native guest as owning host memory, identity-mapped', () => {
    const s = hello({ technique: 'native' });
    expect(s.vmInfo()).toMatchObject([
      { vm: 0, running: true, memory: [{ guestPhys: 0, hostPhys: 0, bytes: 16 * 1024 * 1024, kind: 'ram' }] },
    ]);
  });

  it('stops at the next trap with runToNextTrap', () => {
    const s = hello({ technique: 'trap-and-emulate' });
    const before = s.traps.total;
    s.runToNextTrap(1_000_000);
    expect(s.traps.total).toBe(before + 1);
    s.runToNextTrap(1_000_000);
    expect(s.traps.total).toBe(before + 2);
    expect(s.snapshot().virtual).toBeDefined();
  });
});

describe('step() under trap-and-emulate', () => {
  // hello polls the UART with `in al, dx` (LSR) then `test al, 0x20`. The VMM emulates the IN,
  // which takes no tick of its own: a step must still stop right after it, not one instruction on.
  it('stops right after an instruction the VMM emulates', () => {
    const s = hello({ technique: 'trap-and-emulate' });
    let steps = 0;
    let traps = s.traps.count;
    for (; steps < 20_000; steps++) {
      const before = s.snapshot();
      const bytes = s.readLinear(before.eip, 2);
      s.step();
      if (bytes[0] === 0xec) {
        // IN AL, DX is one byte: the step ends at the next instruction, with one new trap record.
        expect(s.snapshot().eip).toBe(before.eip + 1);
        expect(s.traps.count).toBeGreaterThan(traps);
        expect(Array.from(s.readLinear(s.snapshot().eip, 2))).toEqual([0xa8, 0x20]); // test al, 0x20
        return;
      }
      traps = s.traps.count;
    }
    throw new Error('hello never reached its IN AL, DX');
  });
});
