/**
 * The CPU object's map does not change while a guest runs (src/cpu/field-reps.ts): in a fresh
 * process, Linux boots until its kernel runs above 2 GiB; the running CPU must still share its map
 * with a CPU built beside it that never ran (V8's %HaveSameMap, in a child process with
 * --allow-natives-syntax). Without field-reps.ts the CPU's `eip` alone turns into a double there
 * and the check fails. settleFields itself must leave every value as it was.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CPU_SIGNED_FIELDS, CPU_UNSIGNED_FIELDS, CPU_WIDE_FIELDS, settleFields } from '../cpu/field-reps.ts';
import { Pc } from './pc.ts';

describe('the CPU object keeps its map', () => {
  it('through a Linux boot past the kernel running at ≥ 2 GiB (child process, %HaveSameMap)', () => {
    const child = resolve(import.meta.dirname, 'cpu-map-child.ts');
    const r = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', child, '500000'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, number | boolean>;
    expect(out.eip as number).toBeGreaterThanOrEqual(0x80000000);
    expect(out.highAt as number).toBeGreaterThan(0);
    expect(out).toMatchObject({ poked: true, cpu: true, event: true, blocks: true, code: true });
  }, 130_000);

  it('settleFields keeps every value and refuses a wide name that is not a number field', () => {
    const cpu = new Pc({ memMiB: 4, noReboot: true }).cpu as unknown as Record<string, unknown>;
    cpu.eip = 0x1234;
    cpu.cr0 = 0x80000011;
    cpu.halted = true;
    const before = Object.entries(cpu).filter(([, v]) => typeof v !== 'object' && typeof v !== 'function');
    // Both lists, whatever this V8's Smis: the browser widens the signed fields too.
    settleFields(cpu, [...CPU_UNSIGNED_FIELDS, ...CPU_SIGNED_FIELDS]);
    settleFields(cpu, CPU_WIDE_FIELDS);
    const after = Object.entries(cpu).filter(([, v]) => typeof v !== 'object' && typeof v !== 'function');
    expect(after).toEqual(before);
    expect(before.length).toBeGreaterThan(60);
    expect(() => settleFields(cpu, ['regs'])).toThrow(/regs is not a number field/);
    expect(() => settleFields(cpu, ['noSuchField'])).toThrow(/noSuchField/);
  });
});
