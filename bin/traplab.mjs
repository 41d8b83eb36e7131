#!/usr/bin/env node
// traplab — the headless TrapLab runner. The CLI is TypeScript; tsx compiles it on the fly
// (cached), so no build step is needed. See src/cli/main.ts.
import { register } from 'tsx/esm/api';

// A closed pipe (`traplab … | head`) must end the run quietly, not crash with a stack trace;
// src/cli/run.ts watches for it too and stops the guest.
for (const s of [process.stdout, process.stderr]) s.on('error', () => {});

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Let pending stdout/stderr writes finish, then leave with the exact status.
const flush = (s, then) => (s.destroyed || !s.writable ? then() : s.write('', then));
flush(process.stdout, () => flush(process.stderr, () => process.exit(code)));
