/**
 * `?view=popek-goldberg`: Robin & Irvine's sensitive instructions (plus IRET) under every
 * technique. The matrix is computed in a worker from real runs of guests/sensitive
 * (src/session/popek-goldberg.ts) and fills in row by row; each cell opens that run in the
 * playground with the trap-log record of the instruction selected.
 */
import { useEffect, useMemo, useState } from 'react';
import { cellLabel, type MatrixCell, SENSITIVE_INSTRUCTIONS } from '../../session/popek-goldberg.ts';
import { TECHNIQUES } from '../../session/types.ts';
import type { FromMatrixWorker } from '../../worker/matrix-worker.ts';
import { TECHNIQUE_LABELS } from '../scenario.ts';
import { cellRecord, playgroundLink } from './links.ts';
import './popek-goldberg.css';

const OUTCOME_HELP: [string, string, string][] = [
  ['correct', 'correct', 'the guest printed what it prints natively, and nothing trapped on the instruction'],
  [
    'trapped',
    'trapped',
    'the native result, and the trap log holds a record for the instruction: the VMM took control and emulated (or called out, or reflected) it',
  ],
  [
    'wrong',
    'WRONG (silent)',
    'the guest saw something else than on bare metal, and the VMM never saw the instruction (a silent event)',
  ],
  [
    'wrong-trapped',
    'WRONG (trapped)',
    'it trapped, but the VMM could not tell it from a guest error and the meaning changed',
  ],
  ['na', 'n/a', 'the technique refused this (unmodified) kernel before it ran'],
];

function cellClass(c: MatrixCell): string {
  if (c.outcome === 'wrong') return c.silent ? 'pg-wrong' : 'pg-wrong-trapped';
  if (c.outcome === 'n/a') return 'pg-na';
  return `pg-${c.outcome}`;
}

export default function PopekGoldbergPage() {
  const [cells, setCells] = useState<MatrixCell[]>([]);
  const [done, setDone] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [focus, setFocus] = useState<MatrixCell | null>(null);

  useEffect(() => {
    const w = new Worker(new URL('../../worker/matrix-worker.ts', import.meta.url), { type: 'module' });
    w.onmessage = (e: MessageEvent<FromMatrixWorker>) => {
      const m = e.data;
      if (m.type === 'cell') setCells((cs) => [...cs, m.cell]);
      else if (m.type === 'done') setDone(m.ms);
      else setError(m.message);
    };
    w.onerror = (e) => {
      e.preventDefault();
      setError(e.message || 'the matrix worker failed');
    };
    return () => w.terminate();
  }, []);

  const byKey = useMemo(() => new Map(cells.map((c) => [`${c.test}/${c.technique}`, c])), [cells]);
  const total = SENSITIVE_INSTRUCTIONS.length * TECHNIQUES.length;
  const na = cells.find((c) => c.outcome === 'n/a');

  return (
    <div className="pg-page" data-testid="pg-page">
      <header className="pg-head">
        <a href={location.pathname} className="pg-back">
          ← Playground
        </a>
        <h1>Popek &amp; Goldberg on IA-32: the sensitive instructions</h1>
      </header>
      <p className="pg-intro">
        Popek and Goldberg (1974): a machine can be virtualized by trap-and-emulate if every sensitive
        instruction is privileged. Robin and Irvine (2000) listed the IA-32 instructions that are sensitive
        but do not trap — 18 mnemonics (17 as the paper counts them), plus IRET, which drops IF exactly as
        POPF does. Each row below is a tiny kernel (<code>guests/sensitive</code>, <code>test=NAME</code>)
        that runs the instruction once and prints what it saw; each column runs it under one technique. Every
        cell is judged from that run: its console against the native one, and its trap log at the
        instruction's address. Click a cell to open the run in the playground.
      </p>
      <div className="pg-progress" data-testid="pg-progress">
        {error
          ? `Error: ${error}`
          : done === null
            ? `Running the demos… ${cells.length} of ${total} cells`
            : `${cells.length} cells from ${total} real runs in ${(done / 1000).toFixed(1)} s`}
      </div>
      <table className="pg-matrix" data-testid="pg-matrix">
        <thead>
          <tr>
            <th>Instruction</th>
            <th>Group</th>
            {TECHNIQUES.map((t) => (
              <th key={t}>{TECHNIQUE_LABELS[t]}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {SENSITIVE_INSTRUCTIONS.map((ins) => (
            <tr key={ins.test}>
              <th className="pg-mn">{ins.mnemonic}</th>
              <td className="pg-group">{ins.group}</td>
              {TECHNIQUES.map((t) => {
                const c = byKey.get(`${ins.test}/${t}`);
                if (!c)
                  return (
                    <td key={t} className="pg-pending">
                      …
                    </td>
                  );
                const rec = cellRecord(c);
                return (
                  <td
                    key={t}
                    className={`pg-cell ${cellClass(c)}`}
                    data-testid={`pg-cell-${ins.test}-${t}`}
                    data-outcome={c.outcome}
                    onMouseEnter={() => setFocus(c)}
                    onFocus={() => setFocus(c)}
                  >
                    {c.outcome === 'n/a' ? (
                      <span title={c.status}>n/a</span>
                    ) : (
                      <a
                        href={playgroundLink(c)}
                        title={`${c.result}${rec !== null ? ` — record #${rec}` : ''}`}
                      >
                        {cellLabel(c)}
                        {c.trapKind && <span className="pg-kind">{c.trapKind}</span>}
                      </a>
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
      <section className="pg-detail" data-testid="pg-detail">
        {focus ? (
          <>
            <h2>
              {SENSITIVE_INSTRUCTIONS.find((i) => i.test === focus.test)?.mnemonic} under{' '}
              {TECHNIQUE_LABELS[focus.technique]}: {cellLabel(focus)}
            </h2>
            {focus.outcome === 'n/a' ? (
              <p>{focus.status}</p>
            ) : (
              <dl>
                <dt>The guest printed</dt>
                <dd>
                  <code>{focus.result || `(no result: ${focus.status})`}</code>
                </dd>
                <dt>Natively</dt>
                <dd>
                  <code>{focus.native}</code>
                </dd>
                <dt>Trap log at the instruction</dt>
                <dd>
                  {focus.trapSeq !== null
                    ? `record #${focus.trapSeq} (${focus.trapKind})`
                    : focus.silentSeq !== null
                      ? `no trap; the VMM's observer logged silent event #${focus.silentSeq} afterwards`
                      : 'no record'}
                  {focus.site && ` · site 0x${focus.site[0].toString(16).padStart(8, '0')}`}
                </dd>
              </dl>
            )}
          </>
        ) : (
          <p>Point at a cell to see what the guest printed beside the native result.</p>
        )}
      </section>
      <section className="pg-legend">
        <h2>Reading the matrix</h2>
        <ul>
          {OUTCOME_HELP.map(([cls, name, text]) => (
            <li key={cls}>
              <span className={`pg-chip pg-${cls}`}>{name}</span> {text}
            </li>
          ))}
        </ul>
        <p>
          Why VT-x gets every row right without a single exit here: the guest kernel runs at real ring 0 in
          VMX non-root operation with its own GDTR, IDTR, LDTR and TR (loaded from the VMCS guest area), and
          SMSW reads the CR0 read shadow. VT-x can also exit on SGDT/SIDT/SLDT/STR (descriptor-table exiting,
          exits 46/47), but this VMM leaves it off: there is no VMM table to hide. Trap-and-emulate's SLDT is
          right because its shadow GDT keeps the guest's selector numbering.{' '}
          {na && `Paravirtualization: ${na.status}`}
        </p>
      </section>
    </div>
  );
}
