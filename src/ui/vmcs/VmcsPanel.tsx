/**
 * VMCS view (the VMCS tab, hardware-assisted technique): every field of a VM's VMCS as the CPU
 * holds it — read live through the worker's vm-info (src/hypervisor/hardware-assisted/vmcs-info.ts)
 * — grouped as Intel SDM Vol.3C §24.3 lays the VMCS out, with each field's encoding (Appendix B)
 * and Intel's name. Fields whose value differs from the one they had at the VM's previous VM exit
 * are highlighted; the pin-based, processor-based, exit and entry controls are decoded bit by bit.
 */
import { useState } from 'react';
import { EXIT_REASON_NAMES } from '../../cpu/vmx/fields.ts';
import type { VmcsFieldView, VmcsGroup, VmcsInfo } from '../../hypervisor/hardware-assisted/vmcs-info.ts';
import { TrapKind } from '../../hypervisor/vmm/trap-kinds.ts';
import { emulator } from '../emulator.ts';
import { changeScenario } from '../scenario.ts';
import { useUi } from '../store.ts';
import { CONTROL_TABLES, decodeControl } from './controls.ts';
import { EptWalk } from './EptWalk.tsx';
import { UntilExitReason } from './ExitReasons.tsx';

// SDM §24.3: the order of the six groups of VMCS data.
const GROUPS: { id: VmcsGroup; title: string; section: string }[] = [
  { id: 'guest', title: 'Guest-state area', section: '§24.4' },
  { id: 'host', title: 'Host-state area', section: '§24.5' },
  { id: 'execution', title: 'VM-execution control fields', section: '§24.6' },
  { id: 'exit', title: 'VM-exit control fields', section: '§24.7' },
  { id: 'entry', title: 'VM-entry control fields', section: '§24.8' },
  { id: 'exit-info', title: 'VM-exit information fields', section: '§24.9' },
];

const hex = (v: number, digits: number) => (v >>> 0).toString(16).padStart(digits, '0');

function fmtValue(f: VmcsFieldView): string {
  if (f.width === 16) return `0x${hex(f.value & 0xffff, 4)}`;
  if (f.width === 64) return `0x${hex(f.hi ?? 0, 8)}_${hex(f.value, 8)}`;
  return `0x${hex(f.value, 8)}`;
}

function changed(f: VmcsFieldView): boolean {
  if (f.prev === undefined) return false;
  return f.prev !== f.value || (f.width === 64 && f.prevHi !== f.hi);
}

/** "30 — I/O instruction" for the exit-reason field (basic reason in bits 15:0, §24.9.1). */
export function exitReasonText(v: number): string {
  const basic = v & 0xffff;
  const name = EXIT_REASON_NAMES[basic] ?? 'unknown';
  return `${basic} — ${name}${v & 0x80000000 ? ' (VM-entry failure)' : ''}`;
}

export function VmcsPanel() {
  const info = useUi((s) => s.vmInfo);
  const technique = useUi((s) => s.loaded?.technique);
  const [pick, setPick] = useState<number | null>(null);
  if (technique !== 'hardware-assisted') {
    return <p className="muted">The VMCS exists only under the hardware-assisted technique.</p>;
  }
  const vms = (info ?? []).flatMap((v) => (v.vmcs ? [{ vm: v.vm, running: v.running, c: v.vmcs }] : []));
  if (vms.length === 0) {
    return (
      <>
        <PagingSwitch />
        <p className="muted">Pause or step the machine to read the VMCS.</p>
      </>
    );
  }
  const chosen = vms.find((v) => v.vm === pick) ?? vms.find((v) => v.running) ?? vms[0];
  return (
    <div data-testid="vmcs-panel" style={{ padding: '0.3rem 0.6rem' }}>
      <PagingSwitch />
      {vms.length > 1 ? (
        <div className="tabs" role="tablist">
          {vms.map((v) => (
            <button
              key={v.vm}
              type="button"
              role="tab"
              aria-selected={v.vm === chosen.vm}
              className={`tab ${v.vm === chosen.vm ? 'on' : ''}`}
              onClick={() => setPick(v.vm)}
            >
              VM {v.vm}
            </button>
          ))}
        </div>
      ) : null}
      <Vmcs vm={chosen.vm} c={chosen.c} />
    </div>
  );
}

function Vmcs({ vm, c }: { vm: number; c: VmcsInfo }) {
  const reason = c.fields.find((f) => f.key === 'EXIT_REASON');
  return (
    <>
      <p className="vm-note">
        VM {vm}: VMCS at <span className="mono">0x{hex(c.addr, 8)}</span>, {c.launched ? 'launched' : 'clear'}
        {c.current ? ', current (VMPTRLD)' : ''}, {c.exits} VM exits.{' '}
        {c.exits > 0 ? (
          <>
            Exit reason:{' '}
            <strong data-testid="vmcs-exit-reason">{reason ? exitReasonText(reason.value) : '?'}</strong>.
          </>
        ) : (
          'No VM exit yet.'
        )}{' '}
        <span className="changed-swatch" /> changed since the previous VM exit.
      </p>
      <p className="vm-note">
        <button
          type="button"
          data-testid="vmcs-next-exit"
          title="Run until the next VM exit is in the trap log"
          onClick={() => emulator().send({ type: 'runUntilTrapKind', kind: TrapKind.VmExit })}
        >
          Next VM exit ▸
        </button>
        <UntilExitReason />
      </p>
      {c.exits > 0 && reason ? <ExitFilter reason={reason.value & 0xffff} /> : null}
      {c.walk ? <EptWalk vm={vm} walk={c.walk} /> : null}
      {GROUPS.map((g) => (
        <details key={g.id} open data-testid={`vmcs-group-${g.id}`}>
          <summary>
            <strong>{g.title}</strong> <span className="muted">(SDM Vol. 3C {g.section})</span>
          </summary>
          <table className="vm-table">
            <thead>
              <tr>
                <th scope="col">Encoding</th>
                <th scope="col">Field</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {c.fields
                .filter((f) => f.group === g.id)
                .map((f) => (
                  <Field key={f.enc} f={f} />
                ))}
            </tbody>
          </table>
        </details>
      ))}
    </>
  );
}

/**
 * EPT or first-generation VT-x (CR3/INVLPG/#PF exits over shadow page tables): switching reloads
 * the guest with the other paging mode (the link carries it as `&paging=shadow`).
 */
function PagingSwitch() {
  const scenario = useUi((s) => s.scenario);
  const mode = scenario.paging ?? 'ept';
  return (
    <p className="vm-note" data-testid="vtx-paging">
      Paging:{' '}
      {(['ept', 'shadow'] as const).map((m) => (
        <label key={m} style={{ marginRight: '0.8rem' }}>
          <input
            type="radio"
            name="vtx-paging"
            value={m}
            data-testid={`vtx-paging-${m}`}
            checked={mode === m}
            onChange={() => changeScenario({ ...scenario, paging: m })}
          />{' '}
          {m === 'ept' ? 'EPT (nested paging)' : 'Shadow page tables (VT-x without EPT)'}
        </label>
      ))}
    </p>
  );
}

/** Filter the trap log to the VM exits with this exit reason (or clear that filter). */
function ExitFilter({ reason }: { reason: number }) {
  const filter = useUi((s) => s.trapFilter);
  const set = useUi((s) => s.set);
  const on = filter.exitReasons?.length === 1 && filter.exitReasons[0] === reason;
  return (
    <p className="vm-note">
      <button
        type="button"
        className="link"
        data-testid="vmcs-filter-reason"
        onClick={() =>
          set({ trapFilter: { ...filter, exitReasons: on ? undefined : [reason] }, selectedTrap: null })
        }
      >
        {on
          ? 'Show every trap-log record again'
          : `Show only “${exitReasonText(reason)}” exits in the trap log`}
      </button>
    </p>
  );
}

function Field({ f }: { f: VmcsFieldView }) {
  const ch = changed(f);
  const table = CONTROL_TABLES[f.key];
  const bits = table ? decodeControl(f.key, f.value, f.prev) : [];
  return (
    <>
      <tr data-testid={`vmcs-field-${f.key}`} className={ch ? 'vmcs-changed' : undefined}>
        <td className="mono">0x{hex(f.enc, 4)}</td>
        <th scope="row" title={f.key} style={{ fontWeight: 'normal' }}>
          {f.name}
        </th>
        <td className="mono">
          <span
            className={ch ? 'val changed' : 'val'}
            title={
              ch && f.prev !== undefined
                ? `was ${fmtValue({ ...f, value: f.prev, hi: f.prevHi })}`
                : undefined
            }
          >
            {fmtValue(f)}
          </span>
          {f.key === 'EXIT_REASON' ? <span className="muted"> {exitReasonText(f.value)}</span> : null}
        </td>
      </tr>
      {table ? (
        <tr>
          <td />
          <td colSpan={2} style={{ whiteSpace: 'normal' }}>
            <div className="bits" data-testid={`vmcs-bits-${f.key}`} title={`SDM Vol. 3C ${table.section}`}>
              {bits.map((b) => (
                <span
                  key={b.bit}
                  className={`bit ${b.set ? 'on' : 'off'}${b.changed ? ' changed' : ''}`}
                  title={`bit ${b.bit}: ${b.name} = ${b.set ? 1 : 0}`}
                  data-bit={b.bit}
                  data-set={b.set ? 1 : 0}
                >
                  {b.bit} {b.name}
                </span>
              ))}
            </div>
          </td>
        </tr>
      ) : null}
    </>
  );
}
