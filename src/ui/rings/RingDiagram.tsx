/**
 * Rings, drawn: where the code that runs now really executes (the real CPU's CPL) beside the ring
 * the guest believes it is in (its virtual CPU's CPL), and every such pairing seen in this run —
 * for the guest kernel and for its user code. Drawn from the live register snapshots only.
 */
import { useEffect, useRef, useState } from 'react';
import { useUi } from '../store.ts';
import './rings.css';

const R = [30, 52, 74, 96]; // ring 0 innermost

/** Pairs (believed ring → real ring) observed in this run, keyed "v:r". */
function useObservedPairs(): Map<string, { v: number; r: number }> {
  const regs = useUi((s) => s.regs);
  const gen = useUi((s) => s.serialGen);
  const seen = useRef(new Map<string, { v: number; r: number }>());
  const [, bump] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new run (serialGen) forgets the pairs
  useEffect(() => {
    seen.current = new Map();
    bump((n) => n + 1);
  }, [gen]);
  useEffect(() => {
    if (!regs) return;
    const v = regs.virtual?.cpl ?? regs.real.cpl;
    const r = regs.real.cpl;
    const k = `${v}:${r}`;
    if (!seen.current.has(k)) {
      seen.current.set(k, { v, r });
      bump((n) => n + 1);
    }
  }, [regs]);
  return seen.current;
}

function Rings({
  title,
  at,
  others,
  testid,
}: {
  title: string;
  at: number | null;
  others: number[];
  testid: string;
}) {
  return (
    <figure className="ring-fig" data-testid={testid} data-ring={at ?? ''}>
      <svg viewBox="0 0 200 200" role="img" aria-label={`${title}: ring ${at ?? 'unknown'}`}>
        {[3, 2, 1, 0].map((n) => (
          <circle
            key={n}
            cx="100"
            cy="100"
            r={R[n]}
            className={`ring ring-${n} ${at === n ? 'now' : others.includes(n) ? 'seen' : ''}`}
          />
        ))}
        {[0, 1, 2, 3].map((n) => (
          <text key={n} x="100" y={100 - (n === 0 ? 0 : (R[n] + R[n - 1]) / 2) + 5} className="ring-label">
            {n}
          </text>
        ))}
        {at !== null ? (
          <circle
            cx={100 + (at === 0 ? 0 : (R[at] + R[at - 1]) / 2) * Math.cos(Math.PI / 5)}
            cy={100 + (at === 0 ? 0 : (R[at] + R[at - 1]) / 2) * Math.sin(Math.PI / 5)}
            r="9"
            className="ring-dot"
          />
        ) : null}
      </svg>
      <figcaption>
        {title}
        <strong className="mono"> {at === null ? '—' : `ring ${at}`}</strong>
      </figcaption>
    </figure>
  );
}

export function RingDiagram() {
  const regs = useUi((s) => s.regs);
  const technique = useUi((s) => s.loaded?.technique);
  const pairs = useObservedPairs();
  if (!regs) return <div className="empty">Load a guest to see its privilege rings.</div>;
  const real = regs.real.cpl;
  const believed = regs.virtual?.cpl ?? (technique === 'native' ? real : null);
  const list = [...pairs.values()].sort((a, b) => a.v - b.v);
  const who = (v: number) =>
    v === 0 ? 'guest kernel' : v === 3 ? 'guest user code' : `guest ring-${v} code`;
  return (
    <div className="rings" data-testid="rings">
      <div className="ring-pair">
        <Rings
          title="The guest believes it runs in"
          at={believed}
          others={list.map((p) => p.v)}
          testid="ring-believed"
        />
        <div className="ring-arrow" aria-hidden="true">
          →
        </div>
        <Rings title="The CPU really runs it in" at={real} others={list.map((p) => p.r)} testid="ring-real" />
      </div>
      <p className="muted small">
        {regs.virtual
          ? `VM ${regs.vm}: the VMM keeps the guest's virtual CPU beside the real one.`
          : technique === 'native'
            ? 'Native: no VMM, so the ring the guest believes is the ring it runs in.'
            : 'The VMM has not reported a virtual CPU yet.'}
      </p>
      <table className="ring-table" data-testid="ring-pairs">
        <caption>Seen in this run (from the register snapshots)</caption>
        <thead>
          <tr>
            <th scope="col">code</th>
            <th scope="col">believes</th>
            <th scope="col">really</th>
          </tr>
        </thead>
        <tbody>
          {list.map((p) => (
            <tr key={`${p.v}:${p.r}`} className={p.v !== p.r ? 'deprivileged' : ''}>
              <td>{who(p.v)}</td>
              <td className="mono">ring {p.v}</td>
              <td className="mono">
                ring {p.r}
                {p.v !== p.r ? ' (deprivileged)' : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
