// minikernel under QEMU, an independent oracle: boot, drive the shell through every command,
// check what each prints, and check that `exit` powers off through isa-debug-exit with status 0.
// QEMU is optional (large); the test skips without it. No wall-clock assertions: only timeouts.
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const elf = join(import.meta.dirname, 'minikernel.elf');
const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-i386']).status === 0;

interface Session {
  /** Console output of each command (between its prompt and the next), by command. */
  replies: string[];
  boot: string;
  tail: string;
  status: number | null;
}

function session(cpu: string, commands: string[]): Promise<Session> {
  return new Promise((resolve, reject) => {
    const q = spawn('qemu-system-i386', [
      '-cpu',
      cpu,
      '-kernel',
      elf,
      '-device',
      'isa-debug-exit,iobase=0xf4,iosize=0x04',
      '-serial',
      'stdio',
      '-display',
      'none',
      '-monitor',
      'none',
      '-no-reboot',
    ]);
    const timer = setTimeout(() => {
      q.kill();
      reject(new Error(`timed out; console so far:\n${out}`));
    }, 90_000);
    let out = '';
    let consumed = 0;
    const chunks: string[] = [];
    const queue = [...commands, 'exit'];
    q.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      for (;;) {
        const at = out.indexOf('mini$ ', consumed);
        if (at < 0 || queue.length === 0) break;
        chunks.push(out.slice(consumed, at));
        consumed = at + 6;
        q.stdin.write(`${queue.shift()}\r`);
      }
    });
    q.on('close', (status) => {
      clearTimeout(timer);
      chunks.push(out.slice(consumed));
      const [boot, ...rest] = chunks;
      resolve({ boot, replies: rest.slice(0, commands.length), tail: rest[commands.length] ?? '', status });
    });
  });
}

describe.skipIf(!hasQemu)('minikernel under qemu-system-i386 (oracle)', () => {
  it('boots, runs every shell command and powers off with status 0', async () => {
    const cmds = ['help', 'ps', 'uptime', 'mem', 'cpuid', 'bench', 'bench divzero', 'bench nosuch', 'frob'];
    const s = await session('pentium', cmds);
    const r = Object.fromEntries(cmds.map((c, i) => [c, s.replies[i]]));
    expect(s.boot).toContain('minikernel 1.0');
    expect(s.boot).toContain('[mini] timer: ticking');
    expect(s.boot).toContain('mini shell, pid 1: type help');
    for (const c of ['help', 'ps', 'uptime', 'mem', 'cpuid', 'bench [name]', 'exit'])
      expect(r.help).toContain(c);
    for (const name of ['idle', 'shell', 'primes', 'pager', 'counter'])
      expect(r.ps).toMatch(new RegExp(`\\d+ ${name} `));
    expect(r.ps).toMatch(/1 shell\s+running/);
    expect(r.uptime).toMatch(/up \d+\.\d\d s \(\d+ timer ticks of 10 ms\)/);
    expect(r.mem).toMatch(/frames managed:\s+\d+/);
    expect(r.mem).toMatch(/demand-zero page faults:\s+[1-9]/); // at least the processes' stacks
    expect(r.cpuid).toMatch(/family 5/);
    expect(r.cpuid).toContain(' tsc');
    for (const b of ['syscall', 'in', 'cr-write', 'call/ret', 'pgfault', 'divzero', 'ptemod'])
      expect(r.bench).toMatch(new RegExp(`\\n  ${b.replace('/', '\\/')} +\\d+\\.\\d cycles/op`));
    expect(r['bench divzero']).toMatch(/^bench divzero\r\n {2}divzero +\d+\.\d cycles\/op/);
    expect(r['bench nosuch']).toContain("unknown benchmark 'nosuch'");
    expect(r.frob).toContain('frob: unknown command');
    expect(s.tail).toContain('[mini] the shell (pid 1) exited with status 0: powering off');
    expect(s.status).toBe(1); // isa-debug-exit: (0 << 1) | 1
  });

  it('on a 486 without a TSC, bench says so instead of faulting', async () => {
    const s = await session('486', ['bench']);
    expect(s.replies[0]).toContain('no time-stamp counter');
    expect(s.status).toBe(1);
  });
});

// On TrapLab's own machine (the `native` technique), typed in through the CLI's --wait-for/--send.
describe('minikernel on TrapLab (native)', () => {
  it('boots to the shell, runs ps and bench, and powers off with status 0', () => {
    const cli = join(import.meta.dirname, '..', '..', 'bin', 'traplab.mjs');
    const steps = ['ps', 'bench', 'exit'].flatMap((c) => ['--wait-for', 'mini$ ', '--send', `${c}\\r`]);
    const r = spawnSync('node', [cli, 'run', '--guest', 'minikernel', '--no-reboot', ...steps], {
      timeout: 120_000,
      input: '',
    });
    const out = r.stdout.toString('latin1');
    expect(out).toContain('[mini] timer: ticking');
    expect(out).toMatch(/1 shell\s+running/);
    for (const b of ['syscall', 'in', 'cr-write', 'call/ret', 'pgfault', 'divzero', 'ptemod'])
      expect(out).toMatch(new RegExp(`\\n  ${b.replace('/', '\\/')} +\\d+\\.\\d cycles/op`));
    expect(out).toContain('[mini] the shell (pid 1) exited with status 0: powering off');
    expect(r.status).toBe(1);
  });
});
