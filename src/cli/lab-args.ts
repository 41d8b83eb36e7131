/**
 * Arguments of the comparison-lab commands (issue 19): `traplab compare` and
 * `traplab popek-goldberg`. Pure parsing, like args.ts: a value or a UsageError (exit status 64).
 */
import { TECHNIQUES, type Technique } from '../session/types.ts';
import {
  type GuestChoice,
  MAX_MEM_MIB,
  parseCount,
  TECHNIQUE_SHORT_NAMES,
  UsageError,
  unescapeText,
} from './args.ts';

export interface CompareOptions {
  guest: GuestChoice;
  techniques: Technique[];
  /** Typed into the console at boot, the same bytes for every technique. */
  input: string;
  maxInstructions: number;
  memMiB: number;
  json: boolean;
}

export interface MatrixOptions {
  /** The sensitive-instruction guest's kernel (default guests/sensitive/sensitive.elf). */
  kernel: string | null;
  techniques: Technique[] | null;
  tests: string[] | null;
  json: boolean;
}

export const COMPARE_HELP = `Usage: traplab compare --guest ID --techniques A,B[,C,D] [options]
       traplab compare --kernel FILE [--append STR] --techniques A,B [options]

Runs the same guest, with the same typed input, under two to four techniques one after the
other and prints, per technique: instructions retired, trap-log records per kind, modelled
cycles (the technique's cost model), virtual time and how the run ended.

  --guest ID                a guest from guests/manifest.json ('traplab list')
  --kernel FILE             a multiboot ELF or bzImage (--append STR: its command line)
  --techniques LIST         comma-separated: native, trap-and-emulate, binary-translation (bt),
                            paravirtual (pv), hardware-assisted (vtx)
  --input TEXT              typed into the console at boot (escapes: \\r \\n \\t \\xHH)
  --max-instructions N      stop each run after N ticks of virtual time (default 200M; k/M/G)
  --mem MiB                 guest RAM (default 64)
  --json                    one JSON object instead of the table

Example:
  npx traplab compare --guest minikernel --techniques native,bt,vtx --input 'bench\\rexit\\r'
`;

export const MATRIX_HELP = `Usage: traplab popek-goldberg [--json] [--techniques LIST] [--tests LIST] [--kernel FILE]

Runs guests/sensitive once per Robin & Irvine instruction (SGDT … MOV, plus IRET) natively and
under each technique, and prints the matrix judged from the runs: correct (the native result),
trapped (native result, and the trap log has a record for the instruction), WRONG (silent: no
trap; trapped: a trap that changed the meaning), failed, n/a (the technique refused the guest).

  --techniques LIST         comma-separated (default: all five)
  --tests LIST              demo names, e.g. sidt,popf (default: all nineteen)
  --kernel FILE             another build of the sensitive guest
  --json                    the whole matrix as JSON (cells with the guest's own result lines)
`;

function parseTechniques(raw: string): Technique[] {
  const out: Technique[] = [];
  for (const part of raw.split(',')) {
    const name = part.trim();
    const t = (TECHNIQUE_SHORT_NAMES[name] ?? name) as Technique;
    if (!TECHNIQUES.includes(t))
      throw new UsageError(`unknown technique '${name}' (one of: ${TECHNIQUES.join(', ')})`);
    if (out.includes(t)) throw new UsageError(`technique '${name}' given twice`);
    out.push(t);
  }
  return out;
}

/** Split `--flag value` / `--flag=value` pairs; booleans listed in `bools`. */
function flags(argv: readonly string[], valued: readonly string[], bools: readonly string[], cmd: string) {
  const seen = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf('=');
    const name = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    if (bools.includes(name)) {
      seen.set(name, '');
      continue;
    }
    if (!valued.includes(name)) throw new UsageError(`unknown option '${a}' for 'traplab ${cmd}'`);
    const value = eq > 0 && a.startsWith('--') ? a.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${name} needs a value`);
    if (seen.has(name)) throw new UsageError(`${name} given twice`);
    seen.set(name, value);
  }
  return seen;
}

export function parseCompareArgs(argv: readonly string[]): CompareOptions | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const f = flags(
    argv,
    ['--guest', '--kernel', '--append', '--techniques', '--input', '--max-instructions', '--mem'],
    ['--json'],
    'compare',
  );
  const id = f.get('--guest');
  const kernel = f.get('--kernel');
  const append = f.get('--append');
  if ((id === undefined) === (kernel === undefined))
    throw new UsageError('give exactly one of --guest ID and --kernel FILE');
  let guest: GuestChoice;
  if (id !== undefined) {
    if (!/^[A-Za-z0-9._-]+$/.test(id))
      throw new UsageError(`bad guest id '${id}' ('traplab list' shows them)`);
    guest = append === undefined ? { kind: 'guest', id } : { kind: 'guest', id, append };
  } else {
    if (kernel === '') throw new UsageError('--kernel needs a file');
    guest =
      append === undefined
        ? { kind: 'kernel', kernel: kernel as string }
        : { kind: 'kernel', kernel: kernel as string, append };
  }
  const rawT = f.get('--techniques');
  if (rawT === undefined) throw new UsageError('--techniques A,B is required (two to four techniques)');
  const techniques = parseTechniques(rawT);
  if (techniques.length < 2 || techniques.length > 4)
    throw new UsageError(`--techniques takes two to four techniques, got ${techniques.length}`);
  const maxRaw = f.get('--max-instructions');
  const memRaw = f.get('--mem');
  return {
    guest,
    techniques,
    input: unescapeText(f.get('--input') ?? '', '--input'),
    maxInstructions:
      maxRaw === undefined ? 200_000_000 : parseCount(maxRaw, '--max-instructions', 1, 2 ** 53, true),
    memMiB: memRaw === undefined ? 64 : parseCount(memRaw, '--mem', 1, MAX_MEM_MIB),
    json: f.has('--json'),
  };
}

export function parseMatrixArgs(argv: readonly string[]): MatrixOptions | 'help' {
  if (argv.includes('--help') || argv.includes('-h')) return 'help';
  const f = flags(argv, ['--techniques', '--tests', '--kernel'], ['--json'], 'popek-goldberg');
  const rawT = f.get('--techniques');
  const rawTests = f.get('--tests');
  return {
    kernel: f.get('--kernel') ?? null,
    techniques: rawT === undefined ? null : parseTechniques(rawT),
    tests: rawTests === undefined ? null : rawTests.split(',').map((s) => s.trim().toLowerCase()),
    json: f.has('--json'),
  };
}
