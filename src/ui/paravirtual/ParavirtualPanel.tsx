/**
 * Paravirtual view (Stats tab): for each VM the shared info page as the guest and the hypervisor
 * both see it — the virtual IF (the upcall mask, flipped by a plain memory write), pending events,
 * the guest-visible CR2 and system time — and a histogram of the hypercalls it made.
 */
import type { ParavirtualInfo } from '../../hypervisor/paravirtual/info.ts';
import { fmtCount, fmtTimeNs } from '../format.ts';
import { useUi } from '../store.ts';

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

export function ParavirtualPanel() {
  const info = useUi((s) => s.vmInfo);
  const technique = useUi((s) => s.loaded?.technique);
  if (technique !== 'paravirtual' || !info) return null;
  const pv = info.flatMap((v) => (v.paravirtual ? [{ vm: v.vm, p: v.paravirtual }] : []));
  if (pv.length === 0) return null;
  return (
    <div data-testid="pv-panel">
      {pv.map(({ vm, p }) => (
        <Domain key={vm} vm={vm} p={p} many={pv.length > 1} />
      ))}
    </div>
  );
}

function Domain({ vm, p, many }: { vm: number; p: ParavirtualInfo; many: boolean }) {
  const max = Math.max(1, ...p.hypercalls.map((h) => h.count));
  return (
    <>
      <h3>Shared info{many ? ` — VM ${vm}` : ''}</h3>
      <table className="vm-table" data-testid={`pv-shared-info-${vm}`}>
        <tbody>
          <tr title="vcpu_info.evtchn_upcall_mask: the guest's virtual interrupt flag, written without a trap">
            <th scope="row">virtual IF</th>
            <td className="mono">
              {p.upcallMask ? 'off (events masked)' : 'on'} — upcall mask {p.upcallMask ? 1 : 0}
            </td>
          </tr>
          <tr title="vcpu_info.evtchn_upcall_pending: the hypervisor will upcall when the mask allows">
            <th scope="row">upcall pending</th>
            <td className="mono">
              {p.upcallPending ? 'yes' : 'no'}
              {p.pendingPorts.length ? ` (ports ${p.pendingPorts.join(', ')})` : ''}
            </td>
          </tr>
          <tr title="Event channels bound with event_channel_op(bind_virq)">
            <th scope="row">event channels</th>
            <td className="mono">
              {p.ports.length === 0
                ? 'none bound'
                : p.ports
                    .map(
                      (c) =>
                        `port ${c.port} ${c.virq}${c.pending ? ' pending' : ''}${c.masked ? ' masked' : ''}`,
                    )
                    .join('; ')}
            </td>
          </tr>
          <tr title="vcpu_info.arch.cr2: where the last page fault was (the guest cannot read the real CR2 in ring 1)">
            <th scope="row">CR2</th>
            <td className="mono">{hex(p.cr2)}</td>
          </tr>
          <tr title="vcpu_time_info.system_time and the one-shot timer from set_timer_op">
            <th scope="row">time</th>
            <td className="mono">
              {fmtTimeNs(p.systemTimeNs)}; timer{' '}
              {p.timerNs === null ? 'not armed' : `at ${fmtTimeNs(p.timerNs)}`}
            </td>
          </tr>
          <tr title="Frames the hypervisor validated as page tables (read-only to the guest)">
            <th scope="row">page tables</th>
            <td className="mono">
              {p.pageTables.l2} directories, {p.pageTables.l1} tables, {p.pageTables.pinned} pinned
            </td>
          </tr>
          <tr title="int 0x80 installed in the real IDT: system calls do not enter the hypervisor">
            <th scope="row">system calls</th>
            <td className="mono">
              {p.directSyscalls ? 'direct trap (skip the hypervisor)' : 'through the hypervisor'}
            </td>
          </tr>
          <tr>
            <th scope="row">upcalls</th>
            <td className="mono">{fmtCount(p.upcalls)}</td>
          </tr>
          {p.lastRefusal ? (
            <tr>
              <th scope="row">last refusal</th>
              <td className="mono">{p.lastRefusal}</td>
            </tr>
          ) : null}
        </tbody>
      </table>
      <h3>Hypercalls{many ? ` — VM ${vm}` : ''}</h3>
      {p.hypercalls.length === 0 ? <p className="muted small">None so far.</p> : null}
      <div className="bars" data-testid={`pv-hypercalls-${vm}`}>
        {p.hypercalls.map((h) => (
          <div className="bar-row" key={h.nr} title={`hypercall ${h.nr}`}>
            <span className="bar-label">
              {h.nr} {h.name}
            </span>
            <span className="bar-track">
              <span className="bar" style={{ width: `${(100 * h.count) / max}%` }} />
            </span>
            <span className="bar-n mono">{fmtCount(h.count)}</span>
          </div>
        ))}
      </div>
    </>
  );
}
