/**
 * The page-tables view's data, from a real trapdemo run under trap-and-emulate: the guest's own
 * walk reads its tables in guest-physical memory, and the shadow entry the VMM filled maps the same
 * linear page to the host frame behind the guest's frame.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Session } from '../../session/session.ts';
import type { PageWalkInfo, ShadowPageWalk } from './page-walk.ts';

const root = join(import.meta.dirname, '../../..');

describe('pageWalk (trap-and-emulate, shadow paging)', () => {
  const s = new Session({
    guest: {
      kind: 'kernel',
      kernel: new Uint8Array(readFileSync(join(root, 'guests/trapdemo/trapdemo.elf'))),
    },
    technique: 'trap-and-emulate',
    vms: 2,
    memMiB: 32,
    noReboot: true,
  });
  for (let i = 0; i < 100 && s.status.state === 'running'; i++) s.run(100_000);
  const eip = s.snapshot().eip >>> 0;
  const shadow = (w: PageWalkInfo | null): ShadowPageWalk => {
    if (w?.kind !== 'shadow') throw new Error(`expected a shadow walk, got ${w?.kind ?? null}`);
    return w;
  };

  it('walks the guest tables as the guest wrote them, and the shadow to the same host frame', () => {
    const w = shadow(s.pageWalk(0, eip));
    expect(w.guest.paging).toBe(true);
    const [pde, pte] = w.guest.steps;
    expect(pde.addr).toBe(((w.guest.cr3 & ~0xfff) + (eip >>> 22) * 4) >>> 0);
    const read32 = (a: number) => new DataView(s.readPhysical(a, 4).buffer).getUint32(0, true);
    expect(pde.value).toBe(read32(pde.addr));
    expect(pte.addr).toBe(((pde.value & ~0xfff) + ((eip >>> 12) & 0x3ff) * 4) >>> 0);
    expect(pte.value).toBe(read32(pte.addr));
    expect(w.guest.gpa).toBe(((pte.value & ~0xfff) | (eip & 0xfff)) >>> 0);
    // The code it last ran is in the shadow: same page, the host frame of the guest's frame.
    expect(w.shadow.steps).toHaveLength(2);
    expect(w.host).not.toBeNull();
    expect(w.shadow.hpa).toBe(w.host);
    // VM 1's guest-physical page lives elsewhere in host memory (its own slice); same walk shape.
    const w1 = shadow(s.pageWalk(1, eip));
    expect(w1.guest.gpa).toBe(w.guest.gpa);
    expect(w1.shadow.hpa).toBe(w1.host);
    expect(w1.host).not.toBe(w.host);
    // Each VM has its own shadow directory (the real CR3 while it runs).
    expect(w1.shadow.cr3).not.toBe(w.shadow.cr3);
  });

  it('an address the guest does not map: no guest-physical address, nothing in the shadow', () => {
    const w = shadow(s.pageWalk(0, 0x7fc00000));
    expect(w.guest.gpa).toBeNull();
    expect(w.shadow.hpa).toBeNull();
    expect(s.pageWalk(3, eip)).toBeNull(); // no such VM
  });
});
