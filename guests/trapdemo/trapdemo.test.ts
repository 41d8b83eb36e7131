// trapdemo under QEMU, an independent oracle: the console must be exactly expected-output.txt
// (which is also what TrapLab must print under `native` and `trap-and-emulate`), and the memory
// probe must see exactly its own RAM. QEMU is optional (large); the tests skip without it.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = import.meta.dirname;
const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-i386']).status === 0;

function qemu(extra: string[]): { out: string; status: number | null } {
  const r = spawnSync(
    'qemu-system-i386',
    [
      '-kernel',
      join(dir, 'trapdemo.elf'),
      '-device',
      'isa-debug-exit,iobase=0xf4,iosize=0x04',
      '-serial',
      'stdio',
      '-display',
      'none',
      '-monitor',
      'none',
      '-no-reboot',
      ...extra,
    ],
    { timeout: 60_000 },
  );
  return { out: r.stdout.toString('latin1'), status: r.status };
}

describe.skipIf(!hasQemu)('trapdemo under qemu-system-i386 (oracle)', () => {
  it('prints exactly the expected lines on a 486 and a Pentium, and exits with status (0 << 1) | 1', () => {
    const expected = readFileSync(join(dir, 'expected-output.txt'), 'latin1');
    for (const cpu of ['486', 'pentium']) {
      const r = qemu(['-cpu', cpu]);
      expect(r.out).toBe(expected);
      expect(r.status).toBe(1);
    }
    expect(expected).toContain(
      '[trapdemo] page fault: write to 0x00400000 faulted, CR2=0x00400000 error=0x00000002',
    );
    expect(expected.trimEnd().endsWith('[trapdemo] done')).toBe(true);
  });

  it('probe: with 16 MiB it sees its three whole 4 MiB frames of RAM and nothing tagged by others', () => {
    const r = qemu(['-cpu', '486', '-m', '16', '-append', 'probe']);
    expect(r.out).toContain('[trapdemo] probe: 0x00000000-0x00BFFFFF own RAM (our tags) (3 frames)');
    expect(r.out).toMatch(/probe: frames with data \d+ of 1024 \(own 3, foreign 0,/);
    expect(r.out).toContain('probe: isolation ok');
    expect(r.out).toMatch(/probe: checksum 0x[0-9A-F]{8}\r\n/);
    expect(r.status).toBe(1);
  });

  it('probe only runs when the command line has the word "probe"', () => {
    const r = qemu(['-cpu', '486', '-append', 'noprobe probes']);
    expect(r.out).not.toContain('probe:');
    expect(r.status).toBe(1);
  });
});

// The same program on TrapLab's own machine (the `native` technique) must print the same bytes.
const cli = join(dir, '..', '..', 'bin', 'traplab.mjs');
describe('trapdemo on TrapLab (native)', () => {
  it('prints exactly expected-output.txt and exits with status (0 << 1) | 1', () => {
    const r = spawnSync('node', [cli, 'run', '--guest', 'trapdemo', '--no-reboot'], { timeout: 120_000 });
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString('latin1')).toBe(readFileSync(join(dir, 'expected-output.txt'), 'latin1'));
    expect(r.status).toBe(1);
  });

  it('trapdemo-probe sees exactly its own RAM (64 MiB) and all-ones beyond', () => {
    const r = spawnSync('node', [cli, 'run', '--guest', 'trapdemo-probe', '--no-reboot'], {
      timeout: 120_000,
    });
    const out = r.stdout.toString('latin1');
    expect(out).toContain('[trapdemo] probe: 0x00000000-0x03FFFFFF own RAM (our tags) (16 frames)');
    expect(out).toContain('[trapdemo] probe: 0x04000000-0xFFFFFFFF all-ones (nothing there) (1008 frames)');
    expect(out).toContain('probe: isolation ok');
    expect(r.status).toBe(1);
  });
});
