/**
 * Translation view (binary translation): for the selected translation/callout record, or else the
 * unit at the guest's EIP, the guest instructions beside the real IA-32 code the CPU runs for them
 * in the translation cache — both disassembled from live memory by the worker — with what was
 * rewritten and why, how often the unit ran, and the TC's occupancy and chaining.
 */
import { useEffect, useState } from 'react';
import type { TranslationInfo, TranslationUnitView } from '../../hypervisor/binary-translation/info.ts';
import { TrapKind } from '../../hypervisor/vmm/trap-kinds.ts';
import type { TrapDetail } from '../../worker/protocol.ts';
import { emulator } from '../emulator.ts';
import { fmtBytes, fmtCount, hex } from '../format.ts';
import { useUi } from '../store.ts';
import { explainRow } from './explain.ts';
import './translation.css';

const bytesHex = (b: number[]) => b.map((x) => x.toString(16).padStart(2, '0')).join(' ');
const pct = (a: number, b: number) => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '—');

/** The selected trap record, if it is a translation or a callout. */
function useSelectedBtRecord(): TrapDetail | null {
  const index = useUi((s) => s.selectedTrap);
  const [d, setD] = useState<TrapDetail | null>(null);
  useEffect(() => {
    let live = true;
    setD(null);
    if (index === null) return;
    emulator()
      .trapDetail(index)
      .then((r) => live && setD(r && (r.kindName === 'translation' || r.kindName === 'callout') ? r : null))
      .catch(() => live && setD(null));
    return () => {
      live = false;
    };
  }, [index]);
  return d;
}

function findUnit(t: TranslationInfo, eip: number): TranslationUnitView | undefined {
  return t.units.find((u) => u.guestEip === eip) ?? t.units.find((u) => u.rows.some((r) => r.eip === eip));
}

export function TranslationView() {
  const info = useUi((s) => s.vmInfo);
  const technique = useUi((s) => s.loaded?.technique);
  const regs = useUi((s) => s.regs);
  const rec = useSelectedBtRecord();
  if (technique !== 'binary-translation')
    return (
      <div className="empty" data-testid="tc-view">
        The Translation view shows binary translation's translation cache: load a guest with the Binary
        translation technique.
      </div>
    );
  const vmIndex = rec?.vm ?? regs?.vm ?? 0;
  const t = info?.find((v) => v.vm === vmIndex)?.translation;
  if (!t)
    return (
      <div className="empty" data-testid="tc-view">
        No translation cache yet: run or step the guest.
      </div>
    );
  const eip = rec ? rec.eip : (regs?.virtual?.eip ?? regs?.real.eip ?? 0);
  const unit = findUnit(t, eip >>> 0);
  const source = rec ? `selected ${rec.kindName} record #${rec.seq}` : 'the guest EIP';
  return (
    <div data-testid="tc-view" className="tc-view">
      <NextButtons />
      <table className="vm-table" data-testid="tc-stats">
        <tbody>
          <tr title="Bytes of translated code in this VM's 1 MiB translation cache (a full cache is flushed)">
            <th scope="row">TC occupancy</th>
            <td className="mono">
              {fmtBytes(t.tcUsed)} of {fmtBytes(t.tcSize)} ({pct(t.tcUsed, t.tcSize)}) at {hex(t.tcBase)}
            </td>
          </tr>
          <tr title="Units in the lookup now; units translated since the start, including dropped ones">
            <th scope="row">units</th>
            <td className="mono">
              {fmtCount(t.liveUnits)} live · {fmtCount(t.translated)} translated · {fmtCount(t.flushes)}{' '}
              flushes · {fmtCount(t.invalidations)} invalidated
            </td>
          </tr>
          <tr title="Exits of live units patched to jump straight to their successor unit, without entering the VMM">
            <th scope="row">chaining</th>
            <td className="mono" data-testid="tc-chaining">
              {fmtCount(t.exitsChained)} of {fmtCount(t.exits)} exits chained ({pct(t.exitsChained, t.exits)})
            </td>
          </tr>
          <tr title="VMM dispatch lookups (guest EIP → unit) and callouts fired">
            <th scope="row">VMM entries</th>
            <td className="mono">
              {fmtCount(t.lookups)} lookups · {fmtCount(t.callouts)} callouts
            </td>
          </tr>
        </tbody>
      </table>
      {unit ? (
        <Unit u={unit} source={source} focus={eip >>> 0} />
      ) : (
        <p className="muted" data-testid="tc-no-unit">
          {source === 'the guest EIP' ? 'The guest EIP' : `The ${source}`} ({hex(eip)}) is in no unit sent
          from the live TC
          {rec || (regs?.virtual?.cpl ?? regs?.real.cpl) === 0
            ? t.unitsOmitted > 0
              ? ` (only the ${t.units.length} most recent of ${t.liveUnits} units are sent, and its unit may have been dropped since).`
              : ' (its unit was dropped from the TC since, or not translated yet).'
            : ': the guest runs user code, which runs directly, untranslated.'}
        </p>
      )}
    </div>
  );
}

/**
 * "Next translation" / "Next callout": run until the next record of that kind (as the toolbar's
 * Until does); the record the run stops at is selected, so the view shows its unit.
 */
function NextButtons() {
  const runState = useUi((s) => s.status?.state);
  const running = useUi((s) => s.status?.running ?? false);
  const loaded = useUi((s) => s.loaded);
  const set = useUi((s) => s.set);
  const canRun = !!loaded && (runState === 'running' || runState === 'idle') && !running;
  const go = (kind: number) => {
    set({ selectedTrap: null });
    emulator().send({ type: 'runUntilTrapKind', kind });
  };
  return (
    <div className="tc-next">
      <button
        type="button"
        className="btn small"
        data-testid="next-translation"
        disabled={!canRun}
        onClick={() => go(TrapKind.Translation)}
        title="Run until the VMM translates the next unit, and show it"
      >
        Next translation
      </button>
      <button
        type="button"
        className="btn small"
        data-testid="next-callout"
        disabled={!canRun}
        onClick={() => go(TrapKind.Callout)}
        title="Run until translated code next calls out into the VMM (logged callouts), and show its unit"
      >
        Next callout
      </button>
    </div>
  );
}

function Unit({ u, source, focus }: { u: TranslationUnitView; source: string; focus: number }) {
  return (
    <>
      <h3 data-testid="tc-unit-head">
        Unit #{u.id}: guest {hex(u.guestEip)} → TC {hex(u.tcAddr)}{' '}
        <span className="muted small">({source})</span>
      </h3>
      <p className="muted small" data-testid="tc-unit-counts">
        {u.insns} guest instructions ({u.ident} IDENT, {u.rewritten} rewritten) → {u.tcBytes} bytes of TC code
        · dispatched {fmtCount(u.dispatches)} times by the VMM (entries through a chained jump are not
        counted) · {u.exitsChained}/{u.exits} exits chained
      </p>
      <table className="vm-table tc-table mono" data-testid="tc-listing">
        <thead>
          <tr>
            <th>guest</th>
            <th>guest instruction</th>
            <th>TC</th>
            <th>translation</th>
          </tr>
        </thead>
        <tbody>
          {u.rows.map((r) => (
            <tr
              key={r.eip}
              className={`${r.rewritten ? 'tc-rewritten' : ''} ${r.eip === focus ? 'current' : ''}`}
              data-testid="tc-row"
              data-kind={r.rewritten || 'ident'}
              title={`${bytesHex(r.bytes)}\n${explainRow(r)}`}
            >
              <th scope="row">{hex(r.eip)}</th>
              <td>
                <div data-testid="tc-guest">{r.text}</div>
                <div className={r.rewritten ? 'tc-note rewritten' : 'tc-note'} data-testid="tc-note">
                  {r.rewritten ? '✎ ' : ''}
                  {explainRow(r)}
                </div>
              </td>
              <td>
                {r.tc.map((i) => (
                  <div key={i.addr}>{hex(i.addr)}</div>
                ))}
              </td>
              <td>
                {r.tc.map((i) => (
                  <div key={i.addr} data-testid="tc-insn" title={bytesHex(i.bytes)}>
                    {i.text}
                  </div>
                ))}
              </td>
            </tr>
          ))}
          {u.tail.length > 0 ? (
            <tr
              className="tc-tail"
              title="After the body: each exit stub is a callout that translates its target and chains the jump"
            >
              <th scope="row" className="muted">
                stubs
              </th>
              <td className="muted tc-note">
                exit stubs and RET-lookup entry check (the guest EIP each stands for)
              </td>
              <td>
                {u.tail.map((i) => (
                  <div key={i.addr}>{hex(i.addr)}</div>
                ))}
              </td>
              <td>
                {u.tail.map((i) => (
                  <div key={i.addr} title={bytesHex(i.bytes)}>
                    {i.text} <span className="muted">→ {i.to >= 0 ? hex(i.to) : '?'}</span>
                  </div>
                ))}
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </>
  );
}
