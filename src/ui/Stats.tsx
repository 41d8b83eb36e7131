import { fmtCount, fmtTimeNs } from './format.ts';
import { useUi } from './store.ts';
import { kindClass } from './TrapLog.tsx';

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
          <span className="stat-value mono">{stats.mips.toFixed(stats.mips < 10 ? 2 : 1)} MIPS</span>
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
          <h3>Traps per VM</h3>
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
