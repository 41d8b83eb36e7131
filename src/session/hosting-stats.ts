/**
 * Type 1 vs Type 2, measured: one row per arrangement from a finished (or paused) session's real
 * counters, and the side-by-side table the CLI prints (`--hosting both`) and the UI shows.
 * A "guest I/O" is one byte the guest sent to its console — the path the issue follows (guest →
 * VMM → … → the physical UART), the same count under both arrangements for the same guest.
 */
import { TrapKind } from '../hypervisor/vmm/trap-log.ts';
import type { Session } from './session.ts';
import type { Hosting } from './types.ts';

export interface HostingRow {
  hosting: Hosting;
  instructions: number;
  /** Events the VMM handled for the guest (the techniques' traps / VM exits, all VMs). */
  traps: number;
  /** VM↔VM world switches plus host↔VMM world switches. */
  worldSwitches: number;
  hostSyscalls: number;
  hostInterrupts: number;
  /** Guest console bytes (the guest's I/O). */
  guestIo: number;
  modelledCycles: number;
  virtualTimeNs: number;
}

export function hostingRow(s: Session, guestIo: number): HostingRow {
  const t = s.traps;
  let traps = 0;
  let cycles = 0;
  for (const v of s.vmInfo()) {
    traps += v.traps;
    cycles += v.cycles;
  }
  return {
    hosting: s.config.hosting ?? 'type1',
    instructions: s.instructions,
    traps,
    worldSwitches: t.countByKind(TrapKind.WorldSwitch) + t.countByKind(TrapKind.HostWorldSwitch),
    hostSyscalls: t.countByKind(TrapKind.HostSyscall),
    hostInterrupts: t.countByKind(TrapKind.HostInterrupt),
    guestIo,
    modelledCycles: cycles,
    virtualTimeNs: s.virtualTimeNs,
  };
}

const per = (n: number, io: number) => (io > 0 ? n / io : 0);

/** The table's lines: [label, Type 1, Type 2] (numbers formatted), for the CLI and the UI. */
export function comparisonRows(a: HostingRow, b: HostingRow): [string, string, string][] {
  const f = (n: number, d = 0) => (d ? n.toFixed(d) : String(Math.round(n)));
  const row = (label: string, g: (r: HostingRow) => string): [string, string, string] => [label, g(a), g(b)];
  return [
    row('instructions', (r) => f(r.instructions)),
    row('traps (VMM)', (r) => f(r.traps)),
    row('world switches', (r) => f(r.worldSwitches)),
    row('host system calls', (r) => f(r.hostSyscalls)),
    row('host interrupts forwarded', (r) => f(r.hostInterrupts)),
    row('guest I/O (console bytes)', (r) => f(r.guestIo)),
    row('world switches per guest I/O', (r) => f(per(r.worldSwitches, r.guestIo), 2)),
    row('modelled cycles per guest I/O', (r) => f(per(r.modelledCycles, r.guestIo))),
    row('virtual time to finish', (r) => `${(r.virtualTimeNs / 1e6).toFixed(3)} ms`),
  ];
}

export function comparisonTable(a: HostingRow, b: HostingRow, title: string): string {
  const rows = comparisonRows(a, b);
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w = Math.max(14, ...rows.flatMap((r) => [r[1].length, r[2].length]));
  const line = (c: [string, string, string]) =>
    `${c[0].padEnd(w0)}  ${c[1].padStart(w)}  ${c[2].padStart(w)}`;
  return `${[title, line(['', 'Type 1', 'Type 2']), ...rows.map(line)].join('\n')}\n`;
}
