/**
 * Type 2 hosting in the UI: the host OS's console text and the hosted path's counters, fed from
 * the worker's frames (src/worker/core.ts `frame.host`). Kept apart from the main store.
 */
import { create } from 'zustand';
import type { HostingView } from '../../worker/protocol.ts';

const MAX_CONSOLE = 64 * 1024;

interface HostingState {
  /** The host OS's console (physical COM1), as text. */
  console: string;
  counters: HostingView | null;
}

export const useHosting = create<HostingState>(() => ({ console: '', counters: null }));

const dec = new TextDecoder('latin1');

export function hostingFrame(h: { serial: Uint8Array; counters: HostingView }): void {
  const s = useHosting.getState();
  let text = s.console;
  if (h.serial.length > 0) {
    text += dec.decode(h.serial).replace(/\r/g, '');
    if (text.length > MAX_CONSOLE) text = text.slice(text.length - MAX_CONSOLE);
  }
  useHosting.setState({ console: text, counters: h.counters });
}

/** A new guest run starts: forget the previous host. */
export function hostingReset(): void {
  useHosting.setState({ console: '', counters: null });
}
