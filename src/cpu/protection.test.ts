/** Protection rules: IOPL-sensitive and privileged instructions, silent IF drops, paging faults,
 *  #NM rules, interrupt shadow, HLT wake-up, SYSENTER/SYSEXIT, the monitor interface. */
import { describe, expect, it } from 'vitest';
import { SilentKind } from './base.ts';
import { CR0_EM, CR0_MP, CR0_TS, IF, StopReason } from './constants.ts';
import { EventKind, MonitorAction, type TrapEvent } from './interrupts.ts';
import { CODE, DATA, PT, pmEnv, stubVector } from './test/env.ts';

const le = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
const INT80 = [0xcd, 0x80];

describe('IOPL-sensitive and privileged instructions', () => {
  it('POPF at CPL 3 > IOPL leaves IF unchanged, silently, and reports the silent event', () => {
    const { cpu } = pmEnv([0x68, ...le(0x202), 0x9d, ...INT80], { cpl: 3 });
    const seen: Array<[SilentKind, number, number, number]> = [];
    cpu.observer = (k, eip, cpl, v) => seen.push([k, eip, cpl, v]);
    cpu.run(100);
    expect(stubVector(cpu)).toBe(0x80); // no #GP: POPF does not trap
    expect(seen).toEqual([[SilentKind.PopfIfDropped, CODE + 5, 3, 0x202]]);
    // The IF image pushed by INT 0x80 shows IF still 0.
    expect(cpu.mem.ram[0x9000 - 12 + 1] & (IF >> 8)).toBe(0);
  });

  it('POPF at CPL 0 sets IF', () => {
    const { cpu } = pmEnv([0x68, ...le(0x202), 0x9d, 0xf4]);
    cpu.run(100);
    expect(cpu.getEflags() & IF).toBe(IF);
  });

  it('IRET at CPL 3 (same level) drops an IF change and reports it', () => {
    const target = CODE + 13;
    const { cpu } = pmEnv([0x68, ...le(0x202), 0x6a, 0x1b, 0x68, ...le(target), 0xcf, ...INT80], { cpl: 3 });
    const kinds: SilentKind[] = [];
    cpu.observer = (k) => kinds.push(k);
    cpu.run(100);
    expect(stubVector(cpu)).toBe(0x80);
    expect(kinds).toEqual([SilentKind.IretIfDropped]);
  });

  it('CLI at CPL 3 with IOPL 0 raises #GP(0) at the CLI; with IOPL 3 it executes', () => {
    const a = pmEnv([0xfa, ...INT80], { cpl: 3 });
    a.cpu.run(100);
    expect(stubVector(a.cpu)).toBe(13);
    expect(a.cpu.mem.ram.subarray(0x9000 - 24, 0x9000 - 16)).toEqual(
      new Uint8Array([0, 0, 0, 0, ...le(CODE)]),
    );
    // Fault-class exception: RF = 1 in the pushed EFLAGS image (SDM §17.3.1.1).
    expect(new DataView(a.cpu.mem.ram.buffer).getUint32(0x9000 - 12, true) & 0x10000).toBe(0x10000);
    const b = pmEnv([0xfa, ...INT80], { cpl: 3, iopl: 3 });
    b.cpu.run(100);
    expect(stubVector(b.cpu)).toBe(0x80);
  });

  it('IN at CPL 3 > IOPL consults the TSS I/O bitmap (none here: #GP(0))', () => {
    const { cpu, dv } = pmEnv([0xec, ...INT80], { cpl: 3 });
    dv.setUint16(0x1000 + 0x66, 0x200, true); // bitmap beyond the TSS limit
    cpu.run(100);
    expect(stubVector(cpu)).toBe(13);
  });

  it('HLT and MOV CR0 at CPL 3 raise #GP(0)', () => {
    for (const code of [[0xf4], [0x0f, 0x22, 0xc0]]) {
      const { cpu } = pmEnv(code, { cpl: 3 });
      cpu.run(100);
      expect(stubVector(cpu)).toBe(13);
    }
  });

  it('INT n through a DPL 0 gate from CPL 3 raises #GP(n*8+2)', () => {
    const { cpu } = pmEnv([...INT80], { cpl: 3, gateDpl: 0 });
    cpu.run(100);
    expect(stubVector(cpu)).toBe(13);
    expect(new DataView(cpu.mem.ram.buffer).getUint32(0x9000 - 24, true)).toBe(0x80 * 8 + 2);
  });
});

describe('paging', () => {
  it('a user write to a supervisor page is #PF with error code 7 and CR2 = address', () => {
    const { cpu, dv } = pmEnv([0xc7, 0x05, ...le(DATA), ...le(0x1234)], { cpl: 3, paging: true });
    dv.setUint32(PT + (DATA >>> 12) * 4, DATA | 3, true);
    cpu.run(100);
    expect(stubVector(cpu)).toBe(14);
    expect(cpu.cr2 >>> 0).toBe(DATA);
    expect(dv.getUint32(0x9000 - 24, true)).toBe(7);
    expect(dv.getUint32(DATA, true)).toBe(0); // nothing written
  });

  it('sets A on read and D on write in the PTE (and A in the PDE)', () => {
    const page = DATA + 0x1000;
    const { cpu, dv } = pmEnv([0x8b, 0x05, ...le(page), 0xf4], { paging: true });
    cpu.run(100);
    expect(dv.getUint32(PT + (page >>> 12) * 4, true) & 0x60).toBe(0x20);
    const w = pmEnv([0x89, 0x05, ...le(page), 0xf4], { paging: true });
    w.cpu.run(100);
    expect(w.dv.getUint32(PT + (page >>> 12) * 4, true) & 0x60).toBe(0x60);
    expect(w.dv.getUint32(0x10000, true) & 0x20).toBe(0x20);
  });
});

describe('#NM rules (no FPU)', () => {
  it('ESC raises #NM when CR0.EM or CR0.TS; WAIT only when MP and TS', () => {
    const esc = pmEnv([0xd8, 0xc0, 0xf4]);
    esc.cpu.cr0 |= CR0_EM;
    esc.cpu.run(10);
    expect(stubVector(esc.cpu)).toBe(7);
    const ts = pmEnv([0xd8, 0xc0, 0xf4]);
    ts.cpu.cr0 |= CR0_TS;
    ts.cpu.run(10);
    expect(stubVector(ts.cpu)).toBe(7);
    const wait = pmEnv([0x9b, 0xf4]);
    wait.cpu.cr0 |= CR0_TS;
    wait.cpu.run(10);
    expect(stubVector(wait.cpu)).toBe(-1); // TS without MP: WAIT executes
    const wait2 = pmEnv([0x9b, 0xf4]);
    wait2.cpu.cr0 |= CR0_TS | CR0_MP;
    wait2.cpu.run(10);
    expect(stubVector(wait2.cpu)).toBe(7);
  });
});

describe('interrupts', () => {
  it('STI shadow: a pending IRQ is taken after the instruction following STI', () => {
    const { cpu, bus, dv } = pmEnv([0xfb, 0x90, 0x90, 0xf4]);
    bus.pendingVector = 0x40;
    cpu.run(100);
    expect(stubVector(cpu)).toBe(0x40);
    expect(dv.getUint32(0x8000 - 12, true)).toBe(CODE + 2);
  });

  it('HLT returns Halt; an IRQ wakes it and the pushed EIP is after the HLT', () => {
    const { cpu, bus, dv } = pmEnv([0xf4, 0xf4]);
    cpu.flags |= IF;
    expect(cpu.run(100)).toBe(StopReason.Halt);
    expect(cpu.run(100)).toBe(StopReason.Halt); // nothing pending: no instruction retired
    bus.pendingVector = 0x41;
    cpu.interruptCheck();
    cpu.run(100);
    expect(stubVector(cpu)).toBe(0x41);
    expect(dv.getUint32(0x8000 - 12, true)).toBe(CODE + 1);
  });

  it('a monitor receives exceptions instead of the IDT and can emulate', () => {
    const { cpu } = pmEnv([0xfa, 0xfa, ...INT80], { cpl: 3 });
    const got: TrapEvent[] = [];
    cpu.monitor = {
      onEvent(ev) {
        got.push({ ...ev });
        if (ev.vector === 13) {
          cpu.ip = ev.eip + ev.length; // "emulate" CLI: skip it
          return MonitorAction.Resume;
        }
        return MonitorAction.Stop;
      },
    };
    expect(cpu.run(100)).toBe(StopReason.Monitor);
    expect(got.map((e) => [e.vector, e.kind, e.errorCode, e.eip, e.length])).toEqual([
      [13, EventKind.Exception, 0, CODE, 1],
      [13, EventKind.Exception, 0, CODE + 1, 1],
      [0x80, EventKind.Software, -1, CODE + 4, 2],
    ]);
  });

  it('SYSENTER enters ring 0 flat; SYSEXIT returns to ring 3', () => {
    const { cpu, bus } = pmEnv([0x0f, 0x34], { cpl: 3 });
    cpu.sysenterCs = 0x08;
    cpu.sysenterEsp = 0x7000;
    cpu.sysenterEip = CODE + 0x100;
    bus.ram.set([0xba, ...le(CODE + 0x200), 0xb9, ...le(0x6000), 0x0f, 0x35], CODE + 0x100);
    bus.ram.set([...INT80], CODE + 0x200);
    cpu.run(3);
    expect(cpu.cpl).toBe(0);
    expect(cpu.segSel[1]).toBe(0x08);
    cpu.run(1);
    expect(cpu.cpl).toBe(3);
    expect(cpu.segSel[1]).toBe(0x1b);
    expect(cpu.regs[4]).toBe(0x6000);
    cpu.run(10);
    expect(stubVector(cpu)).toBe(0x80);
  });

  it('getState/setState round-trips the architectural state', () => {
    const a = pmEnv([0x40, 0x40, 0xf4], { paging: true });
    a.cpu.run(1);
    const s = a.cpu.getState();
    const b = pmEnv([0x40, 0x40, 0xf4]);
    b.cpu.setState(structuredClone(s));
    expect(b.cpu.getState()).toEqual(s);
    b.cpu.run(10);
    expect(b.cpu.regs[0]).toBe(2);
  });
});

describe('stepping hooks', () => {
  it('run(n) retires exactly n instructions; breakLinear stops before an address; breakOnEvent after a trap', () => {
    const { cpu } = pmEnv([0x40, 0x40, 0x40, 0x40, ...INT80, 0x40]);
    expect(cpu.run(2)).toBe(StopReason.Budget);
    expect(cpu.regs[0]).toBe(2);
    cpu.breakLinear = CODE + 3;
    expect(cpu.run(100)).toBe(StopReason.Breakpoint);
    expect(cpu.ip).toBe(CODE + 3);
    cpu.breakLinear = -1;
    cpu.breakOnEvent = true;
    expect(cpu.run(100)).toBe(StopReason.Breakpoint);
    expect(cpu.ip).toBe(0x2000 + 0x80); // at the INT 0x80 handler, before it runs
    expect(cpu.regs[0]).toBe(4);
  });
});

describe('monitor event length', () => {
  it('is the whole instruction even when the fault comes before its immediate is fetched', () => {
    // add dword [0x30000], 1 (83 05 imm32 01) at CPL 3 on a supervisor page: #PF before the imm8
    // is fetched. RMW operands are checked for write first (as Bochs does), so W=1 in the code.
    const { cpu, dv } = pmEnv([0x83, 0x05, ...le(DATA), 0x01], { cpl: 3, paging: true });
    dv.setUint32(PT + (DATA >>> 12) * 4, DATA | 3, true);
    let ev: TrapEvent | null = null;
    cpu.monitor = {
      onEvent(e) {
        ev = { ...e };
        return MonitorAction.Stop;
      },
    };
    cpu.run(10);
    expect(ev).toMatchObject({ vector: 14, errorCode: 7, eip: CODE, length: 7, faultAddr: DATA });
  });
});

describe('debug registers', () => {
  it('DR7.GD makes MOV DRn a #DB fault with DR6.BD and clears GD', () => {
    const { cpu } = pmEnv([0x0f, 0x21, 0xc0, 0xf4]); // mov eax, dr0
    cpu.dr[7] = 0x2400;
    cpu.run(10);
    expect(stubVector(cpu)).toBe(1);
    expect(cpu.dr[6] & 0x2000).toBe(0x2000);
    expect(cpu.dr[7] & 0x2000).toBe(0);
  });
  it('an I/O breakpoint (CR4.DE, R/W=10) traps after OUT with DR6.B0', () => {
    const { cpu, dv } = pmEnv([0xba, 0xf8, 0x03, 0x00, 0x00, 0xee, 0x90, 0xf4]); // mov edx,0x3f8; out dx,al
    cpu.cr4 |= 0x8;
    cpu.dr[0] = 0x3f8;
    cpu.dr[7] = 0x401 | (2 << 16);
    cpu.run(10);
    expect(stubVector(cpu)).toBe(1);
    expect(cpu.dr[6] & 0xf).toBe(1);
    expect(dv.getUint32(0x8000 - 12, true)).toBe(CODE + 6); // trap: EIP after the OUT
  });
});

describe('alignment check', () => {
  it('#AC(0) for a misaligned dword at CPL 3 only with CR0.AM and EFLAGS.AC', () => {
    const code = [0x8b, 0x05, ...le(DATA + 1), ...INT80]; // mov eax, [DATA+1]
    const on = pmEnv(code, { cpl: 3 });
    on.cpu.cr0 |= 0x40000;
    on.cpu.flags |= 0x40000;
    on.cpu.refreshAc();
    on.cpu.run(10);
    expect(stubVector(on.cpu)).toBe(17);
    expect(on.dv.getUint32(0x9000 - 24, true)).toBe(0);
    const off = pmEnv(code, { cpl: 3 });
    off.cpu.flags |= 0x40000; // AC without CR0.AM: no check
    off.cpu.refreshAc();
    off.cpu.run(10);
    expect(stubVector(off.cpu)).toBe(0x80);
  });
});
