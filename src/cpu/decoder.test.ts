/**
 * The interpreter and the opcode table agree: every form the table defines executes without
 * #UD (at CPL 0, flat 32-bit protected mode and in 16-bit code), every undefined one-byte or 0F
 * form raises #UD, and LOCK is accepted exactly on the table's lockable forms.
 */
import { describe, expect, it } from 'vitest';
import { EventKind, MonitorAction } from './interrupts.ts';
import { allForms, isEsc, isGroup, lookup, PREFIXES } from './table.ts';
import { makeCpu } from './test/harness.ts';

function setup() {
  const { cpu, bus } = makeCpu(4 << 20);
  const vectors: number[] = [];
  cpu.monitor = {
    onEvent(ev) {
      if (ev.kind === EventKind.Exception) vectors.push(ev.vector);
      return MonitorAction.Stop;
    },
  };
  return { cpu, bus, vectors };
}

/** Run `bytes` once at 0x1000 and return the first exception vector (or -1). */
function exec(bytes: number[], code32 = true): number {
  const { cpu, bus, vectors } = setup();
  bus.ram.set(bytes, 0x1000);
  bus.ram.fill(0x90, 0x1000 + bytes.length, 0x1000 + bytes.length + 16);
  if (code32)
    cpu.enterProtectedFlat(0x1000, {
      esp: 0x8000,
      eax: 0x3000,
      ebx: 0x3000,
      esi: 0x3000,
      edi: 0x3000,
      ecx: 1,
    });
  else cpu.enterReal(0, 0x1000, { esp: 0x8000, eax: 0x3000, ebx: 0x3000, esi: 0x3000, edi: 0x3000, ecx: 1 });
  cpu.idtLimit = 0x7ff;
  cpu.gdtLimit = 0x1f;
  cpu.run(1);
  return vectors.length ? vectors[0] : -1;
}

describe('decoder table ⇔ interpreter', () => {
  it('every table form executes without #UD', () => {
    const bad: string[] = [];
    for (const [op, two, reg, info] of allForms()) {
      if (info.mnemonic === 'ud2') continue;
      const needsMem = info.operands.some((o) => /^M/.test(o));
      const modrm = reg >= 0 || info.modrm ? (needsMem ? 0x00 : 0xc0) | (Math.max(reg, 0) << 3) : -1;
      const bytes = [...(two ? [0x0f] : []), op, ...(modrm >= 0 ? [modrm] : []), 0, 0, 0, 0, 0, 0];
      if (two && op >= 0x20 && op <= 0x23) bytes[2] = 0xc0; // MOV CR0/DR0
      const v = exec(bytes, !info.pmOnly ? op % 2 === 0 : true);
      if (v === 6)
        bad.push(`${two ? '0f ' : ''}${op.toString(16)}${reg >= 0 ? `/${reg}` : ''} ${info.mnemonic}`);
    }
    expect(bad).toEqual([]);
  });

  it('every undefined form raises #UD', () => {
    const bad: string[] = [];
    for (const two of [false, true]) {
      for (let op = 0; op < 256; op++) {
        if (!two && (PREFIXES.has(op) || op === 0x0f || isEsc(op))) continue;
        if (two && (op === 0x1f || (op >= 0x18 && op <= 0x1e) || op === 0x0d)) continue; // hint NOPs
        const regs = isGroup(op, two) ? [0, 1, 2, 3, 4, 5, 6, 7] : [0];
        for (const r of regs) {
          if (lookup(op, two, r)) continue;
          const bytes = [...(two ? [0x0f] : []), op, 0xc0 | (r << 3), 0, 0, 0, 0];
          const v = exec(bytes);
          if (v !== 6) bad.push(`${two ? '0f ' : ''}${op.toString(16)}/${r}: vector ${v}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('LOCK: accepted on lockable memory forms, #UD elsewhere', () => {
    expect(exec([0xf0, 0x01, 0x00])).toBe(-1); // lock add [eax], eax
    expect(exec([0xf0, 0x0f, 0xab, 0x00])).toBe(-1); // lock bts [eax], eax
    expect(exec([0xf0, 0x01, 0xc0])).toBe(6); // lock add eax, eax (register destination)
    expect(exec([0xf0, 0x8b, 0x00])).toBe(6); // lock mov eax, [eax]
    expect(exec([0xf0, 0x39, 0x00])).toBe(6); // lock cmp [eax], eax
    expect(exec([0xf0, 0x90])).toBe(6); // lock nop
  });
});
