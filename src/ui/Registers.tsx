/**
 * Registers of the real CPU beside the current VM's virtual CPU (when a VMM runs the guest).
 * Everything that differs from the registers at the previous stop is highlighted.
 */
import { memo, type ReactNode } from 'react';
import type { CpuView, SegmentView } from '../worker/protocol.ts';
import { type BitDef, bitValue, CR0_BITS, CR4_BITS, describeSegAttrs, EFLAGS_BITS, hex } from './format.ts';
import { useUi } from './store.ts';
import './registers.css';

const GPRS = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp'] as const;
const SEG_ORDER = ['cs', 'ss', 'ds', 'es', 'fs', 'gs', 'ldtr', 'tr'];

// Values and bit rows are memoised on their (primitive) props: a snapshot while the guest runs
// re-renders the table, and most cells show what they showed before.
const Val = memo(function Val({
  v,
  prev,
  other,
  digits = 8,
}: {
  v: number;
  prev: number | undefined;
  /** The real CPU's value, when this is the virtual CPU's column. */
  other?: number;
  digits?: number;
}) {
  const changed = prev !== undefined && prev !== v;
  const differs = other !== undefined && other !== v;
  return (
    <span
      className={`val mono ${changed ? 'changed' : ''} ${differs ? 'differs' : ''}`}
      title={`${v >>> 0} (decimal)${differs ? ` — the real CPU has ${hex(other, digits)}` : ''}`}
    >
      {hex(v, digits)}
    </span>
  );
});

const Bits = memo(function Bits({
  value,
  prev,
  defs,
  testid,
}: {
  value: number;
  prev: number | undefined;
  defs: BitDef[];
  testid?: string;
}) {
  return (
    <span className="bits" data-testid={testid}>
      {defs.map((d) => {
        const b = bitValue(value, d);
        const changed = prev !== undefined && bitValue(prev, d) !== b;
        return (
          <span
            key={d.name}
            className={`bit ${b ? 'on' : 'off'} ${changed ? 'changed' : ''}`}
            title={`${d.name} = ${b}: ${d.title}`}
          >
            {d.name}
            {d.width ? <sub>{b}</sub> : null}
          </span>
        );
      })}
    </span>
  );
});

function segText(s: SegmentView): { short: string; long: string } {
  if (!s.valid) return { short: 'unusable', long: 'No usable descriptor is loaded (null selector).' };
  const a = describeSegAttrs(s.attrs);
  const size = s.name === 'ldtr' || s.name === 'tr' ? '' : a.big ? ' · 32-bit' : ' · 16-bit';
  return {
    short: `DPL${a.dpl}${size}`,
    long: `base ${hex(s.base)}, limit ${hex(s.limit)}, ${a.type}, DPL ${a.dpl}, ${a.present ? 'present' : 'NOT present'}, ${a.big ? 'D/B=1' : 'D/B=0'}, ${a.gran ? '4 KiB granularity' : 'byte granularity'} (attributes ${hex(s.attrs, 4)})`,
  };
}

function SegCell({ s, prev }: { s: SegmentView | undefined; prev: SegmentView | undefined }) {
  if (!s) return <span className="muted">—</span>;
  const t = segText(s);
  const changed = (k: keyof SegmentView) => prev !== undefined && prev[k] !== s[k];
  return (
    <span className="seg" title={t.long}>
      <span className={`mono sel ${changed('selector') ? 'changed' : ''}`}>{hex(s.selector, 4)}</span>
      <span className={`mono dim ${changed('base') ? 'changed' : ''}`}>{hex(s.base)}</span>
      <span className={`mono dim ${changed('limit') ? 'changed' : ''}`}>{hex(s.limit)}</span>
      <span className={`seg-attr ${changed('attrs') ? 'changed' : ''}`}>{t.short}</span>
    </span>
  );
}

/** Renders one CPU's cell; `real` is the real CPU when rendering the virtual CPU's column. */
type Cell = (cpu: CpuView, prev: CpuView | undefined, real: CpuView | undefined) => ReactNode;

function Row({
  name,
  title,
  cpus,
  prevs,
  cell,
}: {
  name: string;
  title?: string;
  cpus: (CpuView | null)[];
  prevs: (CpuView | undefined)[];
  cell: Cell;
}) {
  return (
    <tr>
      <th scope="row" title={title}>
        {name}
      </th>
      {cpus.map((c, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: fixed columns (real, virtual)
        <td key={i}>
          {c ? (
            cell(c, prevs[i], i > 0 ? (cpus[0] ?? undefined) : undefined)
          ) : (
            <span className="muted">—</span>
          )}
        </td>
      ))}
    </tr>
  );
}

export function Registers() {
  const regs = useUi((s) => s.regs);
  const base = useUi((s) => s.baseRegs);
  const loaded = useUi((s) => s.loaded);
  const technique = useUi((s) => s.scenario.technique);
  if (!regs) {
    return (
      <div className="empty" data-testid="registers-empty">
        {loaded ? 'Waiting for the first register snapshot…' : 'Load a guest to see its registers.'}
      </div>
    );
  }
  const cpus: (CpuView | null)[] = [regs.real, regs.virtual ?? null];
  const prevs: (CpuView | undefined)[] = [base?.real, base?.virtual];
  const rowOf = (name: string, cell: Cell, title?: string) => (
    <Row key={name || title} name={name} title={title} cpus={cpus} prevs={prevs} cell={cell} />
  );
  const segRow = (n: string) =>
    rowOf(
      n.toUpperCase(),
      (c, p) => <SegCell s={c.segs.find((s) => s.name === n)} prev={p?.segs.find((s) => s.name === n)} />,
      'Selector · descriptor-cache base · limit · attributes (hover for details)',
    );
  return (
    <div className="registers" data-testid="registers">
      <table className="reg-table">
        <colgroup>
          <col className="c-name" />
          <col />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th />
            <th scope="col">{regs.real.label}</th>
            <th scope="col" className={regs.virtual ? '' : 'muted'}>
              {regs.virtual ? regs.virtual.label : 'Virtual CPU'}
              {!regs.virtual ? (
                <span className="th-note">
                  {technique === 'native'
                    ? 'none: under native the guest owns the real CPU'
                    : 'appears when the VMM reports its VM state'}
                </span>
              ) : null}
            </th>
          </tr>
        </thead>
        <tbody>
          <tr className="section">
            <td colSpan={3}>General</td>
          </tr>
          {GPRS.map((r) =>
            rowOf(r.toUpperCase(), (c, p, o) => <Val v={c.gpr[r]} prev={p?.gpr[r]} other={o?.gpr[r]} />),
          )}
          {rowOf(
            'EIP',
            (c, p, o) => (
              <Val v={c.eip} prev={p?.eip} other={o?.eip} />
            ),
            'Instruction pointer (offset in CS)',
          )}
          {rowOf(
            'CPL',
            (c, p, o) => (
              <span
                className={`mono ${p && p.cpl !== c.cpl ? 'changed' : ''} ${o && o.cpl !== c.cpl ? 'differs' : ''}`}
                title={
                  o && o.cpl !== c.cpl
                    ? `The guest believes it runs in ring ${c.cpl}; really it runs in ring ${o.cpl}`
                    : undefined
                }
              >
                ring {c.cpl} <span className="muted">· {c.mode}</span>
                {c.halted ? <span className="pill small">HLT</span> : null}
              </span>
            ),
            'Current privilege level and operating mode',
          )}
          <tr className="section">
            <td colSpan={3}>EFLAGS</td>
          </tr>
          {rowOf('EFLAGS', (c, p, o) => (
            <Val v={c.eflags} prev={p?.eflags} other={o?.eflags} />
          ))}
          {rowOf('bits', (c, p) => (
            <Bits value={c.eflags} prev={p?.eflags} defs={EFLAGS_BITS} testid="eflags-bits" />
          ))}
          <tr className="section">
            <td colSpan={3}>Segments (selector · base · limit)</td>
          </tr>
          {SEG_ORDER.map(segRow)}
          <tr className="section">
            <td colSpan={3}>Control</td>
          </tr>
          {rowOf('CR0', (c, p, o) => (
            <Val v={c.cr.cr0} prev={p?.cr.cr0} other={o?.cr.cr0} />
          ))}
          {rowOf(
            '',
            (c, p) => (
              <Bits value={c.cr.cr0} prev={p?.cr.cr0} defs={CR0_BITS} />
            ),
            'CR0 bits',
          )}
          {rowOf(
            'CR2',
            (c, p) => (
              <Val v={c.cr.cr2} prev={p?.cr.cr2} />
            ),
            'Page-fault linear address',
          )}
          {rowOf(
            'CR3',
            (c, p, o) => (
              <Val v={c.cr.cr3} prev={p?.cr.cr3} other={o?.cr.cr3} />
            ),
            'Page-directory base',
          )}
          {rowOf('CR4', (c, p) => (
            <Val v={c.cr.cr4} prev={p?.cr.cr4} />
          ))}
          {rowOf(
            '',
            (c, p) => (
              <Bits value={c.cr.cr4} prev={p?.cr.cr4} defs={CR4_BITS} />
            ),
            'CR4 bits',
          )}
          {rowOf('GDTR', (c, p, o) => (
            <span className="mono">
              <Val v={c.gdtr.base} prev={p?.gdtr.base} other={o?.gdtr.base} /> <span className="dim">/</span>{' '}
              <Val v={c.gdtr.limit} prev={p?.gdtr.limit} digits={4} />
            </span>
          ))}
          {rowOf('IDTR', (c, p, o) => (
            <span className="mono">
              <Val v={c.idtr.base} prev={p?.idtr.base} other={o?.idtr.base} /> <span className="dim">/</span>{' '}
              <Val v={c.idtr.limit} prev={p?.idtr.limit} digits={4} />
            </span>
          ))}
        </tbody>
      </table>
    </div>
  );
}
