/**
 * One xterm per VM, tiled. Output arrives from the worker client as decoded text and is written
 * straight into xterm (no React state per byte). Keystrokes — and xterm's own replies to terminal
 * queries such as ESC[6n (cursor position report) — come out of `onData` as one string each and
 * are sent unchanged to that VM's COM1, so a reply is never split or reordered.
 */
import { FitAddon } from '@xterm/addon-fit';
import { WebglAddon } from '@xterm/addon-webgl';
import { type ITheme, Terminal } from '@xterm/xterm';
import { useEffect, useRef } from 'react';
import { emulator } from './emulator.ts';
import { type Theme, useUi } from './store.ts';
import './consoles.css';

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

/**
 * Whether WebGL2 runs on a GPU here. Without one, Chrome emulates it in software (SwiftShader; Mesa's
 * llvmpipe elsewhere), and the emulation costs far more than the DOM renderer it replaces: measured
 * with four consoles at 1920×1080 in Debian chromium without a GPU, the GPU process spent 160–250 ms
 * of every second on them under WebGL and 65 under the DOM renderer, and the page drew 24–26 fps
 * against 40–50. `failIfMajorPerformanceCaveat` refuses some software contexts; Chrome still hands
 * out SwiftShader under it, so the renderer's name decides too.
 */
let gpuWebgl: boolean | null = null;
function hardwareWebgl2(): boolean {
  if (gpuWebgl !== null) return gpuWebgl;
  gpuWebgl = false;
  if (typeof WebGL2RenderingContext === 'undefined') return false;
  try {
    const gl = document.createElement('canvas').getContext('webgl2', { failIfMajorPerformanceCaveat: true });
    if (gl) {
      const info = gl.getExtension('WEBGL_debug_renderer_info');
      const name = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
      gpuWebgl = !/swiftshader|llvmpipe|softpipe|software/i.test(name);
      gl.getExtension('WEBGL_lose_context')?.loseContext();
    }
  } catch {
    gpuWebgl = false;
  }
  return gpuWebgl;
}

/**
 * Draw with WebGL where a GPU runs it: xterm's DOM renderer rewrites row elements on every write,
 * each a style, layout and paint of its rows. Without a GPU (see `hardwareWebgl2`) the DOM renderer
 * is the cheaper one. `traplab.renderer` in localStorage forces either ('dom': a GPU that
 * misbehaves; 'webgl': to compare). A lost WebGL context falls back to the DOM renderer.
 */
function attachRenderer(term: Terminal, el: HTMLElement): () => void {
  let forced: string | null = null;
  try {
    forced = localStorage.getItem('traplab.renderer');
  } catch {
    /* storage may be unavailable */
  }
  const webgl =
    forced === 'webgl' ? typeof WebGL2RenderingContext !== 'undefined' : forced !== 'dom' && hardwareWebgl2();
  el.dataset.renderer = 'dom';
  if (!webgl) return () => {};
  try {
    const gl = new WebglAddon();
    const lost = gl.onContextLoss(() => {
      gl.dispose();
      el.dataset.renderer = 'dom';
    });
    term.loadAddon(gl);
    el.dataset.renderer = 'webgl';
    return () => {
      lost.dispose();
      gl.dispose();
    };
  } catch {
    return () => {}; // no WebGL2 context: the DOM renderer stays
  }
}

type SelectionRedraw = (
  start: [number, number] | undefined,
  end: [number, number] | undefined,
  columnSelectMode: boolean,
) => void;

/**
 * xterm refreshes the selection on every scroll (every new line once the screen is full), and its
 * DOM renderer answers any selection change by rendering every row of the terminal again — rows its
 * own refresh renders anyway in the same frame. Four terminals printing flat out spent more main-
 * thread time there than in parsing the output. With no selection before nor after, nothing is to
 * be drawn differently: skip it. This reaches into xterm's render service (not public API), checked
 * defensively: if it moves in a later xterm, nothing is skipped and nothing breaks.
 */
function skipEmptySelectionRedraws(term: Terminal): void {
  const rs = (
    term as unknown as { _core?: { _renderService?: { handleSelectionChanged?: SelectionRedraw } } }
  )._core?._renderService;
  const redraw = rs?.handleSelectionChanged;
  if (!rs || typeof redraw !== 'function') return;
  let had = true; // the first call always passes
  rs.handleSelectionChanged = (start, end, columnSelectMode) => {
    const has = start !== undefined && end !== undefined;
    if (!has && !had) return;
    had = has;
    redraw.call(rs, start, end, columnSelectMode);
  };
}

/** Every printable ASCII character, concealed (SGR 8: the cells keep their text but show none). */
const GLYPHS = `\x1b[8m${Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('')}\x1b[0m`;

/**
 * xterm's DOM renderer measures a character's width the first time it draws it (a span's
 * offsetWidth: a forced style recalculation and layout each), and four consoles meeting ~60
 * characters each made ~240 of them in the first second of a run — while the guests print and the
 * trap log grows. Draw every printable ASCII character once, concealed, while the page is idle after
 * the console opens, then reset the terminal: the widths stay cached (until the font changes), and
 * the guest's first lines cost no measuring. `then` runs once the terminal is clean again; a
 * terminal that draws nothing (not in view, WebGL) is not waited for.
 */
function warmGlyphWidths(term: Terminal, el: HTMLElement, then: () => void): () => void {
  if (el.dataset.renderer !== 'dom') {
    then();
    return () => {};
  }
  let done = false;
  let rendered: { dispose(): void } | null = null;
  const finish = () => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    rendered?.dispose();
    term.reset();
    then();
  };
  // Off screen xterm does not draw (it pauses while not intersecting the viewport).
  const timer = setTimeout(finish, 500);
  term.write(GLYPHS, () => {
    if (!done) rendered = term.onRender(finish);
  });
  return () => {
    done = true;
    clearTimeout(timer);
    rendered?.dispose();
  };
}

/** The rows in view as text (what a reader of the screen sees), for tests and whatever renderer. */
function viewText(term: Terminal): string {
  const b = term.buffer.active;
  const out: string[] = [];
  for (let i = 0; i < term.rows; i++) out.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
  return out.join('\n');
}

/** The whole buffer as the guest's lines (a row xterm wrapped continues the line before it). */
function bufferLines(term: Terminal): string {
  const b = term.buffer.active;
  const out: string[] = [];
  for (let i = 0; i < b.length; i++) {
    const line = b.getLine(i);
    if (!line) continue;
    const text = line.translateToString(true);
    if (line.isWrapped && out.length) out[out.length - 1] += text;
    else out.push(text);
  }
  return out.join('\n');
}

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
    const dropGl = attachRenderer(term, el);
    skipEmptySelectionRedraws(term);
    // The screen's text, whichever renderer draws it (a canvas has no text to read).
    Object.defineProperty(el, 'traplabText', { value: () => viewText(term), configurable: true });
    Object.defineProperty(el, 'traplabRows', { value: () => term.rows, configurable: true });
    // Everything still in the buffer (scrollback too), wrapped rows joined back into their lines:
    // what the guest printed, whatever the terminal's width (it differs by renderer and font).
    Object.defineProperty(el, 'traplabLines', { value: () => bufferLines(term), configurable: true });
    // Keyboard users must be able to leave the console: Esc and Shift+Tab move focus out and are
    // not sent to the guest (Tab stays the guest's, for shell completion; Ctrl+[ still sends ESC).
    term.attachCustomKeyEventHandler((e) => {
      if (e.ctrlKey || e.altKey || e.metaKey) return true;
      if (e.key === 'Escape') {
        if (e.type === 'keydown') term.blur();
        return false;
      }
      if (e.key === 'Tab' && e.shiftKey) {
        if (e.type === 'keydown') {
          e.preventDefault();
          term.blur();
          focusBefore(el);
        }
        return false;
      }
      return true;
    });
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
    let detach = () => {};
    let disposed = false;
    // Output waits in the client's backlog until the glyph widths are known (nothing is lost).
    const cancelWarm = warmGlyphWidths(term, el, () => {
      if (disposed) return;
      detach = emu.attachSerial(vm, {
        write: (text, done) => term.write(text, done),
        clear: () => term.reset(),
      });
    });
    const data = term.onData((d) => emu.sendSerial(vm, d));
    const bin = term.onBinary((d) => {
      const bytes = Uint8Array.from(d, (c) => c.charCodeAt(0) & 0xff);
      emu.send({ type: 'serialInput', vm, bytes }, [bytes.buffer]);
    });
    return () => {
      disposed = true;
      cancelWarm();
      ro.disconnect();
      detach();
      data.dispose();
      bin.dispose();
      dropGl();
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

  const onCpu = useUi((s) => count > 1 && s.regs?.vm === vm);
  const solo = useUi((s) => s.consoleSolo);
  const set = useUi((s) => s.set);
  return (
    <div className={`console ${onCpu ? 'on-cpu' : ''}`} data-on-cpu={onCpu || undefined}>
      {count > 1 ? (
        <div className="console-label">
          <span>VM {vm}</span>
          {/* Always there, shown for the VM on the CPU only (consoles.css: no layout as it moves). */}
          <span className="on-cpu-badge" title="This VM's state is in the physical CPU now">
            ● on the CPU
          </span>
          <button
            type="button"
            className="link small console-solo"
            data-testid={`console-solo-${vm}`}
            onClick={() => set({ consoleSolo: solo === vm ? null : vm })}
            title={solo === vm ? 'Show every VM’s console again' : 'Show only this console, large'}
          >
            {solo === vm ? 'all consoles' : 'enlarge'}
          </button>
        </div>
      ) : null}
      {/* xterm lives in an absolutely placed box: see .console-host in consoles.css. */}
      <div className="console-term">
        <div className="console-host" ref={host} data-testid={`console-${vm}`} />
      </div>
    </div>
  );
}

/** Move focus to the focusable element before `el` in document order (Shift+Tab out of xterm). */
function focusBefore(el: HTMLElement): void {
  const all = Array.from(
    document.querySelectorAll<HTMLElement>(
      'button:not([disabled]), select:not([disabled]), input:not([disabled]), [tabindex="0"]',
    ),
  ).filter((x) => !el.contains(x) && x.offsetParent !== null);
  const before = all.filter((x) => x.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING);
  (before.at(-1) ?? all[0])?.focus();
}

export function Consoles() {
  const vms = useUi((s) => s.loaded?.vms ?? s.scenario.vms);
  const solo = useUi((s) => (s.consoleSolo !== null && s.consoleSolo < vms ? s.consoleSolo : null));
  return (
    <div
      className={`consoles tiles-${Math.min(vms, 4)} ${solo !== null ? `solo solo-${solo}` : ''}`}
      data-testid="consoles"
    >
      {Array.from({ length: vms }, (_, vm) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: one console per VM number
        <Console key={vm} vm={vm} count={vms} />
      ))}
    </div>
  );
}
