/**
 * The EPT view (VMCS tab, hardware-assisted with EPT): the 2-D walk of one guest address, read
 * live in the worker (src/hypervisor/hardware-assisted/ept-walk.ts). Left, the guest's own walk
 * (its CR3, PDE, PTE — what the guest kernel wrote); right, for each guest-physical address that
 * walk touches, the VMM's EPT walk (PML4E → PDPTE → PDE → PTE, SDM Vol. 3C §28.2.2) to a
 * host-physical address. Each entry's bits are spelled out. An address box walks any guest-linear
 * or guest-physical address the student types.
 */
import { type FormEvent, useEffect, useState } from 'react';
import type { EptLevelView, EptWalkView, TwoDWalkView } from '../../hypervisor/hardware-assisted/ept-walk.ts';
import { emulator } from '../emulator.ts';
import { type EptAsk, type EptSpace, hexAddr, parseHexAddress } from '../link-view.ts';
import { useUi } from '../store.ts';
import './ept-walk.css';

const hex = (v: number, digits = 8) => `0x${(v >>> 0).toString(16).padStart(digits, '0')}`;
const MEM_TYPES = ['UC', 'WC', '?2', '?3', 'WT', 'WP', 'WB', '?7'];

/** EPT entry bits (SDM Table 28-1 … 28-6): R W X, memory type and large page on leaves, A D. */
function eptBits(e: EptLevelView): string {
  const lo = e.lo;
  const b = [lo & 1 ? 'R' : '-', lo & 2 ? 'W' : '-', lo & 4 ? 'X' : '-'].join('');
  const parts = [b];
  if (e.leaf) parts.push(MEM_TYPES[(lo >>> 3) & 7]);
  if (e.level === 2 && lo & 0x80) parts.push('2 MiB');
  if (lo & 0x100) parts.push('A');
  if (e.leaf && lo & 0x200) parts.push('D');
  return parts.join(' ');
}

/** Guest (IA-32, 2-level) entry bits (SDM §4.3): P RW US A D PS G. */
function guestBits(v: number, pde: boolean): string {
  const f: string[] = [v & 1 ? 'P' : 'not present'];
  if (v & 1) {
    f.push(v & 2 ? 'RW' : 'RO', v & 4 ? 'U' : 'S');
    if (v & 0x20) f.push('A');
    if (v & 0x40 && (!pde || v & 0x80)) f.push('D');
    if (pde && v & 0x80) f.push('PS 4 MiB');
    if (v & 0x100 && (!pde || v & 0x80)) f.push('G');
  }
  return f.join(' ');
}

function Ept({ w, testid }: { w: EptWalkView; testid: string }) {
  return (
    <table className="vm-table ept-walk" data-testid={testid}>
      <tbody>
        {w.levels.map((e) => (
          <tr key={e.level} data-level={e.level}>
            <th scope="row">{e.name}</th>
            <td className="mono">@{hex(e.addr)}</td>
            <td className="mono">{`${hex(e.hi)}_${hex(e.lo).slice(2)}`}</td>
            <td className="mono">{eptBits(e)}</td>
          </tr>
        ))}
        <tr>
          <td colSpan={4} className="mono">
            {w.hpa !== null ? (
              <>
                GPA {hex(w.gpa)} → HPA <strong>{hex(w.hpa)}</strong>
              </>
            ) : (
              <span className="error-text">
                GPA {hex(w.gpa)}: {w.stop ?? 'no translation'}
              </span>
            )}
          </td>
        </tr>
      </tbody>
    </table>
  );
}

/**
 * The EPT view of VM `vm`: by default the walk of the last exit's address (`walk`, from the
 * frame); with an address typed in (or carried in a share link, see ../link-view.ts), that
 * address's walk, asked of the worker and re-read at each stop (the guest's tables and the EPT may
 * have changed meanwhile).
 */
export function EptWalk({ vm, walk: dflt }: { vm: number; walk: TwoDWalkView }) {
  const asked = useUi((s) => s.eptAsk);
  const set = useUi((s) => s.set);
  const [text, setText] = useState(() => (asked ? hexAddr(asked.addr) : ''));
  const [space, setSpace] = useState<EptSpace>(asked?.space ?? 'linear');
  const setAsked = (a: EptAsk | null) => set({ eptAsk: a });
  const [error, setError] = useState('');
  const [mine, setMine] = useState<TwoDWalkView | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: dflt changes when the machine stops somewhere new: re-read then
  useEffect(() => {
    if (!asked) {
      setMine(null);
      return;
    }
    let live = true;
    emulator()
      .eptWalk(vm, asked.addr, asked.space)
      .then((w) => {
        if (!live) return;
        setMine(w);
        setError(w ? '' : 'This VM has no EPT to walk (shadow paging, or no VMCS yet).');
      })
      .catch((e: unknown) => live && setError(e instanceof Error ? e.message : String(e)));
    return () => {
      live = false;
    };
  }, [vm, asked, dflt]);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const addr = parseHexAddress(text);
    if (addr === null) {
      setError(`“${text.trim()}” is not an address: type 1 to 8 hex digits, e.g. 0xC0100000 or b8000.`);
      return;
    }
    setError('');
    setAsked({ addr, space });
  };
  const walk = asked && mine ? mine : dflt;
  return (
    <details open data-testid="ept-view">
      <summary>
        <strong>EPT view: the 2-D walk</strong>{' '}
        <span className="muted">(SDM Vol. 3C §28.2; address from {walk.source})</span>
      </summary>
      <form className="vm-note ept-ask" onSubmit={submit} data-testid="ept-ask">
        <label>
          Walk the{' '}
          <select
            data-testid="ept-ask-space"
            value={space}
            onChange={(e) => setSpace(e.target.value as EptSpace)}
          >
            <option value="linear">guest-linear</option>
            <option value="guest-physical">guest-physical</option>
          </select>{' '}
          address{' '}
          <input
            data-testid="ept-ask-addr"
            className="mono"
            size={12}
            placeholder="0xC0100000"
            spellCheck={false}
            value={text}
            aria-invalid={error !== ''}
            onChange={(e) => setText(e.target.value)}
          />
        </label>{' '}
        <button type="submit" data-testid="ept-ask-go">
          Walk
        </button>{' '}
        {asked ? (
          <button
            type="button"
            className="link"
            data-testid="ept-ask-reset"
            onClick={() => {
              setAsked(null);
              setError('');
            }}
          >
            back to the exit's own address
          </button>
        ) : null}
        {error ? (
          <span className="error-text" role="alert" data-testid="ept-ask-error">
            {' '}
            {error}
          </span>
        ) : null}
      </form>
      <p className="vm-note" data-testid="ept-address">
        {walk.linear !== null ? (
          <>
            Guest-linear <span className="mono">{hex(walk.linear)}</span>
            {walk.paging ? (
              <>
                {' '}
                — guest paging on, guest CR3 <span className="mono">{hex(walk.cr3)}</span>: each guest
                page-table entry sits at a guest-physical address the CPU first translates through the EPT.
              </>
            ) : (
              ' — guest paging off: linear = guest-physical.'
            )}
          </>
        ) : (
          'Only a guest-physical address is known.'
        )}
      </p>
      <div className="ept-grid">
        {walk.guest.map((s) => (
          <div className="ept-row" key={s.name} data-testid={`ept-guest-${s.name}`}>
            <div className="ept-guest">
              <strong>Guest {s.name}</strong> at GPA <span className="mono">{hex(s.gpa)}</span>
              <div className="mono">{hex(s.value)}</div>
              <div className="mono">{guestBits(s.value, s.name === 'PDE')}</div>
            </div>
            <Ept w={s.ept} testid={`ept-walk-${s.name}`} />
          </div>
        ))}
        {walk.guestStop ? <p className="error-text">{walk.guestStop}</p> : null}
        {walk.final ? (
          <div className="ept-row" data-testid="ept-final">
            <div className="ept-guest">
              <strong>Guest-physical</strong> <span className="mono">{hex(walk.final.gpa)}</span>
              <div className="muted">the address the guest's walk produced</div>
            </div>
            <Ept w={walk.final} testid="ept-walk-final" />
          </div>
        ) : null}
      </div>
    </details>
  );
}
