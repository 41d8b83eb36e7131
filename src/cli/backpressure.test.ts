/**
 * `yes | traplab run --guest minikernel` (issue 16): piped stdin reaches the guest only as its UART
 * takes it, so traplab stops reading a fast pipe instead of buffering it without limit (it once
 * grew to 2 GB and V8 aborted). The writer here pushes as fast as the pipe accepts; what traplab
 * took in a few seconds must stay small, and the guest must have seen some of it.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nasmFile } from '../session/test-nasm.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'traplab.mjs');

/** Spawn traplab, wait for `ready` on stdout, push stdin as fast as the pipe takes it for 3 s. */
async function flood(
  args: string[],
  ready: string,
): Promise<{ accepted: number; out: string; err: string; code: number | null }> {
  const p = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, TRAPLAB_DEBUG: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString('latin1');
    if (out.length > 1 << 20) out = out.slice(-4096);
  });
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString('latin1');
  });
  p.stdin.on('error', () => {}); // EPIPE once it exits
  const exited = new Promise<number | null>((res) => p.on('exit', (c) => res(c)));
  const chunk = Buffer.from('y\n'.repeat(32 * 1024));
  let accepted = 0;
  let writing = true;
  const pump = () => {
    while (writing && p.stdin.write(chunk)) accepted += chunk.length;
    if (writing) {
      accepted += chunk.length; // the last write was queued too
      p.stdin.once('drain', pump);
    }
  };
  await new Promise<void>((res) => {
    const t = setInterval(() => {
      if (out.includes(ready) || err.length > 0) {
        clearInterval(t);
        res();
      }
    }, 20);
  });
  pump();
  await new Promise((r) => setTimeout(r, 3000));
  writing = false;
  p.kill('SIGTERM');
  const code = await exited;
  return { accepted, out, err, code };
}

// Prints "go" and then spins without ever reading its UART.
const DEAF = `
    mov dx, 0x3F8
    mov al, 'g'
    out dx, al
    mov al, 'o'
    out dx, al
spin:
    jmp spin
`;

describe('piped stdin backpressure', () => {
  it('stops reading the pipe when the guest does not consume its input', async () => {
    const deaf = nasmFile('deaf', DEAF);
    const r = await flood(['run', '--raw', `${deaf}@0x100000`, '--entry', '0x100000'], 'go');
    expect(r.err).toContain('interrupted (SIGTERM)');
    expect(r.code).toBe(143);
    // The pipe's buffer, the console's queue (256 KiB) and the UART window (4 KiB) — once all of
    // traplab read everything the writer made (megabytes per second, without limit).
    expect(r.accepted).toBeLessThan(1024 * 1024);
  }, 60_000);

  it('yes | traplab run --guest minikernel: the shell gets input, traplab stays bounded', async () => {
    const r = await flood(['run', '--guest', 'minikernel'], 'mini');
    expect(r.code).toBe(143);
    expect(r.out).toMatch(/y/); // the shell saw (and echoed) some of the input
    expect(r.accepted).toBeLessThan(16 * 1024 * 1024);
  }, 60_000);
});
