/**
 * Test helpers: boot the teaching guests natively (the physical Pc) and under the VMM, collecting
 * each console. Test-only (imported by *.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadMultiboot, loadRaw } from '../../machine/loaders/index.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import { Pc } from '../../machine/pc.ts';
import type { HvRunnerResult } from '../vmm/runner.ts';
import { createTrapAndEmulateRunner, type TrapAndEmulateRunner } from './runner.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');

export function guestFile(rel: string): Uint8Array {
  return new Uint8Array(readFileSync(resolve(ROOT, 'guests', rel)));
}

export function bootImage(kernel: string, memMiB: number, cmdline?: string): BootImage {
  return loadMultiboot(guestFile(kernel), { ramBytes: memMiB * 1024 * 1024, cmdline });
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** Run natively until the machine stops (or `maxTicks`). */
export function runNative(
  boot: BootImage,
  memMiB: number,
  maxTicks = 50_000_000,
  noReboot = false,
): { out: string; state: string; exitCode?: number } {
  const pc = new Pc({ memMiB, noReboot });
  pc.load(boot);
  let out = '';
  let state = 'running';
  let exitCode: number | undefined;
  for (let t = 0; t < maxTicks; t += 1_000_000) {
    const r = pc.runSlice(1_000_000);
    out += text(pc.serialOut[0].take());
    if (r.state !== 'running' || r.stop === 'idle') {
      state = r.stop === 'idle' ? 'idle' : r.state;
      exitCode = r.exitCode;
      break;
    }
  }
  return { out, state, exitCode };
}

export interface TeRun {
  runner: TrapAndEmulateRunner;
  outs: string[];
  result: HvRunnerResult;
}

/** Run under trap-and-emulate with `slice`-sized run() calls until every VM stopped. */
export function runTe(
  boot: BootImage,
  o: { vms?: number; memMiB: number; slice?: number; maxTicks?: number; noReboot?: boolean },
): TeRun {
  const runner = createTrapAndEmulateRunner(
    { vms: o.vms ?? 1, memMiB: o.memMiB, noReboot: o.noReboot ?? true },
    boot,
  );
  const outs = Array.from({ length: runner.vmCount }, () => '');
  const slice = o.slice ?? 1_000_000;
  let result: HvRunnerResult = { state: 'budget' };
  for (let t = 0; t < (o.maxTicks ?? 100_000_000); t += slice) {
    result = runner.run(slice, false);
    for (let i = 0; i < outs.length; i++) outs[i] += text(runner.takeSerial(i));
    if (result.state !== 'budget') break;
  }
  return { runner, outs, result };
}

/** The whole trap log as JSON Lines. */
export function jsonl(runner: TrapAndEmulateRunner): string {
  let s = '';
  runner.traps.writeJsonLines((c) => {
    s += c;
  });
  return s;
}

let nasmDir: string | null = null;

/** Assemble a flat 32-bit NASM program at 0x100000 (Debian's nasm) into a raw BootImage. */
export function nasmBoot(name: string, source: string, memMiB = 4): BootImage {
  nasmDir ??= mkdtempSync(join(tmpdir(), 'traplab-hv-nasm-'));
  const src = join(nasmDir, `${name}.asm`);
  const out = join(nasmDir, `${name}.bin`);
  writeFileSync(src, `bits 32\norg 0x100000\n${source}`);
  const r = spawnSync('nasm', ['-f', 'bin', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nasm failed for ${name}: ${r.stderr || r.error}`);
  const image = new Uint8Array(readFileSync(out));
  return loadRaw(image, { ramBytes: memMiB * 1024 * 1024, addr: 0x100000, entry: 0x100000 });
}
