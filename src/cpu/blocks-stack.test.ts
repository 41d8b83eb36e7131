/**
 * Runs of PUSH/POP r32 as one record (block-stack.ts) against the interpreter and the second tier:
 * stacks near and across a page end, a not-present page part-way through a run (#PF at the push
 * that reaches it, the ones before it done), an unaligned stack, PUSH/POP ESP beside a run, a run
 * that stores into the code it runs, and every budget through a run.
 */
import { describe, expect, it } from 'vitest';
import { CpuSeg } from './segments.ts';
import { CODE, PT, stubVector } from './test/env.ts';
import { HLT, le, records, runWith, same, twin } from './test/tiers.ts';

const setEsp = (v: number) => [0xbc, ...le(v)]; // mov esp, imm32
const regs = [0xb8, ...le(0x11111111), 0xbb, ...le(0x33333333), 0xb9, ...le(0x22222222)];
const regs2 = [
  0xba,
  ...le(0x44444444),
  0xbe,
  ...le(0x66666666),
  0xbf,
  ...le(0x77777777),
  0xbd,
  ...le(0x55555555),
];
/** push eax, ebx, ecx, edx, esi, edi, ebp (7: runs of 4 and 3) then pops in another order. */
const body = [
  ...regs,
  ...regs2,
  0x50,
  0x53,
  0x51,
  0x52,
  0x56,
  0x57,
  0x55,
  0x5b,
  0x58,
  0x5a,
  0x5f,
  0x5e,
  0x5b,
  0x59,
];

describe('PUSH/POP r32 runs as one record', () => {
  it('stacks at every dword offset around a page end: the same as single instructions', () => {
    for (let off = -40; off <= 40; off += 4) {
      const e = twin([...setEsp(0x9000 + off), ...body, 0x89, 0xe5, HLT]);
      expect(e.cpu.halted).toBe(true);
      const seen = records(e);
      expect(seen.get('pushRegs')).toBeGreaterThan(0);
      expect(seen.get('popRegs')).toBeGreaterThan(0);
    }
  });

  it('a not-present page part-way through a run: #PF at the push or pop that reaches it', () => {
    // Ring 3: the fault frame goes to the ring-0 stack (TSS ESP0), not the missing page.
    const hole = 0x70000;
    for (let off = 0; off <= 32; off += 4) {
      for (const pop of [false, true]) {
        // Pushes run down into the hole from above it; pops (after the register setup) run up into
        // it from below.
        const esp = pop ? hole - 16 + off : hole + 0x1000 + 16 - off;
        const code = pop ? [...setEsp(esp), ...regs, ...regs2, ...body.slice(-7)] : [...setEsp(esp), ...body];
        const e = twin([...code, HLT], {
          cpl: 3,
          paging: true,
          setup: (env) => env.dv.setUint32(PT + (hole >>> 12) * 4, 0, true),
        });
        expect(stubVector(e.cpu), `off ${off} pop ${pop}`).toBe(14);
        expect(e.cpu.cr2 >>> 0 >= hole && e.cpu.cr2 >>> 0 < hole + 0x1000).toBe(true);
        // The fault frame (ring-0 stack): error code, EIP, CS, EFLAGS, ESP, SS.
        const f = e.cpu.regs[4];
        const eip = e.dv.getUint32(f + 4, true);
        // The push or pop whose dword is the first in the hole (ESP starts 16 - off bytes away).
        const first = CODE + 5 + regs.length + regs2.length;
        expect(eip, `off ${off} pop ${pop}`).toBe(first + Math.max(0, (16 - off) / 4));
      }
    }
  });

  it('an unaligned stack, PUSH/POP ESP beside runs, a run into the code page', () => {
    twin([...setEsp(0x9002), ...body, HLT]);
    twin([...setEsp(0x9000), ...regs, 0x50, 0x54, 0x53, 0x51, 0x5b, 0x5c, 0x58, 0x59, HLT]);
    // The stack is the code's own page, right after the code: the pushes store into decoded bytes.
    const code = [
      ...setEsp(CODE + 0x200),
      ...regs,
      ...regs2,
      0x50,
      0x53,
      0x51,
      0x52,
      0x58,
      0x5b,
      0x59,
      0x5a,
      HLT,
    ];
    twin(code);
  });

  /** call f; inc eax; hlt; f: push ebx, esi, edi; inc ecx; pop n registers; ret. */
  const epilogue = (pops: number[]) => [
    ...regs,
    0xe8,
    ...le(2),
    0x40,
    HLT,
    0x53,
    0x56,
    0x57,
    0x41,
    ...pops,
    0xc3,
  ];
  it('POPs then RET as one record: near and across a page end, a not-present page, every budget', () => {
    for (const pops of [[0x5f], [0x5f, 0x5e], [0x5f, 0x5e, 0x5b], [0x5f, 0x5e, 0x5b, 0x5a]]) {
      for (let off = -24; off <= 24; off += 4) {
        const e = twin([...setEsp(0x9000 + off), ...epilogue(pops)]);
        expect(e.cpu.halted).toBe(true);
        expect(records(e).get('popsRet')).toBeGreaterThan(0);
      }
      // Ring 3, the page above the stack missing: pops and RET read up into it.
      const hole = 0x70000;
      for (let off = 0; off <= 24; off += 4) {
        const e = twin([...setEsp(hole - 16 + off), ...regs, 0x89, 0xe5, ...pops, 0xc3, HLT], {
          cpl: 3,
          paging: true,
          setup: (env) => env.dv.setUint32(PT + (hole >>> 12) * 4, 0, true),
        });
        // A #PF when a POP or the RET reaches the hole; otherwise RET goes to 0 and runs on.
        if ((16 - off) / 4 <= pops.length) expect(stubVector(e.cpu), `off ${off}`).toBe(14);
      }
    }
    // A return address beyond CS's limit: #GP(0) at the RET, the POPs before it done.
    const far = [...setEsp(0x9000), ...regs, 0x68, ...le(0x50000), 0x53, 0x56, 0x5e, 0x5b, 0xc3, HLT];
    const gp = twin(far, {
      setup: (env) => env.cpu.setSeg(1, 0x08, 0, CODE + 0xfff, CpuSeg.flatAr(true, 0)),
    });
    expect(stubVector(gp.cpu)).toBe(13);
    expect(gp.dv.getUint32(gp.cpu.regs[4] + 4, true)).toBe(CODE + far.length - 2); // the RET
    expect(records(gp).get('popsRet')).toBeGreaterThan(0);
    const code = [...setEsp(0x9000), ...epilogue([0x5f, 0x5e, 0x5b])];
    for (let budget = 1; budget <= 24; budget++) {
      const on = runWith(true, code, { budget });
      const off = runWith(false, code, { budget });
      const jit = runWith('jit', code, { budget });
      expect(on.cpu.getState(), `budget ${budget}`).toEqual(off.cpu.getState());
      expect(jit.cpu.getState(), `budget ${budget} (second tier)`).toEqual(off.cpu.getState());
    }
  });

  it('every budget through the runs stops where the interpreter stops', () => {
    const code = [...setEsp(0x9000), ...body, 0x40, 0x43, HLT];
    for (let budget = 1; budget <= 28; budget++) {
      const on = runWith(true, code, { budget });
      const off = runWith(false, code, { budget });
      const jit = runWith('jit', code, { budget });
      expect(on.cpu.getState(), `budget ${budget}`).toEqual(off.cpu.getState());
      expect(jit.cpu.getState(), `budget ${budget} (second tier)`).toEqual(off.cpu.getState());
      expect(same(on.bus.ram, off.bus.ram)).toBe(true);
    }
  });
});
