import type { VmInfoView } from '../worker/protocol.ts';
import { fmtBytes, fmtCount, fmtTimeNs } from './format.ts';
import { ParavirtualPanel } from './paravirtual/ParavirtualPanel.tsx';
import { useUi } from './store.ts';
import { kindClass } from './TrapLog.tsx';
import './stats.css';

export function Stats() {
  const stats = useUi((s) => s.stats);
  const names = useUi((s) => s.loaded?.names);
  const vms = useUi((s) => s.loaded?.vms ?? 1);
  if (!stats) return <div className="empty">Load a guest to see its statistics.</div>;
  const kinds = (names?.kinds ?? [])
    .map((k, i) => ({ k, i, n: stats.trapsByKind[i] ?? 0 }))
    .filter((x) => x.n > 0);
  const max = Math.max(1, ...kinds.map((x) => x.n));
  return (
    <div className="stats" data-testid="stats">
      <div className="stat-cards">
        <div className="stat">
          <span className="stat-label">Instructions</span>
          <span className="stat-value mono" data-testid="stat-instructions">
            {fmtCount(stats.instructions)}
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Speed</span>
          <span className="stat-value mono" title="Measured over at least 20 ms of running">
            {stats.mips > 0 ? `${stats.mips.toFixed(stats.mips < 10 ? 2 : 1)} MIPS` : '—'}
          </span>
        </div>
        <div className="stat">
          <span className="stat-label">Virtual time</span>
          <span className="stat-value mono">{fmtTimeNs(stats.virtualTimeNs)}</span>
        </div>
        <div className="stat">
          <span className="stat-label">Traps</span>
          <span className="stat-value mono">{fmtCount(stats.trapTotal)}</span>
        </div>
      </div>
      {/* With several VMs the per-VM comparison is the headline, so it comes before the bars. */}
      <VmTable />
      <ParavirtualPanel />
      <h3>Traps per kind</h3>
      {kinds.length === 0 ? <p className="muted small">None so far.</p> : null}
      <div className="bars">
        {kinds.map(({ k, i, n }) => (
          <div className="bar-row" key={k}>
            <span className="bar-label">{k}</span>
            <span className="bar-track">
              <span className={`bar ${kindClass(i)}`} style={{ width: `${(100 * n) / max}%` }} />
            </span>
            <span className="bar-n mono">{fmtCount(n)}</span>
          </div>
        ))}
      </div>
      {vms > 1 ? (
        <>
          <h3>Trap-log records per VM</h3>
          <div className="bars">
            {[...Array(vms).keys()].map((vm) => {
              const n = stats.trapsByVm[vm] ?? 0;
              const m = Math.max(1, ...stats.trapsByVm);
              return (
                <div className="bar-row" key={`vm${vm}`}>
                  <span className="bar-label">VM {vm}</span>
                  <span className="bar-track">
                    <span className="bar vmbar" style={{ width: `${(100 * n) / m}%` }} />
                  </span>
                  <span className="bar-n mono">{fmtCount(n)}</span>
                </div>
              );
            })}
          </div>
        </>
      ) : null}
    </div>
  );
}

const VM_COLS: { key: keyof VmInfoView; label: string; title: string }[] = [
  { key: 'traps', label: 'traps', title: 'Exceptions and INT n that reached the VMM from this VM' },
  {
    key: 'hiddenFaults',
    label: 'hidden #PF',
    title: 'Page faults the VMM handled itself (shadow page tables)',
  },
  { key: 'reflected', label: 'reflected', title: 'Exceptions the VMM passed back into the guest' },
  { key: 'injected', label: 'injected', title: 'Virtual interrupts the VMM delivered' },
  {
    key: 'silent',
    label: 'silent',
    title: 'Sensitive instructions that did not trap and behaved differently',
  },
  { key: 'switchesIn', label: 'switches', title: 'World switches into this VM' },
  { key: 'cycles', label: 'cycles', title: 'Modelled cost of its trap-log records' },
];

/** Each VM's state and the VMM's counters for it (when the session reports them). */
function VmTable() {
  const info = useUi((s) => s.vmInfo);
  const technique = useUi((s) => s.loaded?.technique);
  if (!info || technique === 'native') return null;
  return (
    <>
      <h3>Per VM</h3>
      <div className="vm-table-wrap">
        <table className="vm-table" data-testid="vm-table">
          <thead>
            <tr>
              <th scope="col">VM</th>
              <th scope="col">state</th>
              <th scope="col" title="Guest RAM" className="c-ram">
                RAM
              </th>
              {VM_COLS.map((c) => (
                <th scope="col" key={c.key} title={c.title} className={`num c-${c.key}`}>
                  {c.label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {info.map((v) => (
              <tr key={v.vm} className={v.running ? 'current' : ''}>
                <th scope="row">
                  {v.vm}
                  {v.running ? <span className="muted"> ●</span> : null}
                </th>
                <td title={v.reason}>{v.state}</td>
                <td className="mono c-ram">
                  {fmtBytes(v.memory.filter((m) => m.kind === 'ram').reduce((n, m) => n + m.bytes, 0))}
                </td>
                {VM_COLS.map((c) => (
                  <td key={c.key} className={`mono num c-${c.key}`}>
                    {fmtCount(v[c.key] as number)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p className="muted small vm-note">● the VM whose state is in the physical CPU now.</p>
    </>
  );
}
