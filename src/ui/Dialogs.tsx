/** The load-from-disk dialog, the help overlay and the toasts. */
import { useEffect, useRef, useState } from 'react';
import type { UploadedGuest } from '../worker/protocol.ts';
import { CloseIcon } from './Icons.tsx';
import { loadUpload } from './scenario.ts';
import { useUi } from './store.ts';
import './dialogs.css';

const MAX_FILE = 256 * 1024 * 1024;

function Modal({
  title,
  onClose,
  children,
  testid,
}: {
  title: string;
  onClose: () => void;
  children: React.ReactNode;
  testid: string;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.querySelector<HTMLElement>('input, select, button:not(.close)')?.focus();
  }, []);
  return (
    // biome-ignore lint/a11y/noStaticElementInteractions: clicking the backdrop closes; Esc does too
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        data-testid={testid}
        ref={ref}
      >
        <div className="modal-head">
          <h2>{title}</h2>
          <button type="button" className="btn ghost icon-only close" onClick={onClose} aria-label="Close">
            <CloseIcon />
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

async function readFile(f: File | null | undefined, what: string): Promise<Uint8Array> {
  if (!f) throw new Error(`Choose a ${what} file.`);
  if (f.size === 0) throw new Error(`${f.name} is empty (0 bytes).`);
  if (f.size > MAX_FILE)
    throw new Error(`${f.name} is ${(f.size / 2 ** 20).toFixed(0)} MiB; the limit is 256 MiB.`);
  return new Uint8Array(await f.arrayBuffer());
}

function parseAddr(s: string, what: string): number {
  const t = s.trim().replace(/^0x/i, '');
  if (!/^[0-9a-f]{1,8}$/i.test(t))
    throw new Error(`${what} must be a hex address such as 0x7C00, got '${s}'.`);
  return Number.parseInt(t, 16) >>> 0;
}

export function LoadDialog() {
  const set = useUi((s) => s.set);
  const loading = useUi((s) => s.loading);
  const loadError = useUi((s) => s.loadError);
  const technique = useUi((s) => s.scenario.technique);
  const [kind, setKind] = useState<UploadedGuest['kind']>('kernel');
  const [err, setErr] = useState<string | null>(null);
  const [cmdline, setCmdline] = useState('console=ttyS0');
  const [addr, setAddr] = useState('0x7C00');
  const [entry, setEntry] = useState('0x7C00');
  const main = useRef<HTMLInputElement>(null);
  const initrd = useRef<HTMLInputElement>(null);
  const close = () => set({ loadOpen: false, loadError: null });

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setErr(null);
    set({ loadError: null });
    try {
      const f = main.current?.files?.[0];
      const image = await readFile(
        f,
        kind === 'kernel' ? 'kernel' : kind === 'bios' ? 'BIOS ROM' : 'raw image',
      );
      const name = f!.name;
      let g: UploadedGuest;
      if (kind === 'kernel') {
        const ird = initrd.current?.files?.[0];
        g = { kind, name, kernel: image };
        if (ird) g.initrd = await readFile(ird, 'initrd');
        if (cmdline.trim()) g.cmdline = cmdline.trim();
      } else if (kind === 'bios') g = { kind, name, image };
      else
        g = {
          kind,
          name,
          image,
          addr: parseAddr(addr, 'Load address'),
          entry: parseAddr(entry, 'Entry point'),
        };
      loadUpload(g);
    } catch (x) {
      setErr(x instanceof Error ? x.message : String(x));
    }
  };

  const shown = err ?? loadError;
  return (
    <Modal title="Load a guest from disk" onClose={close} testid="load-dialog">
      <form className="load-form" onSubmit={submit}>
        <fieldset className="radio-row">
          <legend>Image type</legend>
          {(
            [
              ['kernel', 'Kernel', 'Multiboot ELF or Linux bzImage (detected)'],
              ['raw', 'Raw binary', 'Copied to memory and entered in real mode'],
              ['bios', 'BIOS ROM', 'Mapped below 4 GiB; the CPU starts at its reset vector'],
            ] as const
          ).map(([k, label, hint]) => (
            <label key={k} className={`radio ${kind === k ? 'on' : ''}`}>
              <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} />
              <span>
                <b>{label}</b>
                <small>{hint}</small>
              </span>
            </label>
          ))}
        </fieldset>
        <label className="field block">
          <span className="field-label">
            {kind === 'kernel' ? 'Kernel' : kind === 'bios' ? 'ROM image' : 'Image'}
          </span>
          <input type="file" ref={main} data-testid="load-file" />
        </label>
        {kind === 'kernel' ? (
          <>
            <label className="field block">
              <span className="field-label">Initrd (optional, Linux)</span>
              <input type="file" ref={initrd} data-testid="load-initrd" />
            </label>
            <label className="field block">
              <span className="field-label">Command line</span>
              <input
                type="text"
                className="mono"
                value={cmdline}
                onChange={(e) => setCmdline(e.target.value)}
              />
            </label>
          </>
        ) : null}
        {kind === 'raw' ? (
          <div className="row2">
            <label className="field block">
              <span className="field-label">Load address</span>
              <input type="text" className="mono" value={addr} onChange={(e) => setAddr(e.target.value)} />
            </label>
            <label className="field block">
              <span className="field-label">Entry (linear)</span>
              <input type="text" className="mono" value={entry} onChange={(e) => setEntry(e.target.value)} />
            </label>
          </div>
        ) : null}
        <p className="muted small">
          Runs with the technique selected in the toolbar (<b>{technique}</b>). Nothing is uploaded anywhere:
          the file stays in this browser tab.
        </p>
        {shown ? (
          <div className="form-error" role="alert" data-testid="load-error">
            {shown}
          </div>
        ) : null}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={close}>
            Cancel
          </button>
          <button type="submit" className="btn primary" disabled={loading} data-testid="load-submit">
            {loading ? 'Loading…' : 'Load and reset'}
          </button>
        </div>
      </form>
    </Modal>
  );
}

export const SHORTCUTS: [string, string][] = [
  ['Space', 'Run / pause'],
  ['S', 'Step one instruction'],
  ['T', 'Run to the next trap'],
  ['U', 'Run until a trap of the chosen kind'],
  ['R', 'Reset the guest'],
  ['[ and ]', 'Slower / faster'],
  ['F', 'Follow the newest trap'],
  ['↑ ↓', 'Previous / next trap record (after clicking a row)'],
  ['O', 'Load a guest from disk'],
  ['D', 'Light / dark theme'],
  ['C', 'Classroom mode (large fonts)'],
  ['?', 'This help'],
  ['Esc', 'Close a dialog; leave a console'],
];

export function HelpOverlay() {
  const set = useUi((s) => s.set);
  return (
    <Modal title="TrapLab — keys and panels" onClose={() => set({ helpOpen: false })} testid="help-overlay">
      <div className="help-grid">
        <section>
          <h3>Keyboard</h3>
          <p className="muted small">Shortcuts work when the focus is not in a console or a text field.</p>
          <dl className="keys">
            {SHORTCUTS.map(([k, v]) => (
              <div key={k}>
                <dt>
                  <kbd>{k}</kbd>
                </dt>
                <dd>{v}</dd>
              </div>
            ))}
          </dl>
        </section>
        <section>
          <h3>What you are looking at</h3>
          <ul className="help-list">
            <li>
              <b>Console</b> — the guest's first serial port (COM1). Click it and type: keys go to that VM's
              UART.
            </li>
            <li>
              <b>Trap log</b> — one row per event the hypervisor handled. Rows marked{' '}
              <i>invisible to the VMM</i> are sensitive instructions that did <em>not</em> trap — the reason
              classic x86 is hard to virtualize.
            </li>
            <li>
              <b>Registers</b> — the real CPU beside the VM's virtual CPU. Yellow marks what changed since the
              previous stop.
            </li>
            <li>
              <b>Disassembly and memory</b> — the code around EIP and any memory you point at, side by side.
            </li>
            <li>
              <b>Trap detail</b> — click a row for the explanation and every field of the record; “Show this
              instruction” pins the disassembly on it. For a trap reached with <b>Next trap</b> it also shows
              the real registers right before and after it (other records only list which registers the VMM
              changed). <b>⤓ JSONL / Trace</b> download the log (the trace opens in ui.perfetto.dev).
            </li>
            <li>
              <b>Share</b> — the address bar holds the scenario (guest, technique, VMs) and where the run is:
              the steps taken, the input typed and the selected trap. The emulator is deterministic, so
              opening the link replays the run to exactly this point.
            </li>
          </ul>
        </section>
      </div>
    </Modal>
  );
}

export function Toasts() {
  const toasts = useUi((s) => s.toasts);
  const dismiss = useUi((s) => s.dismiss);
  useEffect(() => {
    if (!toasts.length) return;
    const t = setTimeout(() => dismiss(toasts[0].id), 9000);
    return () => clearTimeout(t);
  }, [toasts, dismiss]);
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div
          key={t.id}
          className={`toast ${t.kind}`}
          role={t.kind === 'error' ? 'alert' : 'status'}
          data-testid="toast"
        >
          <span>{t.message}</span>
          <button
            type="button"
            className="btn ghost small"
            onClick={() => dismiss(t.id)}
            aria-label="Dismiss"
          >
            <CloseIcon />
          </button>
        </div>
      ))}
    </div>
  );
}
