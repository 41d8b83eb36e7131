/**
 * The guest's page tables beside the shadow tables: for one linear address, the walk the guest
 * kernel believes the MMU does (its CR3, PDE, PTE in guest-physical memory) and the walk the real
 * CPU does through the VMM's shadow tables (host-physical), read live from the worker
 * (hypervisor/vmm/page-walk.ts) — under trap-and-emulate and binary translation. Under
 * paravirtualization there are no shadow tables: DirectWalk shows the one walk and the hypervisor's
 * bookkeeping instead.
 */
import { useEffect, useState } from 'react';
import type { PageWalkInfo, WalkStep } from '../../hypervisor/vmm/page-walk.ts';
import { emulator } from '../emulator.ts';
import { hex } from '../format.ts';
import { useSettledRegs } from '../settled.ts';
import { DirectWalk } from './DirectWalk.tsx';
import { Flags } from './Flags.tsx';
import './paging.css';

function Steps({ cr3, steps, space }: { cr3: number; steps: WalkStep[]; space: string }) {
  return (
    <ol className="pw-steps">
      <li>
        <b>CR3</b> <span className="mono">{hex(cr3)}</span>{' '}
        <span className="muted small">page directory ({space})</span>
      </li>
      {steps.map((s) => (
        <li key={s.level} data-testid={`pw-${s.level}`}>
          <b>{s.level}</b> <span className="muted">[{s.index}]</span> at{' '}
          <span className="mono">{hex(s.addr)}</span> = <span className="mono">{hex(s.value)}</span>{' '}
          <Flags v={s.value} />
        </li>
      ))}
    </ol>
  );
}

export function PageWalkView() {
  const regs = useSettledRegs();
  const vm = regs?.vm ?? 0;
  const cs = regs?.real.segs.find((s) => s.name === 'cs');
  const eipLin = regs ? ((cs?.base ?? 0) + regs.real.eip) >>> 0 : 0;
  const [text, setText] = useState('');
  const lin = /^(0x)?[0-9a-f]{1,8}$/i.test(text.trim())
    ? Number.parseInt(text.trim().replace(/^0x/i, ''), 16)
    : eipLin;
  const [w, setW] = useState<PageWalkInfo | null | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: re-read whenever the registers change (a stop, a frame)
  useEffect(() => {
    let live = true;
    emulator()
      .pageWalk(vm, lin)
      .then((r) => live && setW(r))
      .catch(() => live && setW(null));
    return () => {
      live = false;
    };
  }, [vm, lin, regs]);
  return (
    <div className="pagewalk" data-testid="pagewalk">
      <div className="pw-head">
        <label className="field inline">
          <span className="field-label">Linear address</span>
          <input
            type="text"
            className="addr-input mono"
            placeholder={`${hex(eipLin)} (EIP)`}
            value={text}
            onChange={(e) => setText(e.target.value)}
            data-testid="pw-addr"
          />
        </label>
        <span className="muted small">
          VM {vm} · <span className="mono">{hex(lin)}</span> = directory {lin >>> 22}, table{' '}
          {(lin >>> 12) & 0x3ff}, offset {hex(lin & 0xfff, 3)}
        </span>
      </div>
      {w === undefined ? <div className="muted">Reading the tables…</div> : null}
      {w === null ? <div className="empty">No shadow tables to show for this run.</div> : null}
      {w?.kind === 'direct' ? <DirectWalk w={w} /> : null}
      {w?.kind === 'shadow' ? (
        <div className="pw-cols">
          <section className="pw-col" data-testid="pw-guest">
            <h3>The guest's own tables</h3>
            <p className="muted small">What the guest kernel wrote, in its guest-physical memory.</p>
            {w.guest.paging ? (
              <Steps cr3={w.guest.cr3} steps={w.guest.steps} space="guest-physical" />
            ) : (
              <p>Paging is off in the guest: linear = guest-physical.</p>
            )}
            <p className="pw-result" data-testid="pw-gpa">
              {w.guest.gpa === null
                ? 'Not mapped: a page fault the guest itself must handle.'
                : `guest-physical ${hex(w.guest.gpa)}${w.guest.large ? ' (4 MiB page)' : ''}`}
            </p>
            {w.guest.gpa !== null ? (
              <p className="muted small">
                {w.host === null
                  ? 'Not RAM: reads see all ones.'
                  : `which is host-physical ${hex(w.host)} — in VM ${w.vm}'s slice of host memory`}
              </p>
            ) : null}
          </section>
          <section className="pw-col" data-testid="pw-shadow">
            <h3>The VMM's shadow tables</h3>
            <p className="muted small">What the real CPU walks while VM {w.vm} runs (host-physical).</p>
            <Steps cr3={w.shadow.cr3} steps={w.shadow.steps} space="host-physical" />
            <p className="pw-result" data-testid="pw-hpa">
              {w.shadow.hpa === null
                ? 'Not filled yet: the next touch is a hidden page fault, and the VMM copies the guest entry here.'
                : `host-physical ${hex(w.shadow.hpa)}`}
            </p>
            {w.shadow.hpa !== null && w.host !== null ? (
              <p className={`small ${w.shadow.hpa === w.host ? 'muted' : 'warn'}`}>
                {w.shadow.hpa === w.host
                  ? 'Same frame as the guest’s walk gives: one shadow entry does both steps (linear → guest-physical → host-physical).'
                  : 'Differs from the guest’s walk: the guest changed its tables and has not flushed (INVLPG / CR3) yet.'}
              </p>
            ) : null}
          </section>
        </div>
      ) : null}
    </div>
  );
}
