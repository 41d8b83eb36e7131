// Under a VMM, Session.dispose recycles the host RAM too (machine/memory.ts release): the VMM
// writes it directly — its own frames (shadow tables, descriptor pages, BT's area and translation
// cache, VMCS and EPT) and each VM's slice (the image, emulated stores, PV start-of-day data) — so
// every such write must be marked (VmmFrames marks each frame it hands out; host-side stores into a
// slice are reported to cpu.codeWritten, which marks them). An unmarked write leaves a non-zero
// byte in the pooled buffer, which the first check sees; the second check is that a run on reused
// buffers ends in exactly the state a run on fresh ones did.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pooledBuffers } from '../cpu/fresh-buffer.ts';
import type { Pc } from '../machine/pc.ts';
import { Session } from './session.ts';
import type { SessionConfig } from './types.ts';

const guests = join(import.meta.dirname, '../../guests');
const elf = (name: string) => new Uint8Array(readFileSync(join(guests, name)));

function allZero(buf: ArrayBuffer): boolean {
  const w = new Int32Array(buf);
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) return false;
  return true;
}

function hostRam(s: Session): Uint8Array {
  return (s as unknown as { runner: { vmm: { pc: Pc } } }).runner.vmm.pc.memory.ram;
}

/** FNV-1a over host RAM, 32 bits at a time. */
function ramHash(s: Session): number {
  const ram = hostRam(s);
  const w = new Int32Array(ram.buffer, ram.byteOffset, ram.byteLength >>> 2);
  let h = 0x811c9dc5;
  for (let i = 0; i < w.length; i++) h = Math.imul(h ^ w[i]!, 0x01000193);
  return h >>> 0;
}

/**
 * Boot until every VM printed `ready` (minikernel's prompt, or trapdemo's last line); with a
 * `command`, type it into each VM and run to the next `ready`. Returns what is observable.
 */
function drive(config: SessionConfig, ready: string, command: string | null) {
  const s = new Session(config);
  const serial: string[] = Array.from({ length: config.vms }, () => '');
  const take = () => {
    for (let v = 0; v < config.vms; v++) serial[v] += new TextDecoder().decode(s.takeSerial(v));
  };
  let end = '';
  const until = (limit: number, done: () => boolean) => {
    while (s.instructions < limit && !done() && end === '') {
      const st = s.run(250_000);
      take();
      if (st.state === 'exited') end = `exited ${st.exitCode}`;
      else if (st.state !== 'running' && st.state !== 'idle')
        throw new Error(`guest ${st.state}: ${st.reason}`);
    }
  };
  const seen = (n: number) => serial.every((t) => t.split(ready).length > n);
  until(20_000_000, () => seen(1));
  if (command !== null) {
    for (let v = 0; v < config.vms; v++) s.sendSerial(v, new TextEncoder().encode(`${command}\r`));
    until(40_000_000, () => seen(2));
  }
  return {
    s,
    state: {
      end,
      n: s.instructions,
      serial,
      snap: s.snapshot(),
      ram: ramHash(s),
      vms: s.vmInfo().map((v) => ({ ...v, running: undefined })),
      traps: s.traps.count,
    },
  };
}

const base = {
  guest: { kind: 'kernel' as const, kernel: elf('minikernel/minikernel.elf') },
  memMiB: 16,
  noReboot: true,
};
const trapdemo = { kind: 'kernel' as const, kernel: elf('trapdemo/trapdemo.elf') };
const pv = { kind: 'kernel' as const, kernel: elf('minikernel/minikernel-pv.elf') };
// minikernel's own POPF loses IF under pure trap-and-emulate (the x86 hole), so that case runs
// trapdemo, in two VMs (two slices, two sets of shadow structures).
const cases: [string, SessionConfig, string, string | null][] = [
  [
    'trap-and-emulate, 2 VMs',
    { ...base, guest: trapdemo, technique: 'trap-and-emulate', vms: 2 },
    '[trapdemo] done',
    null,
  ],
  ['binary translation', { ...base, technique: 'binary-translation', vms: 1 }, 'mini$ ', 'ps'],
  ['VT-x with EPT', { ...base, technique: 'hardware-assisted', vms: 1, paging: 'ept' }, 'mini$ ', 'mem'],
  [
    'VT-x with shadow paging',
    { ...base, technique: 'hardware-assisted', vms: 1, paging: 'shadow' },
    'mini$ ',
    'ps',
  ],
  ['paravirtual', { ...base, guest: pv, technique: 'paravirtual', vms: 1 }, 'mini$ ', 'mem'],
];

describe('recycled host RAM under a VMM', () => {
  for (const [name, config, ready, command] of cases) {
    it(`${name}: every byte the VMM wrote is zero when pooled, and a run on reused buffers ends where one on fresh buffers did`, () => {
      for (const b of pooledBuffers()) expect(allZero(b)).toBe(true);
      const a = drive(config, ready, command);
      const ram = hostRam(a.s).buffer;
      a.s.dispose();
      const pooled = pooledBuffers();
      // The host RAM went back to the pool (not only the CPU's tables), zeroed.
      expect(pooled).toContain(ram);
      for (const b of pooled) expect(allZero(b)).toBe(true);

      const b = drive(config, ready, command);
      expect(hostRam(b.s).buffer).toBe(ram);
      expect(b.state).toEqual(a.state);
      b.s.dispose();
    }, 30_000);
  }
});
