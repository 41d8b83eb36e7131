/**
 * The register snapshot for views that ask the worker for more on every snapshot (disassembly,
 * memory, page walks): while the guest runs it changes at most once a second — each change costs a
 * worker round trip and a re-render of dozens of rows nobody can read at 4 Hz — and at once when
 * the guest stops.
 */
import { useEffect, useRef, useState } from 'react';
import type { RegSnapshot } from '../worker/protocol.ts';
import { useUi } from './store.ts';

const RUNNING_EVERY_MS = 1000;

export function useSettledRegs(): RegSnapshot | null {
  const regs = useUi((s) => s.regs);
  const running = useUi((s) => s.status?.running ?? false);
  const [shown, setShown] = useState(regs);
  const at = useRef(-1e9);
  useEffect(() => {
    const show = () => {
      at.current = performance.now();
      setShown(regs);
    };
    const wait = running ? at.current + RUNNING_EVERY_MS - performance.now() : 0;
    if (wait <= 0) {
      show();
      return;
    }
    const t = setTimeout(show, wait);
    return () => clearTimeout(t);
  }, [regs, running]);
  return running ? shown : regs;
}
