/**
 * What the status says in words a class reads: why the guest stopped (the key teaching moment),
 * what its exit code means, and whether its kernel panicked while the CPU keeps running.
 */
import type { StatusView } from '../worker/protocol.ts';

/** Exit status `(V << 1) | 1` comes from the guest writing V to the debug-exit port 0xF4. */
export function exitText(st: Pick<StatusView, 'state' | 'exitCode' | 'reason'>): string | null {
  if (st.state !== 'exited' || st.exitCode === undefined) return null;
  const viaPort = (st.exitCode & 1) === 1 && /debug-exit/.test(st.reason ?? 'debug-exit');
  if (!viaPort) return `exit status ${st.exitCode}`;
  const v = st.exitCode >>> 1;
  // Several VMs: the session's status is the highest of theirs (vmm.ts finalResult).
  const many = /^all (\d+) VMs/.exec(st.reason ?? '');
  if (many) {
    return v === 0
      ? `all ${many[1]} VMs reported success (each wrote 0 to port 0xF4)`
      : `a VM reported failure ${v} (it wrote ${v} to port 0xF4)`;
  }
  return v === 0
    ? 'the guest reported success (it wrote 0 to port 0xF4)'
    : `the guest reported failure ${v} (it wrote ${v} to port 0xF4)`;
}

/**
 * The status bar's line: the worker's stop note, with an exit status put in the words of
 * `exitText` ("exited with code 1" reads as failure to a class, though it is the guest's success).
 */
export function statusNoteText(st: Pick<StatusView, 'state' | 'exitCode' | 'reason' | 'stopNote'>): string {
  const note = st.stopNote ?? '';
  const words = exitText(st);
  if (words === null || !/ with code \d+/.test(note)) return note;
  return note.replace(/ with code \d+/, ` — ${words}`);
}

/** The kernel's panic line in console text (Linux: "Kernel panic - not syncing: …"), or null. */
export function panicLine(text: string): string | null {
  // Only a whole line: its end may still be on the way in the next frame.
  const m = /Kernel panic - not syncing: ?([^\r\n]*)[\r\n]/.exec(text);
  if (!m) return null;
  return m[1].trim() || 'no reason given';
}

export interface Callout {
  tone: 'info' | 'ok' | 'warn' | 'danger';
  /** One line, in full. */
  title: string;
  detail?: string;
}

/** The callout above the workspace, or null when there is nothing to explain. */
export function stopCallout(st: StatusView | null, panic: string | null): Callout | null {
  if (panic) {
    return {
      tone: 'danger',
      title: `The guest kernel panicked: ${panic}`,
      detail: st?.running
        ? 'Its CPU still executes (a panicking kernel spins in a loop), so the run goes on, but the guest will do nothing more. Read the console for the lines before the panic.'
        : 'Read the console for the lines before the panic.',
    };
  }
  if (!st || st.running) return null;
  const note = st.stopNote ?? '';
  switch (st.state) {
    case 'exited':
      return {
        tone: (st.exitCode ?? 1) >>> 1 === 0 ? 'ok' : 'warn',
        // "with code 1" reads as failure to a class; the detail says what the guest reported.
        title: exitText(st) ? note.replace(/ with code \d+/, '') : note,
        detail: exitText(st) ?? undefined,
      };
    case 'shutdown':
    case 'stopped':
    case 'reset':
      return {
        tone: st.exitCode && st.exitCode !== 0 ? 'danger' : 'info',
        title: note,
        detail: st.reason && !note.includes(st.reason) ? st.reason : undefined,
      };
    default:
      break;
  }
  if (st.trapStop !== undefined || /^Stopped|^Native execution|skipping/.test(note)) {
    return { tone: 'info', title: note };
  }
  return null;
}
