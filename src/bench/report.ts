/** Benchmark output: a readable table, or one JSON object per line (`--json`). */
import type { BenchResult } from './measure.ts';

export function jsonLine(r: BenchResult): string {
  return JSON.stringify({
    name: r.name,
    instructions: r.instructions,
    seconds: Number(r.seconds.toFixed(6)),
    mips: Number(r.mips.toFixed(3)),
  });
}

export function tableHeader(): string {
  return row('name', 'instructions', 'seconds', 'MIPS');
}

export function tableRow(r: BenchResult): string {
  return row(
    r.name,
    r.instructions.toLocaleString('en-US'),
    r.seconds.toFixed(3),
    r.mips.toFixed(r.mips < 10 ? 2 : 1),
  );
}

export function table(results: BenchResult[]): string {
  return [tableHeader(), tableRule(), ...results.map(tableRow)].join('\n');
}

export function tableRule(): string {
  return '-'.repeat(tableHeader().length);
}

function row(name: string, instructions: string, seconds: string, mips: string): string {
  return `${name.padEnd(28)} ${instructions.padStart(15)} ${seconds.padStart(9)} ${mips.padStart(8)}`;
}
