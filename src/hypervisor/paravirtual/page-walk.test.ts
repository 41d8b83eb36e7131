/**
 * The page-tables view under direct paging, from a real minikernel-pv boot: the one walk reads the
 * guest's own tables (machine addresses, what CR3 really holds), every table frame on the way is
 * typed and validated by the hypervisor and mapped read-only by the guest, and the hypervisor's
 * hole holds the hypervisor's own page table in slot 1023.
 */
import { describe, expect, it } from 'vitest';
import type { DirectPageWalk, PageWalkInfo } from '../vmm/page-walk.ts';
import { FIRST_HYP_PDE, HYP_GDT_VA, HYPERVISOR_VIRT_START } from './abi.ts';
import { createParavirtualRunner } from './runner.ts';
import { kernel } from './test-guests.ts';

const MEM = 32;

function direct(w: PageWalkInfo | null): DirectPageWalk {
  if (w?.kind !== 'direct') throw new Error(`expected a direct walk, got ${w?.kind ?? null}`);
  return w;
}

describe('pageWalk (paravirtual, direct paging)', () => {
  const pv = createParavirtualRunner(
    { vms: 1, memMiB: MEM, noReboot: true },
    kernel('minikernel/minikernel-pv.elf', MEM),
  );
  // Up to the shell: processes with their own page directories exist by then.
  let out = '';
  for (let i = 0; i < 400 && !out.includes('mini$ '); i++) {
    pv.run(1_000_000, false);
    out += new TextDecoder().decode(pv.takeSerial(0));
  }
  const d = pv.technique.domains[0];
  const cpu = pv.vmm.cpu;
  const eip = cpu.eip >>> 0;

  it("walks the guest's own tables, which are the real ones, and types every table frame", () => {
    const w = direct(pv.pageWalk(0, eip));
    // One walk, from the real CR3 (the guest's running directory; machine address).
    expect(w.cr3).toBe((cpu.cr3 & ~0xfff) >>> 0);
    const [pde, pte] = w.steps;
    expect(pde.addr).toBe(w.cr3 + (eip >>> 22) * 4);
    expect(pde.value).toBe(d.r32(pde.addr));
    expect(pte.addr).toBe(((pde.value & ~0xfff) + ((eip >>> 12) & 1023) * 4) >>> 0);
    expect(pte.value).toBe(d.r32(pte.addr));
    // The hardware's translation is the walk's result: the code bytes are there.
    expect(w.machine).toBe(((pte.value & ~0xfff) | (eip & 0xfff)) >>> 0);
    expect(w.machine).toBe(d.peek(eip));
    expect(w.pseudo).toBe(w.machine! - d.sliceBase);
    // The directory is a validated L2 and the table a validated L1 (the directory refers to it);
    // no validated table maps either writable.
    expect(pde.table).toMatchObject({ type: 'L2', writable: 0 });
    expect(pde.table!.refs).toBeGreaterThan(0);
    expect(pte.table).toMatchObject({ type: 'L1', writable: 0 });
    for (const s of w.steps) for (const m of s.table!.mappedAt) expect(m.rw).toBe(false);
    expect(w.counts.l2).toBeGreaterThan(1); // the processes' directories as well
    expect(w.counts.pinned).toBeGreaterThan(0);
    // Code is ordinary memory.
    expect(w.target?.type).toBe('none');
  });

  it("reports the hypervisor's hole and its own table there", () => {
    const w = direct(pv.pageWalk(0, HYP_GDT_VA));
    expect(w.hole).toMatchObject({ start: HYPERVISOR_VIRT_START, firstSlot: FIRST_HYP_PDE, inside: true });
    expect(w.hole.slots).toEqual([{ slot: 1023, table: d.hypPt }]);
    expect(w.steps[0].table?.type).toBe('L2');
    expect(w.steps[1].table).toBeNull(); // the hypervisor's page table: no frame of the guest
    expect(w.pseudo).toBeNull();
    // Below the hole, an address nobody maps: no translation.
    const u = direct(pv.pageWalk(0, 0x7fc00000));
    expect(u.machine).toBeNull();
    expect(u.hole.inside).toBe(false);
    expect(pv.pageWalk(3, eip)).toBeNull(); // no such VM
  });
});
