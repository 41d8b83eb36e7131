// The committed guest images must be exactly what `npm run guests` builds from source, and the
// manifest must describe real files. (The Linux guest is rebuilt separately: guests/linux.)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const guestsDir = join(import.meta.dirname, '..', 'guests');
const buildable = readdirSync(guestsDir).filter((d) => existsSync(join(guestsDir, d, 'build.sh')));

interface ManifestGuest {
  id: string;
  title: string;
  description: string;
  techniques: string[];
  machine?: string;
  files: Record<string, string>;
}
const manifest = JSON.parse(readFileSync(join(guestsDir, 'manifest.json'), 'utf8')) as {
  guests: ManifestGuest[];
};

describe('guest images', () => {
  it('has at least the hello guest buildable', () => {
    expect(buildable).toContain('hello');
  });

  for (const id of buildable) {
    it(`rebuilds ${id} byte-for-byte`, () => {
      const out = mkdtempSync(join(tmpdir(), `traplab-guest-${id}-`));
      try {
        execFileSync('bash', [join(guestsDir, id, 'build.sh'), out], { stdio: 'pipe' });
        const built = readdirSync(out);
        expect(built.length).toBeGreaterThan(0);
        for (const f of built) {
          const committed = join(guestsDir, id, f);
          expect(existsSync(committed), `${id}/${f} is built but not committed`).toBe(true);
          expect(readFileSync(join(out, f)).equals(readFileSync(committed)), `${id}/${f} differs`).toBe(true);
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    });
  }
});

describe('guests/manifest.json', () => {
  const techniques = ['native', 'trap-and-emulate', 'binary-translation', 'paravirtual', 'hardware-assisted'];
  it('lists unique ids with a title, a description and known techniques', () => {
    const ids = manifest.guests.map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const g of manifest.guests) {
      expect(g.title.length, g.id).toBeGreaterThan(3);
      expect(g.description.length, g.id).toBeGreaterThan(80);
      expect(g.techniques.length, g.id).toBeGreaterThan(0);
      for (const t of g.techniques) expect(techniques, g.id).toContain(t);
      // The CLI's --machine names (src/cli/args.ts MACHINES).
      if (g.machine !== undefined)
        expect(['pc', 'pc-fpu', 'pc-apic', 'pc-fpu-apic'], g.id).toContain(g.machine);
    }
  });
  it('points only at files that exist', () => {
    for (const g of manifest.guests) {
      const files = Object.values(g.files);
      expect(files.length, g.id).toBeGreaterThan(0);
      for (const f of files) expect(existsSync(join(guestsDir, f)), `${g.id}: ${f}`).toBe(true);
    }
  });
});

// QEMU is an independent oracle for our own guests; it is not installed by the test setup (it is
// large), so this check runs where a developer has it: apt-get install qemu-system-x86.
const hasQemu = spawnSync('sh', ['-c', 'command -v qemu-system-i386']).status === 0;
describe.skipIf(!hasQemu)('hello under qemu-system-i386 (oracle)', () => {
  it('prints the greeting and exits through isa-debug-exit with status (0 << 1) | 1', () => {
    const r = spawnSync(
      'qemu-system-i386',
      [
        '-kernel',
        join(guestsDir, 'hello', 'hello.elf'),
        '-device',
        'isa-debug-exit,iobase=0xf4,iosize=0x04',
        '-serial',
        'stdio',
        '-display',
        'none',
        '-monitor',
        'none',
        '-no-reboot',
      ],
      { timeout: 30_000 },
    );
    expect(r.stdout.toString()).toContain('Hello from TrapLab!');
    expect(r.status).toBe(1);
  });
});
