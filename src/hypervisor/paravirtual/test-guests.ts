/**
 * Test helpers for the paravirtual technique: boot minikernel-pv (and the native minikernel for
 * comparison), drive the shell, assemble the small PV test guest. Test-only (imported by *.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadMultiboot, loadRaw } from '../../machine/loaders/index.ts';
import type { BootImage } from '../../machine/loaders/types.ts';
import type { HvRunnerResult } from '../vmm/runner.ts';
import type { TrapLog } from '../vmm/trap-log.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..', '..');

export function kernel(rel: string, memMiB: number): BootImage {
  return loadMultiboot(new Uint8Array(readFileSync(resolve(ROOT, 'guests', rel))), {
    ramBytes: memMiB << 20,
  });
}

/** The PV test guest in testdata/, assembled with Debian's nasm into a raw image at 1 MiB. */
export function pvTestGuest(name: string, memMiB = 8): BootImage {
  const dir = mkdtempSync(join(tmpdir(), 'traplab-pv-'));
  const out = join(dir, `${name}.bin`);
  const r = spawnSync(
    'nasm',
    ['-f', 'bin', '-o', out, resolve(import.meta.dirname, 'testdata', `${name}.asm`)],
    {
      encoding: 'utf8',
    },
  );
  if (r.status !== 0) throw new Error(`nasm failed for ${name}: ${r.stderr || r.error}`);
  return loadRaw(new Uint8Array(readFileSync(out)), {
    ramBytes: memMiB << 20,
    addr: 0x100000,
    entry: 0x100000,
  });
}

/** What a test needs from a runner (native Pc wrappers and VMM runners alike). */
export interface Drivable {
  readonly vmCount: number;
  run(budget: number, stopOnTrap: boolean): HvRunnerResult;
  takeSerial(vm: number): Uint8Array;
  sendSerial(vm: number, bytes: Uint8Array): void;
}

export interface ShellRun {
  /** Everything each VM printed. */
  outs: string[];
  /** Per VM: the console before the first prompt, then each command's reply. */
  replies: string[][];
  result: HvRunnerResult;
}

/**
 * Boot to `mini$ `, type each VM's commands (one per prompt), then `exit`; run until every VM has
 * stopped or `maxTicks` passed. `slice` is the host's run() budget (it must not change the result).
 */
export function driveShell(
  r: Drivable,
  commands: string[][],
  slice = 1_000_000,
  maxTicks = 400_000_000,
): ShellRun {
  const n = r.vmCount;
  const outs = Array.from({ length: n }, () => '');
  const queues = commands.map((c) => [...c, 'exit']);
  const prompts = new Array(n).fill(0);
  let result: HvRunnerResult = { state: 'budget' };
  for (let t = 0; t < maxTicks; t += slice) {
    result = r.run(slice, false);
    for (let i = 0; i < n; i++) {
      outs[i] += Buffer.from(r.takeSerial(i)).toString('latin1');
      const seen = outs[i].split('mini$ ').length - 1;
      if (seen > prompts[i] && queues[i]?.length) {
        prompts[i] = seen;
        r.sendSerial(i, new TextEncoder().encode(`${queues[i].shift()}\r`));
      }
    }
    if (result.state !== 'budget' && result.state !== 'idle') break;
  }
  const replies = outs.map((o) => o.split('mini$ '));
  return { outs, replies, result };
}

/** The whole trap log as JSON Lines. */
export function jsonl(log: TrapLog): string {
  let s = '';
  log.writeJsonLines((c) => {
    s += c;
  });
  return s;
}

/** Lines of the boot that name the platform (they differ between native and paravirtual by design). */
export const PLATFORM_LINE = /^(minikernel 1\.0:|\[mini\] (cpu|pic|events|memory|uart|console):)/;

/** A reply with numbers, process states and runs of spaces folded (they depend on timing). */
export function shape(s: string): string {
  return s
    .replace(/\r/g, '')
    .replace(/\b(ready|running|sleeping|blocked|exited\(-?\d+\))(?= )/g, 'STATE')
    .replace(/-?\d+(\.\d+)?/g, 'N')
    .replace(/ +/g, ' ');
}
