/**
 * Differential: random valid 32-bit programs (seeded) on the interpreter, on pre-decoded blocks
 * and on compiled blocks must end in identical state and memory (split from blocks.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fastPaths } from './fastpaths.ts';
import { MonitorAction, type TrapEvent } from './interrupts.ts';
import { CODE, DATA, PT, pmEnv, stubVector } from './test/env.ts';
import { HLT, le, resetTier, same, setTier, type Tier } from './test/tiers.ts';

afterEach(() => {
  resetTier();
  fastPaths.bulkStrings = true;
});

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Registers a random instruction may change (never ESP; EBP holds DATA). */
const GPR = [0, 1, 2, 3, 6, 7];
const NOT_PRESENT = DATA + 0x3000; // unmapped when paging is on

type Item = {
  bytes: number[];
  jcc?: number;
  skip?: number;
  patch?: number;
  /** Fill in absolute addresses once the layout is known (`at` = this item's address). */
  fix?: (b: number[], at: number, off: number[], i: number) => void;
};
/** Where indirect CALLs find their target (random stores never reach it). */
const VECTOR = DATA + 0x780;

function genProgram(rnd: () => number, paging: boolean): { code: number[]; init: number[] } {
  const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
  const int = (n: number) => Math.floor(rnd() * n);
  const r = () => pick(GPR);
  const imm32 = () => (rnd() < 0.5 ? int(256) - 128 : (rnd() * 2 ** 32) | 0);
  const modrm = (mod: number, reg: number, rm: number) => (mod << 6) | (reg << 3) | rm;
  // A memory operand (ModR/M bytes after the reg field is known); EBP = DATA.
  const mem = (reg: number): number[] => {
    const k = int(10);
    if (k < 5) return [modrm(1, reg, 5), int(0x58)]; // [ebp+disp8]
    if (k < 7) return [modrm(0, reg, 5), ...le(DATA + 0x100 + int(0x40))]; // [disp32]
    if (k < 9) return [modrm(2, reg, 4), (int(4) << 6) | (pick(GPR) << 3) | 5, ...le(0x200)]; // [ebp+idx*s+0x200]
    if (paging && rnd() < 0.5) return [modrm(0, reg, 5), ...le(NOT_PRESENT + int(0x100))];
    return [modrm(0, reg, 5), ...le(CODE + 0xc00 + int(0x40))]; // data in the code page
  };
  // SIB memory operands need a small index: emit AND idx, 0x1f first.
  const memOp = (prefix: number[], reg: number, tail: number[] = []): number[] => {
    const m = mem(reg);
    if ((m[0] & 0xc7) === 0x84) {
      const idx = (m[1] >> 3) & 7;
      return [0x83, modrm(3, 4, idx), 0x1f, ...prefix, ...m, ...tail];
    }
    return [...prefix, ...m, ...tail];
  };
  const alu = () => int(8) << 3;
  const forms: Array<() => number[]> = [
    () => [alu() | 1, modrm(3, r(), r())], // ALU r/m32, r32
    () => [alu() | 0, modrm(3, int(8), int(8))], // ALU r/m8, r8 (AL..BH only touch EAX..EBX)
    () => [0x81, modrm(3, int(8), r()), ...le(imm32())],
    () => [0x83, modrm(3, int(8), r()), int(256)],
    () => [0x80, modrm(3, int(8), int(8)), int(256)],
    () => [alu() | 5, ...le(imm32())], // ALU eAX, imm32
    () => memOp([alu() | 3], r()), // ALU r32, m32
    () => memOp([alu() | 1], r()), // ALU m32, r32
    () => memOp([alu() | 0], int(8)), // ALU m8, r8
    () => memOp([alu() | 2], int(8)),
    () => memOp([0x83], int(8), [int(256)]),
    () => memOp([0x81], int(8), le(imm32())),
    () => memOp([0x80], int(8), [int(256)]),
    () => [0x40 | r()], // INC
    () => [0x48 | r()], // DEC
    () => memOp([0xff], int(2)), // INC/DEC m32
    () => [0x50 | int(8)], // PUSH r (ESP/EBP included)
    () => [0x58 | r()], // POP r
    () => [0x6a, int(256)],
    () => [0x68, ...le(imm32())],
    () => memOp([0xff], 6), // PUSH m32
    () => memOp([0x8f], 0), // POP m32
    () => [0xb8 | r(), ...le(imm32())],
    () => [0xb0 | int(8), int(256)],
    () => [0x89, modrm(3, r(), r())],
    () => [0x88, modrm(3, int(8), int(8))],
    () => memOp([0x8b], r()),
    () => memOp([0x89], int(8)),
    () => memOp([0x8a], int(8)),
    () => memOp([0x88], int(8)),
    () => memOp([0xc7], 0, le(imm32())),
    () => memOp([0xc6], 0, [int(256)]),
    () => [0x0f, pick([0xb6, 0xb7, 0xbe, 0xbf]), modrm(3, r(), int(8))],
    () => memOp([0x0f, pick([0xb6, 0xb7, 0xbe, 0xbf])], r()),
    () => [0x8d, modrm(0, r(), 4), (int(4) << 6) | (int(8) << 3) | pick([0, 1, 2, 3, 6, 7])],
    () => [0x8d, modrm(1, r(), 4), (int(4) << 6) | (int(8) << 3) | int(8), int(256)],
    () => [0x8d, modrm(2, r(), 4), (int(4) << 6) | (int(8) << 3) | int(8), ...le(imm32())],
    () => [0xc1, modrm(3, pick([0, 1, 2, 3, 4, 5, 7]), r()), int(40)],
    () => [0xd1, modrm(3, pick([0, 1, 2, 3, 4, 5, 7]), r())],
    () => [0xc0, modrm(3, pick([0, 1, 4, 5, 7]), int(8)), int(12)],
    () => memOp([0xc1], pick([0, 1, 4, 5, 7]), [int(33)]),
    () => [0x85, modrm(3, r(), r())],
    () => [0x84, modrm(3, int(8), int(8))],
    () => [0xf7, modrm(3, 0, r()), ...le(imm32())],
    () => [0xa9, ...le(imm32())],
    () => memOp([0x85], r()),
    () => [0xf7, modrm(3, pick([2, 3, 4, 5]), r())], // NOT NEG MUL IMUL
    () => [0x87, modrm(3, r(), r())],
    () => [0x0f, 0xc8 | r()],
    () => [0x99],
    () => [0x98],
    () => [pick([0xf8, 0xf9, 0xf5, 0xfc])],
    // Interpreter-only forms.
    () => [0x66, alu() | 1, modrm(3, r(), r())],
    () => [0x66, 0xb8 | r(), int(256), int(256)],
    () => memOp([0x66, 0x89], r()),
    () => [0x0f, 0x90 | int(16), modrm(3, 0, int(8))],
    () => memOp([0x0f, 0x90 | int(16)], 0),
    () => [0x0f, 0xaf, modrm(3, r(), r())],
    () => [0x6b, modrm(3, r(), r()), int(256)],
    () => [0x69, modrm(3, r(), r()), ...le(imm32())],
    () => [0x0f, 0x40 | int(16), modrm(3, r(), r())],
    () => [0x0f, 0xa3, modrm(3, r(), r())],
    () => [
      0x8d,
      0x75,
      int(0x40),
      0x8d,
      0x7d,
      0x40 + int(0x30),
      0xb9,
      ...le(int(9)),
      0xf3,
      pick([0xa4, 0xa5, 0xaa, 0xab]),
    ],
    () => [0x8d, 0x75, int(0x40), pick([0xac, 0xad])],
    () => [0xf6, modrm(3, 6, r())], // DIV r8 (#DE when the quotient overflows)
    () => (rnd() < 0.2 ? [0x0f, 0x0b] : [0x90]), // UD2 sometimes
    // Forms pre-decoded since 92ce281: moffs, 16-bit, shifts by CL, BT imm, XCHG, CMOVcc, LEAVE.
    () => [pick([0xa1, 0xa3, 0xa0, 0xa2]), ...le(DATA + 0x100 + int(0x40))],
    () => [0x66, alu() | pick([1, 3]), modrm(3, r(), r())],
    () => [0x66, 0x81, modrm(3, int(8), r()), int(256), int(256)],
    () => memOp([0x66, alu() | pick([1, 3])], r()),
    () => [0x66, pick([0x40, 0x48]) | r()],
    () => [0x66, 0xc7, modrm(3, 0, r()), int(256), int(256)],
    () => [0xd3, modrm(3, pick([0, 1, 2, 3, 4, 5, 7]), r())],
    () => [0xd2, modrm(3, pick([0, 1, 4, 5, 7]), int(8))],
    () => memOp([0xd3], pick([0, 1, 4, 5, 7])),
    () => [0x0f, 0xba, modrm(3, 4 + int(4), r()), int(64)],
    () => memOp([0x0f, 0xba], 4 + int(4), [int(64)]),
    () => memOp([0x87], r()),
    () => memOp([0x0f, 0x40 | int(16)], r()),
    () => [0x55, 0x89, 0xe5, 0x83, 0xec, 8, 0x89, 0x45, 0xfc, 0xff, 0x75, 0xfc, 0x58 | r(), 0xc9], // frame + LEAVE
    () => memOp([0xff], 6).concat([0x58 | r()]), // PUSH m32 ; POP r
    // Pre-decoded for the Linux boot: BT* r32,r32 and m32,r32 (a signed bit offset moves the dword),
    // XADD and CMPXCHG m32 without LOCK.
    () => [0x0f, pick([0xa3, 0xab, 0xb3, 0xbb]), modrm(3, r(), r())],
    () => {
      const g = r();
      const off = [
        0x81,
        modrm(3, 4, g),
        ...le(0x1ff),
        ...(rnd() < 0.5 ? [0x81, modrm(3, 5, g), ...le(0x100)] : []),
      ];
      return [...off, ...memOp([0x0f, pick([0xa3, 0xab, 0xb3, 0xbb])], g)];
    },
    () => memOp([0x0f, pick([0xb1, 0xc1])], r()),
    // Pre-decoded for the BusyBox loop: shifts of r8 and r16 by an immediate or 1.
    () => [0xc0, modrm(3, pick([0, 1, 4, 5, 6, 7]), int(8)), int(40)],
    () => [0xd0, modrm(3, pick([0, 1, 4, 5, 6, 7]), int(8))],
    () => [0x66, 0xc1, modrm(3, pick([0, 1, 4, 5, 6, 7]), r()), int(40)],
    () => [0x66, 0xd1, modrm(3, pick([0, 1, 4, 5, 6, 7]), r())],
    () => [0xb8, ...le(imm32()), ...memOp([0x0f, 0xb1], r())], // CMPXCHG with a random EAX
  ];
  const items: Item[] = [];
  const n = 8 + int(40);
  let loopAt = -1;
  for (let i = 0; i < n; i++) {
    const k = rnd();
    if (k < 0.08) {
      items.push({ bytes: [0x70 | int(16), 0], jcc: 1, skip: int(6) });
    } else if (k < 0.11) {
      items.push({ bytes: [0xeb, 0], jcc: 1, skip: 1 + int(3) });
    } else if (k < 0.125) {
      // JECXZ, half the time with ECX cleared first (a branch on ECX, not on the flags)
      if (int(2) === 0) items.push({ bytes: [0x31, 0xc9] });
      items.push({ bytes: [0xe3, 0], jcc: 1, skip: int(6) });
    } else if (k < 0.14) {
      // call +2 ; jmp over ; body ; ret
      const body: number[] = [];
      for (let j = 0, m = 1 + int(3); j < m; j++) body.push(0x01, modrm(3, r(), r()));
      items.push({ bytes: [0xe8, ...le(2), 0xeb, body.length + 1, ...body, 0xc3] });
    } else if (k < 0.155) {
      // Indirect calls (register, memory), RET imm16, and an indirect JMP forward.
      const body: number[] = [];
      for (let j = 0, m = 1 + int(3); j < m; j++) body.push(0x01, modrm(3, r(), r()));
      const v = int(4);
      const reg = r();
      if (v === 0) {
        const b = [0xb8 | reg, 0, 0, 0, 0, 0xff, 0xd0 | reg, 0xeb, body.length + 1, ...body, 0xc3];
        items.push({ bytes: b, fix: (b, at) => b.splice(1, 4, ...le(at + 9)) });
      } else if (v === 1) {
        const b = [0xc7, 0x05, ...le(VECTOR), 0, 0, 0, 0, 0xff, 0x15, ...le(VECTOR), 0xeb, body.length + 1];
        b.push(...body, 0xc3);
        items.push({ bytes: b, fix: (b, at) => b.splice(6, 4, ...le(at + 18)) });
      } else if (v === 2) {
        const b = [0x6a, int(256), 0xe8, ...le(2), 0xeb, body.length + 3, ...body, 0xc2, 4, 0];
        items.push({ bytes: b });
      } else {
        const skip = 1 + int(3);
        items.push({
          bytes: [0xb8 | reg, 0, 0, 0, 0, 0xff, 0xe0 | reg],
          fix: (b, _at, off, i) => b.splice(1, 4, ...le(CODE + off[Math.min(i + 1 + skip, off.length - 2)])),
        });
      }
    } else if (k < 0.17 && loopAt < 0) {
      items.push({ bytes: [0xc7, 0x45, 0x7c, ...le(1 + int(4))] }); // mov dword [ebp+0x7c], n
      loopAt = items.length;
    } else if (k < 0.2) {
      // A store patching a later instruction: the target is the next MOV r, imm32 / INC r.
      items.push({ bytes: [0xc6, 0x05, 0, 0, 0, 0, int(256)], patch: 1 + int(4) });
    } else if (k < 0.23) {
      items.push({ bytes: [0x40 | r()] }); // a 1-byte patch target
      items.push({ bytes: [0xb8 | r(), ...le(imm32())] });
    } else {
      items.push({ bytes: pick(forms)() });
    }
  }
  if (loopAt >= 0) items.push({ bytes: [0xff, 0x4d, 0x7c, 0x0f, 0x85, 0, 0, 0, 0], jcc: -loopAt });
  items.push({ bytes: [HLT] });
  // Lay out, then fix the branch displacements and patch addresses.
  const off: number[] = [];
  let o = 0;
  for (const it of items) {
    off.push(o);
    o += it.bytes.length;
  }
  off.push(o);
  items.forEach((it, i) => {
    const b = it.bytes;
    it.fix?.(b, CODE + off[i], off, i);
    if (it.jcc === 1) {
      const t = off[Math.min(i + 1 + (it.skip ?? 0), items.length - 1)];
      b[1] = (t - off[i + 1]) & 0xff;
    } else if (it.jcc !== undefined) {
      const d = off[-it.jcc] - off[i + 1];
      b.splice(5, 4, ...le(d));
    } else if (it.patch !== undefined) {
      // Patch byte `patch - 1` of the instruction two items on (or this one's own immediate).
      const j = Math.min(i + 1 + int(2), items.length - 1);
      const at = off[j] + Math.min(it.patch - 1, items[j].bytes.length - 1);
      b.splice(2, 4, ...le(CODE + at));
      // Keep 1-byte patch targets in INC/DEC of allowed registers (no ESP/EBP).
      if (items[j].bytes.length === 1 && items[j].bytes[0] >= 0x40 && items[j].bytes[0] < 0x50)
        b[6] = 0x40 | (b[6] & 8) | pick(GPR);
    }
  });
  const code = items.flatMap((it) => it.bytes);
  const init = Array.from({ length: 8 }, () => imm32());
  return { code, init };
}

function runRandom(
  code: number[],
  init: number[],
  paging: boolean,
  cache: Tier,
  dataSeed: number,
  events?: TrapEvent[],
) {
  const e = pmEnv(code, { paging });
  const { cpu, bus, dv } = e;
  if (events)
    cpu.monitor = {
      onEvent: (ev) => {
        events.push({ ...ev });
        return MonitorAction.Reflect;
      },
    };
  if (paging) dv.setUint32(PT + (NOT_PRESENT >>> 12) * 4, 0, true);
  const rnd = mulberry32(dataSeed);
  for (let a = DATA; a < DATA + 0x800; a++) bus.ram[a] = (rnd() * 256) | 0;
  for (const i of GPR) cpu.regs[i] = init[i];
  cpu.regs[5] = DATA;
  cpu.flags = 2 | (init[4] & 0x8d5);
  setTier(cache);
  const r = cpu.run(3000);
  resetTier();
  return { e, r };
}

describe('differential: random programs, cache on vs off', () => {
  for (const paging of [false, true]) {
    it(`100 programs, paging ${paging ? 'on' : 'off'}`, () => {
      const rnd = mulberry32(paging ? 0xc0ffee : 0xbadf00d);
      let faults = 0;
      let blocks = 0;
      let smc = 0;
      for (let p = 0; p < 100; p++) {
        const { code, init } = genProgram(rnd, paging);
        const on = runRandom(code, init, paging, true, p);
        const off = runRandom(code, init, paging, false, p);
        const jit = runRandom(code, init, paging, 'jit', p);
        const tag = `program ${p}: ${code.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
        expect(on.r, tag).toBe(off.r);
        expect(on.e.cpu.getState(), tag).toEqual(off.e.cpu.getState());
        expect(same(on.e.bus.ram, off.e.bus.ram), tag).toBe(true);
        expect(jit.r, `${tag} (second tier)`).toBe(off.r);
        expect(jit.e.cpu.getState(), `${tag} (second tier)`).toEqual(off.e.cpu.getState());
        expect(same(jit.e.bus.ram, off.e.bus.ram), `${tag} (second tier)`).toBe(true);
        if (stubVector(on.e.cpu) >= 0) faults++;
        blocks += on.e.cpu.blocks.built;
        smc += on.e.cpu.code.invalidations;
      }
      // The generator must reach the interesting cases.
      expect(faults).toBeGreaterThan(10);
      expect(blocks).toBeGreaterThan(100);
      expect(smc).toBeGreaterThan(10);
    });
  }

  it('60 programs with a monitor that reflects every event: the same events', () => {
    const rnd = mulberry32(0x5eed);
    let seen = 0;
    for (let p = 0; p < 60; p++) {
      const paging = p % 2 === 1;
      const { code, init } = genProgram(rnd, paging);
      const evOn: TrapEvent[] = [];
      const evOff: TrapEvent[] = [];
      const evJit: TrapEvent[] = [];
      const on = runRandom(code, init, paging, true, p, evOn);
      const off = runRandom(code, init, paging, false, p, evOff);
      const jit = runRandom(code, init, paging, 'jit', p, evJit);
      const tag = `program ${p}: ${code.map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
      expect(evJit, `${tag} (second tier)`).toEqual(evOff);
      expect(jit.e.cpu.getState(), `${tag} (second tier)`).toEqual(off.e.cpu.getState());
      expect(evOn, tag).toEqual(evOff); // every field, TrapEvent.length of a #UD included
      expect(on.e.cpu.getState(), tag).toEqual(off.e.cpu.getState());
      expect(same(on.e.bus.ram, off.e.bus.ram), tag).toBe(true);
      seen += evOn.length;
    }
    expect(seen).toBeGreaterThan(10);
  });
});
