// Session.dispose hands a native machine's buffers (RAM, TLB, block cache) to the next Session
// (cpu/fresh-buffer.ts). Reuse must be invisible: every byte the first machine wrote is zero again
// before the buffer is pooled, and the next machine, running on the reused buffers, ends in exactly
// the state the first one reached on fresh ones.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pooledBuffers } from '../cpu/fresh-buffer.ts';
import type { Cpu } from '../cpu/index.ts';
import type { NativeRunner } from './native.ts';
import { Session } from './session.ts';
import { SessionError } from './types.ts';

const guests = join(import.meta.dirname, '../../guests');
const manifest = JSON.parse(readFileSync(join(guests, 'manifest.json'), 'utf8')) as {
  guests: { id: string; files: Record<string, string>; cmdline?: string }[];
};
const linux = manifest.guests.find((g) => g.id === 'linux');

/** Past the kernel's LZ4 decompression into start_kernel: REP MOVS, byte stores, paging on. */
const INSTRUCTIONS = 12_000_000;

function allZero(buf: ArrayBuffer): boolean {
  const w = new Int32Array(buf);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  return true;
}

/** FNV-1a over RAM, 32 bits at a time. */
function ramHash(s: Session): number {
  const ram = ((s as unknown as { runner: NativeRunner }).runner.pc.cpu as unknown as Cpu).ram;
  const w = new Int32Array(ram.buffer, ram.byteOffset, ram.byteLength >>> 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i]!, 0x01000193);
  return h >>> 0;
}

function boot(): { s: Session; serial: string } {
  if (!linux) throw new Error('no linux in guests/manifest.json');
  const s = new Session({
    guest: {
      kind: 'kernel',
      kernel: new Uint8Array(readFileSync(join(guests, linux.files.kernel!))),
      initrd: new Uint8Array(readFileSync(join(guests, linux.files.initrd!))),
      cmdline: linux.cmdline,
    },
    technique: 'native',
    vms: 1,
    memMiB: 64,
    noReboot: true,
  });
  let serial = '';
  while (s.instructions < INSTRUCTIONS) {
    const st = s.run(Math.min(1_000_000, INSTRUCTIONS - s.instructions));
    serial += new TextDecoder().decode(s.takeSerial(0));
    expect(st.state).toBe('running');
  }
  return { s, serial };
}

describe('recycled machine buffers', () => {
  it('are zero when pooled, and a Linux boot on them ends exactly where one on fresh buffers does', () => {
    for (const b of pooledBuffers()) expect(allZero(b)).toBe(true);
    const a = boot();
    const first = { snap: a.s.snapshot(), ram: ramHash(a.s), serial: a.serial, n: a.s.instructions };
    const before = pooledBuffers().length;
    a.s.dispose();
    const pooled = pooledBuffers();
    // RAM (with the memory map), the TLB tables and the block cache.
    expect(pooled.length).toBe(before + 3);
    for (const b of pooled) expect(allZero(b)).toBe(true);
    // A disposed session says so instead of running on buffers another session now owns.
    expect(() => a.s.snapshot()).toThrow(SessionError);
    expect(a.s.run(1000).state).toBe('stopped');

    const b = boot();
    expect(pooledBuffers().length).toBe(before);
    expect(b.s.instructions).toBe(first.n);
    expect(b.serial).toBe(first.serial);
    expect(b.s.snapshot()).toEqual(first.snap);
    expect(ramHash(b.s)).toBe(first.ram);
    b.s.dispose();
  }, 60_000);
});
