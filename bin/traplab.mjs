#!/usr/bin/env node
// traplab — the headless TrapLab runner. The CLI is TypeScript; tsx compiles it on the fly
// (cached), so no build step is needed. See src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
const code = await main(process.argv.slice(2));
// Let pending stdout/stderr writes finish, then leave with the exact status.
process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
