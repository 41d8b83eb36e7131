/**
 * One xterm per VM, tiled. Output arrives from the worker client as decoded text and is written
 * straight into xterm (no React state per byte). Keystrokes — and xterm's own replies to terminal
 * queries such as ESC[6n (cursor position report) — come out of `onData` as one string each and
 * are sent unchanged to that VM's COM1, so a reply is never split or reordered.
 */
import { FitAddon } from '@xterm/addon-fit';
import { type ITheme, Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'react';
import { emulator } from './emulator.ts';
import { type Theme, useUi } from './store.ts';

const THEMES: Record<Theme, ITheme> = {
  dark: {
    background: '#0d1117',
    foreground: '#d7dde8',
    cursor: '#7cc4ff',
    cursorAccent: '#0d1117',
    selectionBackground: '#2b4a6e',
    black: '#1b2233',
    brightBlack: '#5c6a82',
  },
  light: {
    background: '#fbfcfe',
    foreground: '#1d2433',
    cursor: '#1f6feb',
    cursorAccent: '#fbfcfe',
    selectionBackground: '#cfe2ff',
    black: '#1d2433',
    white: '#8a94a6',
    brightWhite: '#5c6a82',
    yellow: '#9a6700',
    brightYellow: '#7d5200',
  },
};

function Console({ vm, count }: { vm: number; count: number }) {
  const host = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const fitRef = useRef<FitAddon | null>(null);
  const theme = useUi((s) => s.theme);
  const classroom = useUi((s) => s.classroom);

  useEffect(() => {
    const el = host.current!;
    const { theme: t, classroom: big } = useUi.getState();
    const term = new Terminal({
      convertEol: false,
      cursorBlink: true,
      fontFamily: 'var(--font-mono), "DejaVu Sans Mono", monospace',
      fontSize: big ? 20 : 13,
      lineHeight: 1.15,
      scrollback: 5000,
      theme: THEMES[t],
      allowProposedApi: false,
    });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    termRef.current = term;
    fitRef.current = fit;
    const refit = () => {
      if (el.clientWidth > 0 && el.clientHeight > 0) {
        try {
          fit.fit();
        } catch {
          /* not laid out yet */
        }
      }
    };
    refit();
    const ro = new ResizeObserver(refit);
    ro.observe(el);
    const emu = emulator();
    const detach = emu.attachSerial(vm, {
      write: (text, done) => term.write(text, done),
      clear: () => term.reset(),
    });
    const data = term.onData((d) => emu.sendSerial(vm, d));
    const bin = term.onBinary((d) => {
      const bytes = Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff);
      emu.send({ type: 'serialInput', vm, bytes }, [bytes.buffer]);
    });
    return () => {
      ro.disconnect();
      detach();
      data.dispose();
      bin.dispose();
      term.dispose();
      termRef.current = null;
    };
  }, [vm]);

  useEffect(() => {
    const term = termRef.current;
    if (!term) return;
    term.options.theme = THEMES[theme];
    term.options.fontFamily =
      getComputedStyle(document.documentElement).getPropertyValue('--font-mono') || 'monospace';
    term.options.fontSize = classroom ? 20 : 13;
    try {
      fitRef.current?.fit();
    } catch {
      /* hidden */
    }
  }, [theme, classroom]);

  return (
    <div className="console">
      {count > 1 ? <div className="console-label">VM {vm}</div> : null}
      <div className="console-term" ref={host} data-testid={`console-${vm}`} />
    </div>
  );
}

export function Consoles() {
  const vms = useUi((s) => s.loaded?.vms ?? s.scenario.vms);
  return (
    <div className={`consoles tiles-${Math.min(vms, 4)}`} data-testid="consoles">
      {Array.from({ length: vms }, (_, vm) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: one console per VM number
        <Console key={vm} vm={vm} count={vms} />
      ))}
    </div>
  );
}
