/**
 * `traplab` entry point (bin/traplab.mjs imports this through tsx). Returns the exit status; every
 * error a user can cause becomes a one-line message and status 64, never a stack trace.
 */
import { readFileSync } from 'node:fs';
import { parseCommand, UsageError } from './args.ts';
import { EXIT_IOERR, EXIT_SOFTWARE, EXIT_USAGE } from './exit-codes.ts';
import { AA_HELP, MAIN_HELP, RUN_HELP } from './help.ts';
import { guestsDir, readManifest } from './manifest.ts';
import { OutputError } from './output.ts';

export async function main(argv: readonly string[]): Promise<number> {
  try {
    // The comparison lab's commands (issue 19) parse their own flags (lab-args.ts).
    if (argv[0] === 'compare') return (await import('./compare.ts')).compareCommand(argv.slice(1));
    if (argv[0] === 'popek-goldberg')
      return (await import('./popek-goldberg.ts')).matrixCommand(argv.slice(1));
    const cmd = parseCommand(argv);
    switch (cmd.command) {
      case 'help':
        process.stdout.write(cmd.topic === 'run' ? RUN_HELP : cmd.topic === 'aa' ? AA_HELP : MAIN_HELP);
        return 0;
      case 'version':
        process.stdout.write(`traplab ${version()}\n`);
        return 0;
      case 'list':
        process.stdout.write(listText(cmd.json));
        return 0;
      case 'run':
        // Loaded on demand: help and list stay fast without compiling the emulator.
        return await (await import('./run.ts')).runCommand(cmd.options);
      case 'aa':
        return (await import('./aa.ts')).aaCommand(cmd.options);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`traplab: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof OutputError) {
      // The user's environment (disk full, a file that refuses writes), not a traplab bug.
      process.stderr.write(`traplab: ${e.message}\n`);
      return EXIT_IOERR;
    }
    const err = e as Error;
    process.stderr.write(`traplab: internal error: ${err?.message ?? String(e)}\n`);
    if (process.env.TRAPLAB_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
    return EXIT_SOFTWARE;
  }
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return String(pkg.version);
  } catch {
    return 'unknown';
  }
}

function listText(json: boolean): string {
  const guests = readManifest(guestsDir());
  if (json) return `${JSON.stringify(guests, null, 2)}\n`;
  const lines: string[] = [];
  for (const g of guests) {
    lines.push(`${g.id.padEnd(14)} ${g.title}`);
    lines.push(`${''.padEnd(14)} techniques: ${(g.techniques ?? []).join(', ')}`);
  }
  if (guests.length === 0) lines.push('(no guests in guests/manifest.json)');
  lines.push('', 'Run one with: npx traplab run --guest ID');
  return `${lines.join('\n')}\n`;
}
