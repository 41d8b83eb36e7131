/// <reference lib="webworker" />
/**
 * The Popek–Goldberg page's worker: fetches the sensitive-instruction guest and computes the
 * matrix from real runs (src/session/popek-goldberg.ts), posting each cell as it is judged so the
 * page fills in row by row. Separate from the playground's worker: it runs ~95 short sessions and
 * keeps none of them.
 */
import { computeMatrix, type MatrixCell } from '../session/popek-goldberg.ts';
import { guestFileUrl } from './guests.ts';

export type FromMatrixWorker =
  | { type: 'cell'; cell: MatrixCell }
  | { type: 'done'; ms: number }
  | { type: 'error'; message: string };

const scope = self as unknown as DedicatedWorkerGlobalScope;
const KERNEL = 'sensitive/sensitive.elf';

async function main(): Promise<void> {
  const url = guestFileUrl(KERNEL);
  if (!url) throw new Error(`the guest image ${KERNEL} is not part of this build (run \`npm run guests\`)`);
  const r = await fetch(url);
  if (!r.ok) throw new Error(`could not fetch ${KERNEL}: HTTP ${r.status}`);
  const kernel = new Uint8Array(await r.arrayBuffer());
  const t0 = performance.now();
  computeMatrix(kernel, {
    onCell: (cell) => scope.postMessage({ type: 'cell', cell } satisfies FromMatrixWorker),
  });
  scope.postMessage({ type: 'done', ms: performance.now() - t0 } satisfies FromMatrixWorker);
}

main().catch((e: unknown) =>
  scope.postMessage({
    type: 'error',
    message: e instanceof Error ? e.message : String(e),
  } satisfies FromMatrixWorker),
);
