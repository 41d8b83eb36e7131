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

// A package that could not be installed is reported ONCE: the tests that need it are not run
// (Playwright without chromium) or their failures are folded into that one line (vitest tests that
// assemble or build guests without nasm/gcc), instead of showing up as dozens of unrelated failures.
run('system packages', 'bash', ['scripts/ensure-system-deps.sh', 'test']);
const missing = spawnSync('bash', ['scripts/ensure-system-deps.sh', 'test', '--check'], { cwd: root })
  .stdout.toString()
  .trim()
  .split(/\s+/)
  .filter(Boolean);
if (missing.length)
  check(
    `system packages: missing ${missing.join(', ')} (sudo apt-get install -y ${missing.join(' ')})`,
    false,
  );
/** A failure caused by a missing build tool (nasm, gcc -m32, ld) rather than by TrapLab. */
const toolMissing =
  /\b(nasm|gcc|ld)\b[^\n]*(ENOENT|command not found|not found)|stubs-32\.h|libc-header-start\.h/;
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
  // Tests (and whole files, when a beforeAll assembles guests) that failed only for a missing tool.
  const toolsMissing = missing.some((p) => p !== 'chromium');
  let blocked = 0;
  let blockedFiles = 0;
  let suiteErrors = 0;
  for (const f of u.testResults ?? []) {
    if (f.status === 'failed' && f.message) {
      if (toolsMissing && toolMissing.test(f.message)) blockedFiles++;
      else suiteErrors++;
    }
    for (const a of f.assertionResults ?? [])
      if (toolsMissing && a.status === 'failed' && toolMissing.test((a.failureMessages ?? []).join('\n')))
        blocked++;
  }
  tally.passed += u.numPassedTests;
  tally.failed += u.numFailedTests - blocked;
  tally.skipped += u.numPendingTests + (u.numTodoTests ?? 0);
  lines.push(`vitest: ${u.numPassedTests} passed, ${u.numFailedTests} failed, ${u.numPendingTests} skipped`);
  if (blocked || blockedFiles)
    lines.push(
      `vitest: ${blocked} tests and ${blockedFiles} files failed only because the packages above are missing (counted once there)`,
    );
  // A suite that fails to load counts as a failure even when no test inside it ran.
  if (!unitOk && u.numFailedTests - blocked === 0 && (suiteErrors > 0 || !blockedFiles))
    check('vitest (suite errors)', false);
} else {
  check('vitest (no report written)', false);
}

const noBrowser = missing.includes('chromium');
if (noBrowser) lines.push('playwright: not run (chromium is missing; counted once above)');
const e2eOk =
  noBrowser ||
  run('end-to-end (Playwright, Debian chromium)', 'npx', ['playwright', 'test'], {
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1',
  });
if (noBrowser) {
  // Reported with the packages.
} else if (existsSync(join(results, 'e2e.json'))) {
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
