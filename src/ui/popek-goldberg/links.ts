/**
 * Share links from a matrix cell into the playground: the demo guest, the technique, and a run
 * position (src/worker/position.ts) that replays up to the trap-log record of the sensitive
 * instruction, which is then selected. A cell with no such record links to the end of its run.
 */
import type { MatrixCell } from '../../session/popek-goldberg.ts';
import { sensitiveGuestId } from '../../session/popek-goldberg.ts';

/** The record a cell points at: the trap at the site, else the VMM's silent-event record there. */
export function cellRecord(c: MatrixCell): number | null {
  return c.trapSeq ?? c.silentSeq;
}

export function playgroundLink(c: MatrixCell, base = location.pathname): string {
  const q = new URLSearchParams({ guest: sensitiveGuestId(c.test), technique: c.technique, vms: '1' });
  const seq = cellRecord(c);
  // `c<clock>_<traps>` (base 36): run until the clock reaches <clock>, then on until the log holds
  // <traps> records: the record's own clock and seq + 1 records stop right after the record.
  if (seq !== null && c.recordClock !== null) {
    q.set('at', `c${c.recordClock.toString(36)}_${(seq + 1).toString(36)}`);
    q.set('sel', String(seq));
  } else if (c.clock > 0) q.set('at', `c${c.clock.toString(36)}_${c.traps.toString(36)}`);
  return `${base}?${q.toString()}`;
}
