/**
 * Console output on its way to the terminals while a guest runs: coalesced, handed over on an
 * animation frame at most every `intervalMs`, and at most `budget` characters per frame in all,
 * shared fairly between the terminals that have output.
 *
 * Each terminal write costs a parse, and the render xterm schedules after it re-lays out its rows:
 * writing every worker frame would cost a render per display frame and terminal. And xterm parses
 * one write in one go, so a burst (a kernel's boot log, a `cat` of a large file) handed over whole
 * becomes one long task that drops frames; split into frame-sized pieces it is spread over the
 * following frames instead. Text is never dropped or reordered: a stop or a replay flushes it all.
 */

export interface TextSink {
  write(text: string): void;
}

/** Run `fn` on the next animation frame no sooner than `delayMs` from now; returns a cancel. */
export type FrameScheduler = (fn: () => void, delayMs: number) => () => void;

/**
 * Characters handed to the terminals per frame, all of them together (xterm parses ~16 k characters
 * in a few ms). Shared, not per terminal: four VMs printing a burst at once would otherwise hand
 * xterm four times a frame's worth, in the same frame.
 */
export const CONSOLE_FRAME_BUDGET = 16 * 1024;
/** Terminals get new output at most this often while nothing is backed up (20 Hz reads the same). */
export const CONSOLE_BATCH_MS = 50;
/**
 * …and this often while more than two of them print at once (four VMs flat out): every hand-off
 * is a render of each terminal that got text plus a paint and composite of the page, so 10 Hz
 * halves what the consoles cost a loaded page; scrolling text at 10 Hz still reads smoothly.
 */
export const CONSOLE_BATCH_MANY_MS = 100;

/** The first `n` characters of `text`, not splitting a UTF-16 surrogate pair. */
export function budgetCut(text: string, n: number): number {
  if (text.length <= n) return text.length;
  const c = text.charCodeAt(n - 1);
  return c >= 0xd800 && c <= 0xdbff ? n - 1 : n;
}

/**
 * Split `budget` between demands (max-min fairness): a demand under an equal share gets all of it,
 * and what it leaves goes to the others. Every demand gets at least one character, so a frame
 * always makes progress.
 */
export function fairShares(demands: readonly number[], budget: number): number[] {
  const share = demands.map(() => 0);
  let left = budget;
  let open = demands.map((_, i) => i).filter((i) => demands[i] > 0);
  while (open.length && left >= open.length) {
    const each = Math.floor(left / open.length);
    for (const i of open) {
      const give = Math.min(each, demands[i] - share[i]);
      share[i] += give;
      left -= give;
    }
    open = open.filter((i) => share[i] < demands[i]);
  }
  // The remainder of the division, a character each; and a character for any still at none.
  for (const i of open) {
    if (left > 0) {
      share[i]++;
      left--;
    } else share[i] = Math.max(share[i], 1);
  }
  return share;
}

export class SerialBatcher<S extends TextSink> {
  private readonly pending = new Map<S, string>();
  private cancel: (() => void) | null = null;
  private lastAt = Number.NEGATIVE_INFINITY;
  /** Terminals the last hand-off wrote to. */
  private lastCount = 0;

  constructor(
    private readonly schedule: FrameScheduler,
    private readonly now: () => number = () => performance.now(),
    private readonly budget = CONSOLE_FRAME_BUDGET,
    private readonly intervalMs = CONSOLE_BATCH_MS,
    private readonly manyIntervalMs = CONSOLE_BATCH_MANY_MS,
  ) {}

  /** Queue `text` for `sink`. */
  add(sink: S, text: string): void {
    this.pending.set(sink, (this.pending.get(sink) ?? '') + text);
    const every = this.lastCount > 2 ? this.manyIntervalMs : this.intervalMs;
    this.arm(Math.max(0, this.lastAt + every - this.now()));
  }

  /** Characters still queued (all terminals). */
  get queued(): number {
    let n = 0;
    for (const t of this.pending.values()) n += t.length;
    return n;
  }

  /** Hand everything queued to the terminals now (a stop, a replay: no budget). */
  flushAll(): void {
    this.disarm();
    const out = [...this.pending];
    this.pending.clear();
    for (const [sink, text] of out) sink.write(text);
  }

  /** Forget what is queued (a new guest starts). */
  clear(): void {
    this.disarm();
    this.pending.clear();
    this.lastCount = 0;
  }

  /** One frame's worth: the budget shared fairly; a backlog continues on the next frame. */
  private frame(): void {
    this.cancel = null;
    this.lastAt = this.now();
    const out = [...this.pending];
    this.pending.clear();
    this.lastCount = out.length;
    const share = fairShares(
      out.map(([, text]) => text.length),
      this.budget,
    );
    out.forEach(([sink, text], i) => {
      // A share of one character that would split a surrogate pair takes the pair.
      const n = share[i] >= text.length ? text.length : budgetCut(text, share[i]) || 2;
      if (n < text.length) this.pending.set(sink, text.slice(n));
      sink.write(n < text.length ? text.slice(0, n) : text);
    });
    if (this.pending.size) this.arm(0);
  }

  private arm(delayMs: number): void {
    if (this.cancel) return;
    this.cancel = this.schedule(() => this.frame(), delayMs);
  }

  private disarm(): void {
    this.cancel?.();
    this.cancel = null;
  }
}

/**
 * The browser's scheduler: a timer for the delay, then an animation frame (so the write and the
 * render xterm schedules after it land in one frame). Hidden tabs get no animation frames: there
 * the timer alone runs it, so output still reaches the terminals.
 */
export const browserFrames: FrameScheduler = (fn, delayMs) => {
  let raf = 0;
  const timer = setTimeout(() => {
    if (document.visibilityState === 'hidden') fn();
    else raf = requestAnimationFrame(fn);
  }, delayMs);
  return () => {
    clearTimeout(timer);
    if (raf) cancelAnimationFrame(raf);
  };
};
