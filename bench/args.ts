/** `npm run bench -- [--json] [--runs N] [--only NAME[,NAME…]] [--quick] [--tier T] [--tiers[=A,B] [--pairs N]] [--list]` */

export type Tier = 'interpreter' | 'blocks' | 'jit';
/** The CPU's tiers from the bottom up: each must be no slower than the one before it. */
export const TIERS: readonly Tier[] = ['interpreter', 'blocks', 'jit'];

export interface BenchArgs {
  json: boolean;
  runs: number;
  warmup: boolean;
  only: string[] | null;
  list: boolean;
  help: boolean;
  /** auto: the session layer if it loads, else the Pc directly. */
  backend: 'auto' | 'session' | 'pc';
  /** wall: elapsed time; cpu: this process's CPU time (for a machine shared with other work). */
  clock: 'wall' | 'cpu';
  /** CPU execution tiers: interpreter only, + pre-decoded blocks, + compiled blocks (default). */
  tier: Tier;
  /** Every workload under each of these tiers side by side, cold and warm (bench/tiers.ts); null: off. */
  tiers: Tier[] | null;
  /** Also run each workload once in a fresh process (the cold figure). */
  cold: boolean;
  /** Internal: run only this workload once, cold, and print its figures as JSON (one child process). */
  child: string | null;
  /** Internal, with `child`: after the cold run, up to this many warm runs (the best is printed). */
  warmRuns: number;
  /** With `--tiers`: interleaved process pairs that confirm or clear each suspect cell (0: none). */
  pairs: number;
  /** Boot Linux in the playground's worker in Debian chromium (bench/browser.ts) instead. */
  browser: boolean;
  /** Guest RAM in MiB for the workloads (null: the bench's 64). */
  memMiB: number | null;
  /** Print block-cache statistics after each workload (the CPU's counters). */
  stats: boolean;
}

export class BenchUsageError extends Error {
  override name = 'BenchUsageError';
}

export const BENCH_USAGE = `usage: npm run bench -- [options]
  --json          one JSON object per line: {"name","instructions","seconds","mips"}
  --runs N        measured runs per workload, best reported (default 3; 1–20)
  --quick         one measured run, no warm-up run
  --only A,B      run only the named workloads; session-create (Session creation per
                  technique) and cli-hello (a fresh 'traplab run --guest hello') are figures
                  printed after the table, run by default
  --backend B     session (what the CLI and the UI run), pc (the machine alone) or auto (default:
                  session when it loads, else pc)
  --clock C       wall (default): elapsed seconds; cpu: this process's CPU seconds, steadier when
                  other work shares the machine
  --tier T        CPU tiers to use: interpreter, blocks (pre-decoded blocks) or jit (default:
                  blocks, and the hottest ones compiled to JavaScript functions)
  --tiers[=A,B]   every workload under each tier (default interpreter,blocks,jit) side by side,
                  cold and warm, each tier in its own fresh process (its first run is the cold
                  figure, the best of --runs later ones the warm figure), with each tier's CPU
                  time as a ratio to the tier below; '>' marks a higher tier over 5 % slower.
                  Each marked cell is then re-run as --pairs interleaved process pairs (higher
                  tier, lower tier, alternating which goes first), and one verdict line per
                  workload says whether a higher tier is slower on the median of those pairs
  --pairs N       with --tiers: process pairs per suspect cell (default 5; 0: the table only)
  --no-cold       skip the cold figure (each workload's first run in a fresh process)
  --browser       boot Linux to its prompt in the playground's Web Worker in Debian chromium
                  (builds dist/ first if it is missing) and compare with the Node figure
  --mem N         guest RAM in MiB (default 64; the playground gives Linux 128, which --browser's
                  Node runs use)
  --stats         print the block cache's counters after each warm workload
  --list          list the workloads and whether they can run
  --help          this text`;

export function parseBenchArgs(argv: string[]): BenchArgs {
  const a: BenchArgs = {
    json: false,
    runs: 3,
    warmup: true,
    only: null,
    list: false,
    help: false,
    backend: 'auto',
    clock: 'wall',
    tier: 'jit',
    tiers: null,
    cold: true,
    child: null,
    warmRuns: 0,
    pairs: 5,
    browser: false,
    stats: false,
    memMiB: null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new BenchUsageError(`${arg} needs a value`);
      return v;
    };
    if (arg === '--tiers' || arg.startsWith('--tiers=')) {
      a.tiers = arg === '--tiers' ? [...TIERS] : parseTierList(arg.slice('--tiers='.length));
      continue;
    }
    switch (arg) {
      case '--json':
        a.json = true;
        break;
      case '--runs': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 20)
          throw new BenchUsageError(`--runs: '${v}' is not a whole number from 1 to 20`);
        a.runs = n;
        break;
      }
      case '--quick':
        a.runs = 1;
        a.warmup = false;
        break;
      case '--only':
        a.only = value()
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        break;
      case '--backend': {
        const v = value();
        if (v !== 'auto' && v !== 'session' && v !== 'pc') {
          throw new BenchUsageError(`--backend: '${v}' is not auto, session or pc`);
        }
        a.backend = v;
        break;
      }
      case '--clock': {
        const v = value();
        if (v !== 'wall' && v !== 'cpu') throw new BenchUsageError(`--clock: '${v}' is not wall or cpu`);
        a.clock = v;
        break;
      }
      case '--tier': {
        const v = value();
        if (!isTier(v)) throw new BenchUsageError(`--tier: '${v}' is not interpreter, blocks or jit`);
        a.tier = v;
        break;
      }
      case '--mem': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 16 || n > 1024)
          throw new BenchUsageError(`--mem: '${v}' is not a whole number of MiB from 16 to 1024`);
        a.memMiB = n;
        break;
      }
      case '--list':
        a.list = true;
        break;
      case '--no-cold':
        a.cold = false;
        break;
      case '--child':
        a.child = value();
        break;
      case '--warm-runs': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 20)
          throw new BenchUsageError(`--warm-runs: '${v}' is not a whole number from 0 to 20`);
        a.warmRuns = n;
        break;
      }
      case '--pairs': {
        const v = value();
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0 || n > 20)
          throw new BenchUsageError(`--pairs: '${v}' is not a whole number from 0 to 20`);
        a.pairs = n;
        break;
      }
      case '--browser':
        a.browser = true;
        break;
      case '--stats':
        a.stats = true;
        break;
      case '--help':
      case '-h':
        a.help = true;
        break;
      default:
        throw new BenchUsageError(`unknown option '${arg}'`);
    }
  }
  return a;
}

function isTier(v: string): v is Tier {
  return (TIERS as readonly string[]).includes(v);
}

/** `interpreter,jit` → in tier order, each once; an unknown name or an empty list is an error. */
function parseTierList(v: string): Tier[] {
  const names = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = names.filter((n) => !isTier(n));
  if (bad.length) throw new BenchUsageError(`--tiers: '${bad.join(',')}' is not interpreter, blocks or jit`);
  if (names.length === 0) throw new BenchUsageError('--tiers= needs at least one tier');
  return TIERS.filter((t) => names.includes(t));
}
