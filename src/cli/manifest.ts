/** guests/manifest.json: the guests `--guest ID` and `traplab list` know about. */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Technique } from '../session/types.ts';
import { UsageError } from './args.ts';

export interface ManifestGuest {
  id: string;
  title: string;
  description: string;
  techniques: Technique[];
  files: { kernel?: string; initrd?: string; bios?: string; raw?: string };
  cmdline?: string;
  /** The PC model the guest is built for (the CLI's --machine default for it; the UI preselects it). */
  machine?: string;
  /** Raw images: load address and entry point (numbers or "0x…" strings). */
  load?: number | string;
  entry?: number | string;
}

/** The project's guests/ directory (next to src/). TRAPLAB_GUESTS overrides it (tests). */
export function guestsDir(): string {
  const env = process.env.TRAPLAB_GUESTS;
  if (env) return resolve(env);
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'guests');
}

export function readManifest(dir = guestsDir()): ManifestGuest[] {
  const path = join(dir, 'manifest.json');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the guest list ${path}: ${errorText(e)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${path} is not valid JSON: ${errorText(e)}`);
  }
  const guests = (data as { guests?: unknown }).guests;
  if (!Array.isArray(guests)) throw new UsageError(`${path} has no "guests" array`);
  return guests.filter(
    (g): g is ManifestGuest =>
      typeof g === 'object' && g !== null && typeof (g as ManifestGuest).id === 'string',
  );
}

export function findGuest(id: string, dir = guestsDir()): ManifestGuest {
  const guests = readManifest(dir);
  const g = guests.find((x) => x.id === id);
  if (!g) {
    const ids = guests.map((x) => x.id).join(', ');
    throw new UsageError(`unknown guest '${id}' (known: ${ids || 'none'}; 'traplab list' describes them)`);
  }
  return g;
}

/** Human-readable message of a Node error (ENOENT → "no such file"), without a stack. */
export function errorText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err?.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return err?.message ?? String(e);
  }
}
