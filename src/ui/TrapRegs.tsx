/**
 * Registers before and after a trap, in the trap detail. Trap records do not carry register
 * values; the worker keeps real snapshots only for a trap it stepped to (Next trap), so for every
 * other record the pane says so and shows the record's changed-register mask instead.
 */
import { useState } from 'react';
import type { CpuView, TrapDetail } from '../worker/protocol.ts';
import { hex } from './format.ts';

interface RegLine {
  name: string;
  get: (c: CpuView) => number;
  digits?: number;
}

const LINES: RegLine[] = [
  ...(['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp'] as const).map((r) => ({
    name: r.toUpperCase(),
    get: (c: CpuView) => c.gpr[r],
  })),
  { name: 'EIP', get: (c) => c.eip },
  { name: 'EFLAGS', get: (c) => c.eflags },
  { name: 'CPL', get: (c) => c.cpl, digits: 1 },
  ...['cs', 'ss', 'ds', 'es', 'fs', 'gs'].map((n) => ({
    name: n.toUpperCase(),
    get: (c: CpuView) => c.segs.find((s) => s.name === n)?.selector ?? 0,
    digits: 4,
  })),
  { name: 'CR0', get: (c) => c.cr.cr0 },
  { name: 'CR2', get: (c) => c.cr.cr2 },
  { name: 'CR3', get: (c) => c.cr.cr3 },
  { name: 'CR4', get: (c) => c.cr.cr4 },
  { name: 'IDTR', get: (c) => c.idtr.base },
  { name: 'GDTR', get: (c) => c.gdtr.base },
];

function CpuDiff({
  title,
  before,
  after,
  all,
}: {
  title: string;
  before: CpuView;
  after: CpuView;
  all: boolean;
}) {
  const rows = LINES.filter((l) => all || l.name === 'EIP' || l.get(before) !== l.get(after));
  return (
    <table className="regdiff" data-testid="trap-regdiff">
      <thead>
        <tr>
          <th scope="col">{title}</th>
          <th scope="col">before</th>
          <th scope="col">after</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((l) => {
          const a = l.get(before);
          const b = l.get(after);
          return (
            <tr key={l.name} className={a !== b ? 'diff' : ''}>
              <th scope="row">{l.name}</th>
              <td className="mono">{hex(a, l.digits ?? 8)}</td>
              <td className={`mono ${a !== b ? 'changed' : ''}`}>{hex(b, l.digits ?? 8)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function TrapRegs({ d }: { d: TrapDetail }) {
  const [all, setAll] = useState(false);
  const r = d.regs;
  if (!r) {
    return (
      <section className="trap-regs" data-testid="trap-regs">
        <h4>Registers</h4>
        <p className="muted small" data-testid="trap-regs-note">
          Register values are kept only for a trap reached with <em>Next trap</em>; this record does not carry
          them.{' '}
          {d.changedRegs.length
            ? `It does record which registers the VMM changed while handling it: ${d.changedRegs.join(', ')}.`
            : 'It records that the VMM changed no guest register while handling it.'}
        </p>
      </section>
    );
  }
  const vb = r.before.virtual;
  const va = r.after.virtual;
  return (
    <section className="trap-regs" data-testid="trap-regs">
      <h4>
        Registers around this trap
        <button type="button" className="link small" onClick={() => setAll(!all)}>
          {all ? 'changed only' : 'show all'}
        </button>
      </h4>
      <p className="muted small" data-testid="trap-regs-note">
        {r.exact
          ? 'Real snapshots: right before the trapping instruction, and after the VMM handled it.'
          : `"Before" is the previous stop, ${r.instructions.toLocaleString()} instructions earlier (the trap came later than the worker single-steps).`}
        {d.changedRegs.length ? ` The record says the VMM changed ${d.changedRegs.join(', ')}.` : ''}
      </p>
      <div className="regdiffs">
        {vb && va ? <CpuDiff title={`VM ${r.after.vm} virtual`} before={vb} after={va} all={all} /> : null}
        <CpuDiff title="Real CPU" before={r.before.real} after={r.after.real} all={all} />
      </div>
    </section>
  );
}
