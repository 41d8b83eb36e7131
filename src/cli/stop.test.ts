/**
 * "Stop always works" (issue 16): a guest that never makes progress — an exception storm, a trap
 * storm under the VMM — must still end promptly at --max-instructions and on SIGTERM/SIGINT.
 * The hostile guests live in guests/hostile/ (built from source by its build.sh).
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'traplab.mjs');
const guest = (f: string) => join(ROOT, 'guests', 'hostile', f);

interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from the guest's "storm: go" line (or from the signal) to the process exit. */
  ms: number;
}

/** Run traplab; once `go` appears on stdout, wait `settleMs` and send `signal` (if any). */
function runUntilExit(args: string[], signal: NodeJS.Signals | null, settleMs = 300): Promise<Ended> {
  return new Promise((done, fail) => {
    const p = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, TRAPLAB_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let t0 = -1;
    const killer = setTimeout(() => p.kill('SIGKILL'), 30_000); // never hang the test run
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      if (t0 < 0 && stdout.includes('storm: go')) {
        if (signal === null) t0 = performance.now();
        else
          setTimeout(() => {
            t0 = performance.now();
            p.kill(signal);
          }, settleMs);
      }
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('latin1');
    });
    p.on('error', fail);
    p.on('exit', (code) => {
      clearTimeout(killer);
      done({ code, stdout, stderr, ms: t0 < 0 ? Number.POSITIVE_INFINITY : performance.now() - t0 });
    });
  });
}

const STORMS = [
  { name: 'exception storm (#UD handler is UD2), native', kernel: 'storm-ud.elf', technique: 'native' },
  { name: 'exception storm, trap-and-emulate', kernel: 'storm-ud.elf', technique: 'trap-and-emulate' },
  {
    name: 'trap storm (INT3 handler is INT3), trap-and-emulate',
    kernel: 'storm-int3.elf',
    technique: 'trap-and-emulate',
  },
];

describe('stop always works on a guest that never progresses', () => {
  for (const s of STORMS) {
    const base = ['run', '--kernel', guest(s.kernel), '--technique', s.technique];

    it(`${s.name}: --max-instructions ends it (124) within a second`, async () => {
      const r = await runUntilExit([...base, '--max-instructions', '4000', '--stats'], null);
      expect(r.code).toBe(124);
      expect(r.stderr).toMatch(/stopped after \d+ instructions.* \(--max-instructions\)/);
      // Instructions and event deliveries together reach the limit exactly.
      const ins = Number(/^instructions\s+(\d+)$/m.exec(r.stderr)?.[1]);
      const ev = Number(/and (\d+) exception\/interrupt deliveries/.exec(r.stderr)?.[1] ?? 0);
      expect(ins + ev).toBe(4000);
      expect(r.ms).toBeLessThan(1000);
    }, 40_000);

    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      it(`${s.name}: ${sig} ends it within a second`, async () => {
        const r = await runUntilExit(base, sig);
        expect(r.code).toBe(sig === 'SIGTERM' ? 143 : 130);
        expect(r.stderr).toContain(`interrupted (${sig})`);
        expect(r.ms).toBeLessThan(1000);
      }, 40_000);
    }
  }
});
