/**
 * Accesses through expand-up segments with a limit below 4 GiB (binary translation cuts the
 * guest's DS/ES/SS below its slot): an access that ends at or below the limit takes the same fast
 * path as a flat segment (access.ts segRdMax/segWrMax, the second tier's inline paths), and one byte
 * past it is #GP(0) / #SS(0) (SDM Vol.3 §5.3). Every case runs on the interpreter, on pre-decoded
 * blocks and on the second tier (twin), which must agree on registers, memory and fault frames.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AR_DC, DS, ESP, GP, SS, SSF } from './constants.ts';
import type { Cpu } from './cpu.ts';
import { CpuSeg } from './segments.ts';
import { DATA, stubVector } from './test/env.ts';
import { HLT, le, resetTier, runWith, twin } from './test/tiers.ts';

afterEach(resetTier);

const LIM = DATA + 0xfff; // the segments' last byte
const DATA_AR = CpuSeg.flatAr(false, 0);

/** The #GP/#SS frame the HLT stub halted on: vector, error code, faulting EIP. */
function frame(cpu: Cpu): { vector: number; code: number; eip: number } {
  const sp = (cpu.segBase[SS] + cpu.regs[ESP]) >>> 0;
  const dv = new DataView(cpu.ram.buffer, cpu.ram.byteOffset);
  return { vector: stubVector(cpu), code: dv.getUint32(sp, true), eip: dv.getUint32(sp + 4, true) };
}

// mov esi, LIM-3 ; mov edi, LIM-3 ; mov ebx, 0x11223344 ; mov esp, LIM+1 ; mov ecx, 8
// L: mov eax,[esi] ; add ebx,eax ; mov [esi],ebx      (the last dword inside DS)
//    movzx edx, byte [edi+3] ; mov dx,[edi+2]          (the last byte and word inside)
//    mov [edi+3], cl                                   (a byte store at the limit)
//    push ebx ; pop edx                                (the top dword of SS)
//    dec ecx ; jnz L
// then the instruction `tail` (one byte across), then HLT.
function inside(tail: number[]): number[] {
  const loop = [
    0x8b, 0x06, 0x01, 0xc3, 0x89, 0x1e, 0x0f, 0xb6, 0x57, 0x03, 0x66, 0x8b, 0x57, 0x02, 0x88, 0x4f, 0x03,
    0x53, 0x5a, 0x49,
  ];
  return [
    0xbe,
    ...le(LIM - 3),
    0xbf,
    ...le(LIM - 3),
    0xbb,
    ...le(0x11223344),
    0xbc,
    ...le(LIM + 1),
    0xb9,
    ...le(8),
    ...loop,
    0x75,
    -(loop.length + 2) & 0xff,
    ...tail,
    HLT,
  ];
}
const TAIL_AT = 0x20000 + 25 + 20 + 2; // CODE + the five MOVs + the loop + JNZ

function cut(lim: number, segs: number[]) {
  return (e: { cpu: Cpu }) => {
    for (const s of segs) e.cpu.setSeg(s, 0x10, 0, lim, DATA_AR);
  };
}

describe('expand-up segments with a limit: the fast path up to the limit, #GP/#SS past it', () => {
  it('the last byte, word and dword inside DS and SS run; a dword one byte across is #GP(0)', () => {
    const on = twin(inside([0x8b, 0x46, 0x01 /* mov eax, [esi+1] */]), {
      paging: true,
      setup: cut(LIM, [DS, SS]),
    });
    expect(frame(on.cpu)).toEqual({ vector: GP, code: 0, eip: TAIL_AT });
    expect(on.cpu.regs[1]).toBe(0); // the loop ran to its end first
    expect(on.cpu.regs[2]).toBe(on.cpu.regs[3]); // push ebx ; pop edx at the top of SS
  });

  it('a byte store one past the limit is #GP(0); a POP with ESP three bytes short of the limit is #SS(0)', () => {
    const byte = twin(inside([0x88, 0x4f, 0x04 /* mov [edi+4], cl */]), { setup: cut(LIM, [DS, SS]) });
    expect(frame(byte.cpu)).toEqual({ vector: GP, code: 0, eip: TAIL_AT });
    // mov esp, LIM-2 ; pop eax: the dword LIM-2..LIM+1 crosses SS's limit.
    const pop = twin(inside([0xbc, ...le(LIM - 2), 0x58]), { setup: cut(LIM, [DS, SS]) });
    expect(frame(pop.cpu)).toEqual({ vector: SSF, code: 0, eip: TAIL_AT + 5 });
  });

  it('offsets near 4 GiB: inside the limit the linear address wraps; a flat segment never checks', () => {
    // DS base 0x40000, limit FFFFEFFF (G=1, not flat): offset FFFF0000 is linear DATA (wrapped).
    // mov esi, 0xFFFF0000 ; mov eax, [esi] ; mov esi, 0xFFFFEFFD ; mov ebx, [esi] (#GP: ends at F000)
    const code = [0xbe, ...le(0xffff0000), 0x8b, 0x06, 0xbe, ...le(0xffffeffd), 0x8b, 0x1e, HLT];
    const setup = (e: { cpu: Cpu; bus: { ram: Uint8Array } }) => {
      e.cpu.setSeg(DS, 0x10, 0x40000, 0xffffefff, DATA_AR);
      e.bus.ram.set(le(0xcafef00d), DATA);
    };
    const wrap = twin(code, { setup });
    expect(wrap.cpu.regs[0] >>> 0).toBe(0xcafef00d);
    expect(frame(wrap.cpu)).toEqual({ vector: GP, code: 0, eip: 0x20000 + 12 });
    // Flat DS based at DATA+2: offset FFFFFFFE is linear DATA, no limit check at all.
    const flat = twin([0xbe, ...le(0xfffffffe), 0x8b, 0x06, HLT], {
      setup: (e) => {
        e.cpu.setSeg(DS, 0x10, DATA + 2, 0xffffffff, DATA_AR);
        e.bus.ram.set(le(0x12345678), DATA);
      },
    });
    expect(flat.cpu.regs[0] >>> 0).toBe(0x12345678);
    expect(stubVector(flat.cpu)).toBe(-1);
  });

  it('expand-down segments keep the slow check: offsets above the limit run, at or below it #GP(0)', () => {
    // DS expand-down, limit DATA+FFF, B=1 (upper bound 4 GiB-1): mov esi, LIM+1 ; mov eax,[esi] ;
    // mov [esi], ebx ; mov eax, [esi-1] (starts at the limit: #GP)
    const code = [0xbe, ...le(LIM + 1), 0x8b, 0x06, 0x89, 0x1e, 0x8b, 0x46, 0xff, HLT];
    const down = twin(code, {
      setup: (e) => {
        e.cpu.setSeg(DS, 0x10, 0, LIM, DATA_AR | AR_DC);
        e.cpu.regs[3] = 0x55aa55aa;
      },
    });
    expect(down.bus.ram[LIM + 1]).toBe(0xaa);
    expect(frame(down.cpu)).toEqual({ vector: GP, code: 0, eip: 0x20000 + 9 });
  });

  it('in-limit accesses skip the slow check on every tier; the access past the limit takes it', () => {
    for (const tier of [false, true, 'jit'] as const) {
      let checks = 0;
      const e = runWith(tier, inside([0x8b, 0x46, 0x01]), {
        paging: true,
        setup: (env) => {
          cut(LIM, [DS, SS])(env);
          const orig = env.cpu.segCheck.bind(env.cpu);
          vi.spyOn(env.cpu, 'segCheck').mockImplementation((s, off, len, w) => {
            checks++;
            orig(s, off, len, w);
          });
        },
      });
      expect(stubVector(e.cpu), String(tier)).toBe(GP);
      // The fault's own check, and none for the 8 passes × 7 in-limit accesses (or the frame).
      expect(checks, String(tier)).toBe(1);
    }
  });
});
