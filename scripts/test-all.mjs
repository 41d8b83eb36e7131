#!/usr/bin/env node
// npm test — everything, in order: system deps, typecheck, lint, unit/integration (vitest), e2e
// (Playwright in Debian chromium). Every step runs even if an earlier one failed, so one run shows
// all problems. The last line is the combined count, `N passed, N failed[, N skipped]`, which CI
// reads; each runner's own summary is printed above it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const results = join(root, 'test-results');
rmSync(join(results, 'unit.json'), { force: true });
rmSync(join(results, 'e2e.json'), { force: true });
mkdirSync(results, { recursive: true });

function run(title, cmd, args, env = {}) {
  console.log(`\n=== ${title}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status === 0;
}

const tally = { passed: 0, failed: 0, skipped: 0 };
const lines = [];
function check(name, ok) {
  ok ? tally.passed++ : tally.failed++;
  lines.push(`${ok ? 'ok  ' : 'FAIL'} ${name}`);
}

if (!run('system packages', 'bash', ['scripts/ensure-system-deps.sh', 'test'])) {
  check('system packages (chromium, nasm, gcc-multilib)', false);
}
check('typecheck (tsc)', run('typecheck', 'npx', ['tsc', '-p', 'tsconfig.json', '--noEmit']));
check('lint (biome)', run('lint', 'npx', ['biome', 'check', '.']));

const unitOk = run('unit + integration (vitest)', 'npx', [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${join(results, 'unit.json')}`,
]);
if (existsSync(join(results, 'unit.json'))) {
  const u = JSON.parse(readFileSync(join(results, 'unit.json'), 'utf8'));
  tally.passed += u.numPassedTests;
  tally.failed += u.numFailedTests;
  tally.skipped += u.numPendingTests + (u.numTodoTests ?? 0);
  lines.push(`vitest: ${u.numPassedTests} passed, ${u.numFailedTests} failed, ${u.numPendingTests} skipped`);
  // A suite that fails to load counts as a failure even when no test inside it ran.
  if (!unitOk && u.numFailedTests === 0) check('vitest (suite errors)', false);
} else {
  check('vitest (no report written)', false);
}

const e2eOk = run('end-to-end (Playwright, Debian chromium)', 'npx', ['playwright', 'test'], {
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
});
if (existsSync(join(results, 'e2e.json'))) {
  const s = JSON.parse(readFileSync(join(results, 'e2e.json'), 'utf8')).stats;
  tally.passed += s.expected + s.flaky;
  tally.failed += s.unexpected;
  tally.skipped += s.skipped;
  lines.push(`playwright: ${s.expected + s.flaky} passed, ${s.unexpected} failed, ${s.skipped} skipped`);
  if (!e2eOk && s.unexpected === 0) check('playwright (run errors)', false);
} else {
  check('playwright (no report written)', false);
}

console.log('\n=== summary');
for (const l of lines) console.log(l);
const skipped = tally.skipped ? `, ${tally.skipped} skipped` : '';
console.log(`${tally.passed} passed, ${tally.failed} failed${skipped}`);
process.exit(tally.failed === 0 ? 0 : 1);
