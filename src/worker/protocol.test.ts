import { describe, expect, it } from 'vitest';
import { type FromWorker, parseToWorker, type ToWorker, type TrapRows, transferablesOf } from './protocol.ts';

function ok(m: unknown): ToWorker {
  const r = parseToWorker(m);
  if (!r.ok) throw new Error(`expected valid, got: ${r.error}`);
  return r.value;
}

function bad(m: unknown): string {
  const r = parseToWorker(m);
  if (r.ok) throw new Error(`expected an error for ${JSON.stringify(m)}`);
  return r.error;
}

describe('parseToWorker', () => {
  it('accepts every well-formed command', () => {
    const msgs: unknown[] = [
      { type: 'load', scenario: { guest: { kind: 'builtin', id: 'hello' }, technique: 'native', vms: 1 } },
      {
        type: 'load',
        scenario: {
          guest: {
            kind: 'upload',
            guest: { kind: 'kernel', name: 'k.elf', kernel: new Uint8Array(4), cmdline: 'x' },
          },
          technique: 'trap-and-emulate',
          vms: 2,
          memMiB: 64,
        },
      },
      { type: 'run' },
      { type: 'pause' },
      { type: 'step' },
      { type: 'stepToTrap' },
      { type: 'stepToTrap', skip: [1, 4] },
      { type: 'runUntilTrapKind', kind: 1 },
      { type: 'runUntilTrapKind', kind: 5, exitReason: 30 },
      { type: 'eptWalk', id: 4, vm: 0, addr: 0xc0100000, space: 'linear' },
      { type: 'eptWalk', id: 5, vm: 1, addr: 0xb8000, space: 'guest-physical' },
      { type: 'reset' },
      { type: 'setSpeed', ips: null },
      { type: 'setSpeed', ips: 2.5 },
      { type: 'serialInput', vm: 0, bytes: new Uint8Array([0x1b, 0x5b, 0x31, 0x3b, 0x31, 0x52]) },
      { type: 'readMemory', id: 1, space: 'physical', addr: 0xb8000, len: 256 },
      { type: 'disassemble', id: 2, addr: 0x100000, count: 20 },
      { type: 'trapSlice', id: 3, start: 0, end: 100, filter: { vm: 1, kinds: [1, 7] } },
      { type: 'trapSlice', id: 3, start: 0, end: 0, filter: {}, tail: 18 },
      { type: 'watchTraps', on: true },
      { type: 'watchTraps', on: false },
      { type: 'trapDetail', id: 4, index: 9 },
      { type: 'exportTraps', id: 5, format: 'jsonl' },
      { type: 'exportTraps', id: 6, format: 'trace' },
    ];
    for (const m of msgs) expect(ok(m)).toEqual(m);
  });

  it('rejects garbage with a clear error instead of throwing', () => {
    expect(bad(null)).toMatch(/expected an object with a 'type', got null/);
    expect(bad('run')).toMatch(/expected an object/);
    expect(bad([1, 2])).toMatch(/got an array/);
    expect(bad({ type: 'fly' })).toMatch(/unknown message type "fly"/);
    expect(bad({})).toMatch(/unknown message type undefined/);
  });

  it('names the field that is wrong', () => {
    expect(
      bad({
        type: 'load',
        scenario: { guest: { kind: 'builtin', id: 'hello' }, technique: 'magic', vms: 1 },
      }),
    ).toMatch(/unknown technique "magic"/);
    expect(
      bad({
        type: 'load',
        scenario: { guest: { kind: 'builtin', id: 'hello' }, technique: 'native', vms: 0 },
      }),
    ).toMatch(/'vms' must be at least 1/);
    expect(
      bad({
        type: 'load',
        scenario: {
          guest: { kind: 'builtin', id: 'hello' },
          technique: 'native',
          vms: 1,
          machine: 'pc-486dx',
        },
      }),
    ).toMatch(/unknown machine "pc-486dx"; expected one of pc, pc-fpu, pc-apic, pc-fpu-apic/);
    expect(
      bad({
        type: 'load',
        scenario: { guest: { kind: 'builtin', id: 'hello' }, technique: 'native', vms: 1, cpuModel: 'p3' },
      }),
    ).toMatch(/unknown CPU model "p3"; expected one of p4, nehalem, modern/);
    expect(
      bad({
        type: 'load',
        scenario: { guest: { kind: 'builtin', id: 'hello' }, technique: 'native', vms: 99 },
      }),
    ).toMatch(/'vms' must be an integer from 0 to 4, got 99/);
    expect(bad({ type: 'load', scenario: { guest: { kind: 'disk' }, technique: 'native', vms: 1 } })).toMatch(
      /'scenario.guest.kind' must be 'builtin' or 'upload'/,
    );
    expect(
      bad({
        type: 'load',
        scenario: {
          guest: { kind: 'upload', guest: { kind: 'kernel', name: 'x', kernel: 'abc' } },
          technique: 'native',
          vms: 1,
        },
      }),
    ).toMatch(/'kernel' must be a Uint8Array, got "abc"/);
    expect(bad({ type: 'readMemory', id: 1, space: 'virtual', addr: 0, len: 1 })).toMatch(
      /'space' must be 'linear' or 'physical'/,
    );
    expect(bad({ type: 'readMemory', id: 1, space: 'linear', addr: -1, len: 1 })).toMatch(
      /'addr' must be an integer/,
    );
    expect(bad({ type: 'readMemory', id: 1, space: 'linear', addr: 0, len: 1 << 20 })).toMatch(/'len'/);
    expect(bad({ type: 'setSpeed', ips: 0 })).toMatch(/'ips' must be a positive number or null/);
    expect(bad({ type: 'setSpeed', ips: Number.NaN })).toMatch(/'ips'/);
    expect(bad({ type: 'serialInput', vm: 0, bytes: [1, 2] })).toMatch(
      /'bytes' must be a Uint8Array, got an array/,
    );
    expect(bad({ type: 'serialInput', vm: 7, bytes: new Uint8Array(1) })).toMatch(/'vm'/);
    expect(bad({ type: 'trapSlice', id: 1, start: 10, end: 5 })).toMatch(
      /'end' \(5\) is before 'start' \(10\)/,
    );
    expect(bad({ type: 'trapSlice', id: 1, start: 0, end: 5, filter: { kinds: ['io'] } })).toMatch(
      /'filter.kinds'/,
    );
    expect(bad({ type: 'trapSlice', id: 1, start: 0, end: 0, filter: {}, tail: -1 })).toMatch(/'tail'/);
    expect(bad({ type: 'watchTraps', on: 1 })).toMatch(/'on' must be true or false, got 1/);
    expect(bad({ type: 'runUntilTrapKind', kind: 'io' })).toMatch(/'kind' must be an integer/);
    expect(bad({ type: 'runUntilTrapKind', kind: 5, exitReason: 70000 })).toMatch(/'exitReason'/);
    expect(bad({ type: 'eptWalk', id: 1, vm: 0, addr: 0, space: 'host' })).toMatch(
      /'space' must be 'linear' or 'guest-physical', got "host"/,
    );
    expect(bad({ type: 'eptWalk', id: 1, vm: 0, addr: -1, space: 'linear' })).toMatch(/'addr'/);
    expect(bad({ type: 'exportTraps', id: 1, format: 'csv' })).toMatch(
      /'format' must be 'jsonl' or 'trace', got "csv"/,
    );
    // The command is named in the message.
    expect(bad({ type: 'disassemble', id: 1, addr: 0 })).toMatch(/^malformed message 'disassemble': 'count'/);
  });

  it('clamps an oversized trap slice rather than failing', () => {
    const m = ok({ type: 'trapSlice', id: 1, start: 0, end: 1e9, filter: {} });
    expect(m.type === 'trapSlice' && m.end).toBe(4096);
    const t = ok({ type: 'trapSlice', id: 1, start: 0, end: 0, filter: {}, tail: 1e6 });
    expect(t.type === 'trapSlice' && t.tail).toBe(4096);
  });

  it('accepts an ArrayBuffer where bytes are expected', () => {
    const m = ok({ type: 'serialInput', vm: 0, bytes: new Uint8Array([65]).buffer });
    expect(m.type === 'serialInput' && Array.from(m.bytes)).toEqual([65]);
  });
});

describe('transferablesOf', () => {
  it('transfers whole buffers only, never the buffer behind a subarray view', () => {
    const big = new Uint8Array(100);
    const own = new Uint8Array(5);
    const msg: FromWorker = {
      type: 'frame',
      status: { state: 'running', running: true, position: '' },
      serial: [
        { vm: 0, bytes: own },
        { vm: 1, bytes: big.subarray(10, 20) },
      ],
      trapsGrew: false,
      traps: null,
      regs: null,
      stats: {
        instructions: 0,
        virtualTimeNs: 0,
        mips: 0,
        trapTotal: 0,
        trapDropped: 0,
        trapHeld: 0,
        trapsByKind: [],
        trapsByVm: [],
      },
    };
    const t = transferablesOf(msg);
    expect(t).toEqual([own.buffer]);
  });

  it('transfers every trap column of a slice', () => {
    const rows: TrapRows = {
      index: new Uint32Array(1),
      seq: new Float64Array(1),
      timeNs: new Float64Array(1),
      vm: new Uint8Array(1),
      kind: new Uint8Array(1),
      reason: new Uint16Array(1),
      cs: new Uint16Array(1),
      eip: new Uint32Array(1),
      flags: new Uint8Array(1),
      action: new Uint8Array(1),
      cost: new Uint32Array(1),
    };
    const t = transferablesOf({
      type: 'trapSlice',
      id: 1,
      start: 0,
      total: 1,
      rows,
      insn: [''],
      reasons: [''],
    });
    expect(t).toHaveLength(11);
  });
});
