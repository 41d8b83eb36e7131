#!/usr/bin/env node
// traplab — the headless TrapLab runner (src/cli/main.ts). It runs a prebuilt JavaScript bundle
// (build/cli/main.cjs, made by scripts/build-cli.mjs on install and rebuilt here whenever a source is
// newer) through V8's code cache (load-bundle.mjs), so a call pays neither for compiling TypeScript
// nor for compiling the bundle. If the bundle cannot be built (no esbuild) or TRAPLAB_TSX=1 is set,
// it falls back to compiling the sources on the fly with tsx.
import { loadBundle } from './load-bundle.mjs';

let saveCache = () => {};

// A closed pipe (`traplab … | head`) must end the run quietly, not crash with a stack trace;
// src/cli/run.ts watches for it too and stops the guest.
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});

// Notes about the bundle go to a terminal only: piped stderr (tests, scripts) stays the guest's.
const note = (text) => {
  if (process.stderr.isTTY) process.stderr.write(`traplab: ${text}\n`);
};

async function loadMain() {
  if (!process.env.TRAPLAB_TSX) {
    try {
      const b = await import('../scripts/build-cli.mjs');
      if (!b.bundleFresh()) {
        note('src/ is newer than the CLI bundle: rebuilding build/cli/main.cjs');
        await b.buildCli();
      }
      const loaded = loadBundle(b.bundlePath);
      saveCache = loaded.saveCache;
      return loaded.exports.main;
    } catch (e) {
      note(`cannot use the CLI bundle (${e instanceof Error ? e.message : e}); compiling src/ with tsx`);
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../src/cli/main.ts')).main;
}

const main = await loadMain();
const code = await main(process.argv.slice(2));
// After the run: the cache then holds every function this call compiled, not just the top level.
saveCache();
// Let pending stdout/stderr writes finish, then leave with the exact status.
const flush = (s, then) => (s.destroyed || !s.writable ? then() : s.write('', then));
flush(process.stdout, () => flush(process.stderr, () => process.exit(code)));
