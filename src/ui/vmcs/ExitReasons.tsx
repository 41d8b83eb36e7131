/**
 * Exit-reason controls (hardware-assisted technique): "run until the next VM exit with reason X"
 * (the worker steps exactly as for Next trap, so the record it stops at is selected and shows the
 * registers before and after) and the trap log's exit-reason filter. Reasons are the basic exit
 * reasons with the numbers and names of Intel SDM Vol. 3C Appendix C.
 */
import { useState } from 'react';
import { EXIT_REASON_NAMES } from '../../cpu/vmx/fields.ts';
import { TrapKind } from '../../hypervisor/vmm/trap-kinds.ts';
import { emulator } from '../emulator.ts';
import { useUi } from '../store.ts';
import './exit-reasons.css';

/** Every basic exit reason, in the SDM's numeric order. */
export const EXIT_REASONS: { n: number; name: string }[] = Object.entries(EXIT_REASON_NAMES)
  .map(([n, name]) => ({ n: Number(n), name }))
  .sort((a, b) => a.n - b.n);

/** The reasons a student reaches for first (offered at the top of the list). */
const COMMON = [10, 12, 28, 30, 48, 7, 52];

function ReasonOptions() {
  const rest = EXIT_REASONS.filter((r) => !COMMON.includes(r.n));
  const opt = (n: number) => (
    <option key={n} value={n}>
      {n} {EXIT_REASON_NAMES[n]}
    </option>
  );
  return (
    <>
      <optgroup label="Common">{COMMON.map(opt)}</optgroup>
      <optgroup label="All (SDM App. C)">{rest.map((r) => opt(r.n))}</optgroup>
    </>
  );
}

/** "Run until exit reason [30 I/O instruction] ▸", beside Next VM exit. */
export function UntilExitReason() {
  const [reason, setReason] = useState(30);
  const running = useUi((s) => s.status?.running ?? false);
  return (
    <span className="until-exit">
      <label>
        <span>Run until exit reason</span>{' '}
        <select
          data-testid="until-exit-reason"
          value={reason}
          onChange={(e) => setReason(Number(e.target.value))}
        >
          <ReasonOptions />
        </select>
      </label>{' '}
      <button
        type="button"
        data-testid="until-exit-go"
        disabled={running}
        title={`Run until the next VM exit with basic exit reason ${reason} (${EXIT_REASON_NAMES[reason]})`}
        onClick={() =>
          emulator().send({ type: 'runUntilTrapKind', kind: TrapKind.VmExit, exitReason: reason })
        }
      >
        Run until exit {reason} ▸
      </button>
    </span>
  );
}

/** The trap log's exit-reason filter: only VM exits with the chosen basic exit reason. */
export function ExitReasonFilter() {
  const filter = useUi((s) => s.trapFilter);
  const set = useUi((s) => s.set);
  const cur = filter.exitReasons?.length === 1 ? String(filter.exitReasons[0]) : '';
  return (
    <label className="field inline exit-filter" title="Show only the VM exits with this basic exit reason">
      <span className="field-label">exit</span>
      <select
        data-testid="trap-exit-filter"
        value={cur}
        onChange={(e) =>
          set({
            trapFilter: {
              ...filter,
              exitReasons: e.target.value === '' ? undefined : [Number(e.target.value)],
            },
            selectedTrap: null,
          })
        }
      >
        <option value="">all</option>
        <ReasonOptions />
      </select>
    </label>
  );
}
