/**
 * The system-package step (`ensure-system-deps.sh`, run first by `npm test`) on a machine where apt
 * is busy: it must hand apt its own lock timeout, and when it still cannot install, print ONE
 * message naming the packages and the command to run (issue 11: a busy dpkg lock used to surface
 * as ~25 unrelated test failures). Run in a sandbox PATH holding only the tools the script uses,
 * with a fake `apt-get` that answers like apt does when another process holds the dpkg lock.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..');
let dir = '';
let bin = '';

function tool(name: string, body: string): void {
  const p = join(bin, name);
  writeFileSync(p, `#!${join(bin, 'bash')}\n${body}\n`);
  chmodSync(p, 0o755);
}

function run(args: string[]) {
  return spawnSync(join(bin, 'bash'), ['scripts/ensure-system-deps.sh', ...args], {
    cwd: root,
    env: { PATH: bin, TRAPLAB_APT_WAIT: '0', APT_LOG: join(dir, 'apt.log') },
    encoding: 'utf8',
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'traplab-deps-'));
  bin = join(dir, 'bin');
  execFileSync('mkdir', [bin]);
  // Real coreutils the script needs, and nothing else: nasm, gcc, ld, chromium and fuser are absent.
  for (const t of ['bash', 'mktemp', 'grep', 'tail', 'rm', 'sleep', 'cat']) {
    const real = execFileSync('bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).trim();
    symlinkSync(real, join(bin, t));
  }
  tool('id', 'echo 0'); // root: the script installs instead of only printing the command
  tool('dpkg', 'exit 1'); // gcc-multilib not installed
  tool(
    'apt-get',
    [
      'echo "$*" >> "$APT_LOG"',
      'echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)" >&2',
      'exit 100',
    ].join('\n'),
  );
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('ensure-system-deps.sh with apt busy', () => {
  it('--check names the missing packages and installs nothing', () => {
    const r = run(['test', '--check']);
    expect(r.status).toBe(1);
    expect(r.stdout.trim()).toBe('nasm gcc-multilib binutils chromium');
  });

  it('waits on the lock through apt itself, then fails with one message naming packages and command', () => {
    const r = run(['test']);
    expect(r.status).toBe(1);
    // apt-get was asked to wait for the dpkg lock (DPkg::Lock::Timeout), not to fail at once.
    const calls = readFileSync(join(dir, 'apt.log'), 'utf8').trim().split('\n');
    expect(calls[0]).toMatch(/^-q -o DPkg::Lock::Timeout=\d+ update/);
    const err = r.stderr.trim().split('\n');
    expect(err).toEqual([
      'traplab: missing Debian packages: nasm gcc-multilib binutils chromium — apt-get failed after 1 attempt(s): E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)',
      'traplab: install them with: sudo apt-get install -y nasm gcc-multilib binutils chromium',
    ]);
  });
});
