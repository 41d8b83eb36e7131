/**
 * Disassembly around EIP beside a memory hex view — both visible at once, as teachers ask.
 * x86 cannot be decoded backwards, so the lines before EIP come from decoding a window that starts
 * earlier and keeping it only when it resynchronises exactly on EIP.
 */
import { useEffect, useRef, useState } from 'react';
import type { DisasmLine, MemorySpace, RegSnapshot } from '../worker/protocol.ts';
import { emulator } from './emulator.ts';
import { fmtBytes, hex, printable } from './format.ts';
import { hexRuns } from './hex-runs.ts';
import { useSettledRegs } from './settled.ts';
import { useUi } from './store.ts';
import './code-view.css';

const BEFORE = 6;
const AFTER = 18;
const HEX_ROWS = 16;

function linearEip(r: RegSnapshot): number {
  const cs = r.real.segs.find((s) => s.name === 'cs');
  return ((cs?.base ?? 0) + r.real.eip) >>> 0;
}

function Disassembly() {
  const regs = useSettledRegs();
  const codeAt = useUi((s) => s.codeAt);
  const set = useUi((s) => s.set);
  const [lines, setLines] = useState<DisasmLine[]>([]);
  const [err, setErr] = useState<string | null>(null);
  const eip = regs ? linearEip(regs) : null;
  const center = codeAt?.addr ?? eip;
  // Re-read on every snapshot (not only when EIP moves): code may change under the same EIP.
  // biome-ignore lint/correctness/useExhaustiveDependencies: regs identity marks a new snapshot
  useEffect(() => {
    if (center === null) {
      setLines([]);
      return;
    }
    let live = true;
    const emu = emulator();
    Promise.all([emu.disassemble(Math.max(0, center - 48), 48), emu.disassemble(center, AFTER)])
      .then(([back, fwd]) => {
        if (!live) return;
        const at = back.findIndex((l) => l.addr === center);
        const before = at > 0 ? back.slice(Math.max(0, at - BEFORE), at) : [];
        setLines([...before, ...fwd]);
        setErr(null);
      })
      .catch((e: Error) => live && setErr(e.message));
    return () => {
      live = false;
    };
  }, [center, regs]);
  if (center === null) return <div className="empty">No code yet.</div>;
  return (
    <div className="disasm mono" data-testid="disasm">
      {codeAt ? (
        <div className="pinned-note">
          <span>
            Showing {codeAt.label} · <span className="muted">◆ marks it</span>
          </span>
          <button type="button" className="link" onClick={() => set({ codeAt: null })}>
            back to EIP
          </button>
        </div>
      ) : null}
      {err ? <div className="error-text">{err}</div> : null}
      {lines.map((l, i) => (
        <div
          // Keyed by position, not address: when EIP moves, the rows update their text in place
          // instead of being torn down and rebuilt (a layout of the whole list every second).
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in the window
          key={i}
          className={`dline ${l.addr === eip ? 'current' : ''} ${codeAt && l.addr === codeAt.addr ? 'pinned' : ''}`}
          data-current={l.addr === eip || undefined}
        >
          <span className="d-mark">{l.addr === eip ? '▶' : codeAt && l.addr === codeAt.addr ? '◆' : ''}</span>
          <span className="d-addr">{hex(l.addr)}</span>
          <span className="d-bytes">{l.bytes.map((b) => hex(b, 2)).join(' ')}</span>
          <span className="d-text">{l.text}</span>
        </div>
      ))}
    </div>
  );
}

function parseHex(s: string): number | null {
  const t = s.trim().replace(/^0x/i, '').replace(/[_\s]/g, '');
  if (!/^[0-9a-f]{1,8}$/i.test(t)) return null;
  return Number.parseInt(t, 16) >>> 0;
}

function HexView() {
  const regs = useSettledRegs();
  const [space, setSpace] = useState<MemorySpace>('linear');
  const [addr, setAddr] = useState(0);
  const [input, setInput] = useState('00000000');
  const [follow, setFollow] = useState<'eip' | 'esp' | null>('eip');
  const [bytes, setBytes] = useState<Uint8Array | null>(null);
  const prev = useRef<{ addr: number; space: MemorySpace; bytes: Uint8Array } | null>(null);
  const [changed, setChanged] = useState<Set<number>>(new Set());
  const [err, setErr] = useState<string | null>(null);
  const box = useRef<HTMLDivElement>(null);
  const [cols, setCols] = useState(16);

  // 16 bytes a row when it fits, else 8 (a row is ~76 or ~44 monospace cells).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => {
      const ch = Number.parseFloat(getComputedStyle(el).fontSize) * 0.62;
      setCols(el.clientWidth >= 76 * ch ? 16 : 8);
    });
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const target =
    follow && regs
      ? follow === 'eip'
        ? linearEip(regs) & ~0xf
        : ((regs.real.segs.find((s) => s.name === 'ss')?.base ?? 0) + regs.real.gpr.esp) & ~0xf
      : addr;

  useEffect(() => {
    if (!regs) return;
    let live = true;
    const a = target >>> 0;
    emulator()
      .readMemory(space, a, HEX_ROWS * cols)
      .then((b) => {
        if (!live) return;
        const p = prev.current;
        const ch = new Set<number>();
        if (p && p.addr === a && p.space === space)
          for (let i = 0; i < b.length; i++) if (p.bytes[i] !== b[i]) ch.add(i);
        prev.current = { addr: a, space, bytes: b };
        setChanged(ch);
        setBytes(b);
        setErr(null);
      })
      .catch((e: Error) => live && setErr(e.message));
    return () => {
      live = false;
    };
  }, [regs, target, space, cols]);

  useEffect(() => {
    setInput(hex(target));
  }, [target]);

  const jump = (a: number) => {
    setFollow(null);
    setAddr(a >>> 0);
  };

  return (
    <div className="hexview" data-testid="hexview">
      <div className="hex-controls">
        <input
          className="mono addr-input"
          aria-label="Memory address (hex)"
          value={input}
          spellCheck={false}
          onChange={(e) => setInput(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter') {
              const a = parseHex(input);
              if (a === null) setErr(`'${input}' is not a hex address`);
              else jump(a & ~0xf);
            }
          }}
        />
        <select
          className="space"
          data-testid="mem-space"
          value={space}
          onChange={(e) => setSpace(e.target.value as MemorySpace)}
          aria-label="Address space"
        >
          <option value="linear">linear</option>
          <option value="physical">physical</option>
        </select>
        <span className="seg-btns">
          <button
            type="button"
            className={`chip ${follow === 'eip' ? 'on' : ''}`}
            onClick={() => setFollow('eip')}
          >
            EIP
          </button>
          <button
            type="button"
            className={`chip ${follow === 'esp' ? 'on' : ''}`}
            onClick={() => setFollow('esp')}
          >
            ESP
          </button>
          {regs ? (
            <>
              <button type="button" className="chip" onClick={() => jump(regs.real.gdtr.base)}>
                GDT
              </button>
              <button type="button" className="chip" onClick={() => jump(regs.real.idtr.base)}>
                IDT
              </button>
            </>
          ) : null}
        </span>
      </div>
      {err ? <div className="error-text small">{err}</div> : null}
      {space === 'physical' && regs ? <MemMap vm={regs.vm} onJump={jump} /> : null}
      <div className={`hex mono cols-${cols}`} ref={box}>
        {bytes
          ? Array.from({ length: Math.ceil(bytes.length / cols) }, (_, row) => {
              const base = (target + row * cols) >>> 0;
              const slice = bytes.subarray(row * cols, row * cols + cols);
              return (
                // Keyed by position (see the disassembly): a moving window updates rows in place.
                // biome-ignore lint/suspicious/noArrayIndexKey: rows are positions in the window
                <div className="hrow" key={row}>
                  <span className="h-addr">{hex(base)}</span>
                  <span className="h-bytes">
                    {hexRuns(slice, (i) => changed.has(row * cols + i)).map((r, i) =>
                      r.cls ? (
                        // biome-ignore lint/suspicious/noArrayIndexKey: runs are positions in the row
                        <span key={i} className={r.cls}>
                          {r.text}
                        </span>
                      ) : (
                        r.text
                      ),
                    )}
                  </span>
                  <span className="h-ascii">{Array.from(slice, printable).join('')}</span>
                </div>
              );
            })
          : null}
      </div>
    </div>
  );
}

/**
 * The shown VM's guest-physical → host-physical map: under a VMM, "physical" addresses in the hex
 * view are the guest's; this says where each range really lives in the host's RAM.
 */
function MemMap({ vm, onJump }: { vm: number; onJump: (a: number) => void }) {
  const info = useUi((s) => s.vmInfo?.find((v) => v.vm === vm));
  const technique = useUi((s) => s.loaded?.technique);
  if (!info) return null;
  if (technique === 'native') {
    return (
      <p className="muted small memmap-note" data-testid="memmap">
        Native: the guest owns the machine, so its physical addresses are the host's.
      </p>
    );
  }
  return (
    <div data-testid="memmap">
      <p className="muted small memmap-note">
        Guest-physical addresses of VM {vm}. The VMM keeps them in its own slice of host RAM:
      </p>
      <ul className="memmap mono">
        {info.memory.map((m) => (
          <li key={m.guestPhys} className={m.kind}>
            <button
              type="button"
              className="link mono"
              title="Show this guest-physical range"
              onClick={() => onJump(m.guestPhys)}
            >
              {hex(m.guestPhys)}–{hex(m.guestPhys + m.bytes - 1)}
            </button>{' '}
            <span className="muted">→</span>{' '}
            <span title="host-physical">{m.kind === 'ram' ? `host ${hex(m.hostPhys)}` : m.kind}</span>{' '}
            <span className="muted">{fmtBytes(m.bytes)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

export function CodeView() {
  return (
    <div className="codeview">
      <section className="sub">
        <h3>Disassembly</h3>
        <Disassembly />
      </section>
      <section className="sub">
        <h3>Memory</h3>
        <HexView />
      </section>
    </div>
  );
}
