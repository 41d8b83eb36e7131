/** Test helper: assemble a small flat 32-bit NASM program (org 0x100000) with Debian's nasm. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let dir: string | null = null;

/** Returns the path of the assembled raw image. */
export function nasmFile(name: string, source: string, org = 0x100000): string {
  dir ??= mkdtempSync(join(tmpdir(), 'traplab-nasm-'));
  const src = join(dir, `${name}.asm`);
  const out = join(dir, `${name}.bin`);
  writeFileSync(src, `bits 32\norg 0x${org.toString(16)}\n${source}`);
  const r = spawnSync('nasm', ['-f', 'bin', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`nasm failed for ${name}: ${r.stderr || r.error}`);
  return out;
}

export function nasm(name: string, source: string, org = 0x100000): Uint8Array {
  return new Uint8Array(readFileSync(nasmFile(name, source, org)));
}
