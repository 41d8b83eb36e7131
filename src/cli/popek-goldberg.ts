/** `traplab popek-goldberg`: the sensitive-instruction matrix, computed from real runs. */
import { join } from 'node:path';
import { cellLabel, computeMatrix, type Matrix, SENSITIVE_INSTRUCTIONS } from '../session/popek-goldberg.ts';
import { UsageError } from './args.ts';
import { EXIT_OK } from './exit-codes.ts';
import { readImage } from './guest-files.ts';
import { MATRIX_HELP, type MatrixOptions, parseMatrixArgs } from './lab-args.ts';
import { guestsDir } from './manifest.ts';

export function matrixCommand(argv: readonly string[]): number {
  const opts = parseMatrixArgs(argv);
  if (opts === 'help') {
    process.stdout.write(MATRIX_HELP);
    return EXIT_OK;
  }
  const known = SENSITIVE_INSTRUCTIONS.map((i) => i.test);
  for (const t of opts.tests ?? []) {
    if (!known.includes(t)) throw new UsageError(`unknown demo '${t}' (one of: ${known.join(', ')})`);
  }
  const kernel = readImage(opts.kernel ?? join(guestsDir(), 'sensitive', 'sensitive.elf'), 'kernel');
  const m = computeMatrix(kernel, {
    ...(opts.techniques ? { techniques: opts.techniques } : {}),
    ...(opts.tests ? { tests: opts.tests } : {}),
  });
  process.stdout.write(opts.json ? `${JSON.stringify(m, null, 2)}\n` : matrixTable(m, opts));
  return EXIT_OK;
}

const SHORT: Record<string, string> = {
  native: 'native',
  'trap-and-emulate': 'trap-and-emulate',
  'binary-translation': 'binary-translation',
  paravirtual: 'paravirtual',
  'hardware-assisted': 'hardware-assisted',
};

/** One row per instruction, one column per technique, then what trap-and-emulate's guests saw. */
export function matrixTable(m: Matrix, _opts?: MatrixOptions): string {
  const w = 19;
  const first = 13;
  const lines: string[] = [];
  lines.push(`${'instruction'.padEnd(first)}${m.techniques.map((t) => SHORT[t].padEnd(w)).join('')}`);
  for (const ins of m.instructions) {
    const cells = m.techniques.map((t) => m.cells.find((c) => c.test === ins.test && c.technique === t));
    lines.push(
      `${ins.mnemonic.padEnd(first)}${cells.map((c) => (c ? cellLabel(c) : '').padEnd(w)).join('')}`,
    );
  }
  lines.push('');
  lines.push('What each guest printed where it differs from native:');
  for (const c of m.cells) {
    if (c.outcome !== 'wrong' && c.outcome !== 'failed') continue;
    const ins = m.instructions.find((i) => i.test === c.test);
    lines.push(
      `  ${ins?.mnemonic ?? c.test} under ${c.technique}: ${c.result || c.status}  (native: ${c.native})`,
    );
  }
  const na = m.cells.find((c) => c.outcome === 'n/a');
  if (na) lines.push('', `n/a (${na.technique}): ${na.status}`);
  lines.push(
    '',
    'trapped = the trap log holds a record at the instruction (a trap, callout or VM exit); WRONG (silent) = no record.',
  );
  return `${lines.join('\n')}\n`;
}
