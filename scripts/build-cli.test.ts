// The CLI runs a prebuilt bundle (scripts/build-cli.mjs); a bundle older than src/ must be noticed
// and rebuilt before it runs, so a call never runs stale code.
import { spawnSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without type declarations
import { buildCli, bundleFresh, bundlePath, newestSource } from './build-cli.mjs';

const ROOT = join(import.meta.dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'traplab-build-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the CLI bundle', () => {
  it('takes the newest CLI source, ignoring tests and the UI', () => {
    const file = (rel: string, secs: number) => {
      const p = join(tmp, rel);
      mkdirSync(join(p, '..'), { recursive: true });
      writeFileSync(p, '');
      utimesSync(p, secs, secs);
    };
    file('a.ts', 1_000);
    file('sub/deep/c.ts', 2_000);
    file('sub/c.test.ts', 9_000);
    file('ui/view.ts', 9_000);
    file('notes.md', 9_000);
    expect(newestSource(tmp)).toBe(2_000_000);
  });

  it('is rebuilt when older than src/, then runs hello like the sources do', async () => {
    if (!bundleFresh()) await buildCli();
    expect(bundleFresh()).toBe(true);
    // Age the bundle: a source is now newer.
    utimesSync(bundlePath, 1, 1);
    expect(bundleFresh()).toBe(false);
    const r = spawnSync(process.execPath, [join(ROOT, 'bin', 'traplab.mjs'), 'run', '--guest', 'hello'], {
      encoding: 'latin1',
      input: '',
      timeout: 60_000,
    });
    expect(r.stdout).toBe('Hello from TrapLab! This guest runs in 32-bit protected mode.\r\n');
    expect(r.status).toBe(1); // the guest wrote 0 to port 0xF4
    // Piped stderr carries no bundle note (notes are for a terminal).
    expect(r.stderr).toBe('');
    expect(statSync(bundlePath).mtimeMs).toBeGreaterThan(1_000);
    expect(bundleFresh()).toBe(true);
  });

  it('runs through a V8 code cache named by the bundle, and survives a cache V8 rejects', () => {
    const hello = () =>
      spawnSync(process.execPath, [join(ROOT, 'bin', 'traplab.mjs'), 'run', '--guest', 'hello'], {
        encoding: 'latin1',
        input: '',
        timeout: 60_000,
      });
    const caches = () => readdirSync(dirname(bundlePath)).filter((f) => f.endsWith('.v8cache'));
    for (const f of caches()) rmSync(join(dirname(bundlePath), f));
    const first = hello();
    // The run (compiling from scratch) made the cache of this bundle.
    expect(caches()).toHaveLength(1);
    const cache = join(dirname(bundlePath), caches()[0]!);
    const bytes = readFileSync(cache);
    expect(bytes.length).toBeGreaterThan(10_000);
    // A run that starts from the cache behaves the same and leaves the cache alone.
    const second = hello();
    expect(second.stdout).toBe(first.stdout);
    expect(second.status).toBe(1);
    expect(readFileSync(cache).equals(bytes)).toBe(true);
    // Garbage in the cache (another V8, a torn file): rejected by V8, the run is unaffected, the
    // cache is written again.
    writeFileSync(cache, Buffer.alloc(4096, 0x5a));
    const third = hello();
    expect(third.stdout).toBe(first.stdout);
    expect(third.status).toBe(1);
    expect(third.stderr).toBe('');
    expect(readFileSync(cache).length).toBeGreaterThan(10_000);
  });
});
