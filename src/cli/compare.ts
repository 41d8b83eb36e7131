/** `traplab compare`: one guest, the same input, two to four techniques, one table. */
import { type CompareResult, compareRun, endText, kindNames, kindsSeen } from '../session/compare.ts';
import { EXIT_OK } from './exit-codes.ts';
import { resolveGuest } from './guest-files.ts';
import { COMPARE_HELP, parseCompareArgs } from './lab-args.ts';

export function compareCommand(argv: readonly string[]): number {
  const opts = parseCompareArgs(argv);
  if (opts === 'help') {
    process.stdout.write(COMPARE_HELP);
    return EXIT_OK;
  }
  const guest = resolveGuest(opts.guest);
  const input = Uint8Array.from(opts.input, (c) => c.charCodeAt(0));
  const results = opts.techniques.map((t) =>
    compareRun(guest.source, t, { input, maxTicks: opts.maxInstructions, memMiB: opts.memMiB }),
  );
  if (opts.json) {
    const json = {
      guest: guest.label,
      input: opts.input,
      runs: results.map((r) => ({
        technique: r.technique,
        refused: r.refused,
        instructions: r.instructions,
        traps: r.traps,
        trapsByKind: Object.fromEntries(kindsSeen([r]).map((k) => [kindNames[k], r.trapsByKind[k]])),
        modelledCycles: r.cycles,
        virtualTimeNs: r.virtualTimeNs,
        end: endText(r),
        status: r.status,
      })),
    };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
  } else process.stdout.write(compareTable(guest.label, results));
  return EXIT_OK;
}

const num = (n: number) => n.toLocaleString('en-US');

export function compareTable(label: string, results: readonly CompareResult[]): string {
  const rows: [string, string[]][] = [];
  rows.push(['instructions', results.map((r) => num(r.instructions))]);
  rows.push(['trap records', results.map((r) => num(r.traps))]);
  for (const k of kindsSeen(results))
    rows.push([`  ${kindNames[k]}`, results.map((r) => num(r.trapsByKind[k]))]);
  rows.push(['modelled cycles', results.map((r) => num(r.cycles))]);
  rows.push(['virtual time', results.map((r) => `${(r.virtualTimeNs / 1e6).toFixed(3)} ms`)]);
  rows.push(['end', results.map(endText)]);
  const first = Math.max(16, ...rows.map(([n]) => n.length)) + 2;
  const w = results.map((r, i) => Math.max(r.technique.length, ...rows.map(([, v]) => v[i].length)) + 2);
  const line = (name: string, vals: string[]) =>
    name.padEnd(first) + vals.map((v, i) => v.padStart(w[i])).join('');
  const out = [
    `guest: ${label}`,
    line(
      '',
      results.map((r) => r.technique),
    ),
    ...rows.map(([n, v]) => line(n, v)),
  ];
  for (const r of results) {
    if (r.refused) out.push(`${r.technique}: refused: ${r.refused}`);
    else if (r.status.reason && r.status.state !== 'exited') out.push(`${r.technique}: ${r.status.reason}`);
  }
  return `${out.join('\n')}\n`;
}
