/**
 * The page-tables view under paravirtualization (direct paging, Xen-style): one walk, because the
 * guest's own tables are the ones the MMU walks (they hold machine addresses). Beside each table
 * frame: what the hypervisor keeps about it (validated type, pin, references, writable mappings)
 * and where the guest maps it, read-only. Then where the hypervisor's hole is. All from live state
 * (hypervisor/paravirtual/page-walk.ts).
 */
import type { DirectPageWalk, DirectWalkStep, FrameFacts } from '../../hypervisor/vmm/page-walk.ts';
import { hex } from '../format.ts';
import { Flags } from './Flags.tsx';

const TYPE_TEXT: Record<FrameFacts['type'], string> = {
  L2: 'page directory (L2), validated',
  L1: 'page table (L1), validated',
  none: 'ordinary memory (no page-table type)',
};

function FrameCard({ f, testid }: { f: FrameFacts; testid: string }) {
  const table = f.type !== 'none';
  const shown = f.mappedAt;
  return (
    <div className="pw-frame" data-testid={testid} data-type={f.type} data-pinned={f.pinned ? 'yes' : 'no'}>
      <div>
        <span className={`pw-type ${table ? 'table' : ''}`}>{TYPE_TEXT[f.type]}</span>
        {f.pinned ? <span className="pw-pin">pinned</span> : null}{' '}
        <span className="muted small">
          machine frame <span className="mono">{hex(f.mfn, 5)}</span> · the guest's frame{' '}
          <span className="mono">{hex(f.pfn, 5)}</span>
          {table ? ` · ${f.refs} type reference${f.refs === 1 ? '' : 's'}` : ''}
        </span>
      </div>
      <div className="small" data-testid={`${testid}-maps`}>
        {f.mappings === 0 ? (
          <span className="muted">Not mapped in this address space.</span>
        ) : (
          <>
            The guest maps it at{' '}
            {shown.map((m, i) => (
              <span key={m.lin}>
                {i > 0 ? ', ' : ''}
                <span className="mono">{hex(m.lin)}</span>{' '}
                <span className={m.rw ? 'pw-rw' : 'pw-ro'} data-rw={m.rw ? 'yes' : 'no'}>
                  {m.rw ? 'writable' : 'read-only'}
                </span>
              </span>
            ))}
            {f.mappings > shown.length ? ` and ${f.mappings - shown.length} more` : ''}.
          </>
        )}
        {table ? (
          <span className="muted">
            {' '}
            {f.writable === 0
              ? 'No writable mapping exists: every change is a hypercall the hypervisor validates.'
              : `${f.writable} writable mapping(s) — should be impossible for a table.`}
          </span>
        ) : null}
      </div>
    </div>
  );
}

function Step({ s }: { s: DirectWalkStep }) {
  return (
    <li data-testid={`pw-${s.level}`}>
      <b>{s.level}</b> <span className="muted">[{s.index}]</span> at{' '}
      <span className="mono">{hex(s.addr)}</span> = <span className="mono">{hex(s.value)}</span>{' '}
      <Flags v={s.value} />
      {s.table ? (
        <FrameCard f={s.table} testid={`pw-${s.level}-frame`} />
      ) : (
        <div className="pw-frame small muted" data-testid={`pw-${s.level}-frame`} data-type="hypervisor">
          The hypervisor's own page table (not a frame of the guest).
        </div>
      )}
    </li>
  );
}

export function DirectWalk({ w }: { w: DirectPageWalk }) {
  return (
    <div className="pw-cols pw-direct" data-testid="pw-direct">
      <section className="pw-col" data-testid="pw-guest">
        <h3>One walk: the guest's own tables are the real ones</h3>
        <p className="muted small">
          Direct paging: CR3 holds the guest's own page directory; its entries are machine addresses. No
          shadow tables, so no hidden page faults.
        </p>
        <ol className="pw-steps">
          <li>
            <b>CR3</b> <span className="mono">{hex(w.cr3)}</span>{' '}
            <span className="muted small">the guest's page directory (machine address)</span>
          </li>
          {w.steps.map((s) => (
            <Step key={s.level} s={s} />
          ))}
        </ol>
        <p className="pw-result" data-testid="pw-machine">
          {w.machine === null
            ? w.hole.inside
              ? 'Not mapped here.'
              : 'Not mapped: a page fault the hypervisor bounces to the guest’s own handler.'
            : `machine ${hex(w.machine)}${w.pseudo !== null ? ` — the guest’s frame ${hex(w.pseudo >>> 12, 5)}` : ''}${w.sharedInfo ? ' (the shared info page)' : ''}`}
        </p>
        {w.target && w.target.type !== 'none' ? (
          <p className="small">This address maps a page table itself:</p>
        ) : null}
        {w.target && w.target.type !== 'none' ? <FrameCard f={w.target} testid="pw-target-frame" /> : null}
      </section>
      <section className="pw-col" data-testid="pw-hole">
        <h3>The hypervisor's hole</h3>
        <p className="small">
          From <span className="mono">{hex(w.hole.start)}</span> up (directory slots {w.hole.firstSlot}–1023)
          every address space belongs to the hypervisor: a guest update there is refused.
          {w.hole.inside ? <b> This address is inside it.</b> : null}
        </p>
        <ul className="pw-slots">
          {w.hole.slots.length === 0 ? <li className="muted">No entries present.</li> : null}
          {w.hole.slots.map((s) => (
            <li key={s.slot} data-testid="pw-hole-slot">
              slot {s.slot} → <span className="mono">{hex(s.table)}</span>{' '}
              <span className="muted small">
                the hypervisor's table: its GDT, IDT and TSS, mapped read-only in every address space
              </span>
            </li>
          ))}
        </ul>
        <p className="muted small" data-testid="pw-counts">
          Frames validated as tables in this VM: {w.counts.l2} page director
          {w.counts.l2 === 1 ? 'y' : 'ies'}, {w.counts.l1} page table{w.counts.l1 === 1 ? '' : 's'};{' '}
          {w.counts.pinned} pinned.
        </p>
      </section>
    </div>
  );
}
