/** Turn the CLI's guest choice into a session GuestSource by reading the files it names. */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestSource } from '../session/index.ts';
import { type GuestChoice, parseAddress, UsageError } from './args.ts';
import { errorText, findGuest, guestsDir, type ManifestGuest } from './manifest.ts';

/** Largest file we read (a bzImage + initrd fit easily; protects against /dev/zero). */
const MAX_FILE_BYTES = 1 << 30;

export function readImage(path: string, what: string): Uint8Array {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new UsageError(`cannot read ${what} '${path}': is a directory`);
    if (st.size > MAX_FILE_BYTES) throw new UsageError(`${what} '${path}' is too large (${st.size} bytes)`);
    const buf = readFileSync(path);
    if (buf.length === 0) throw new UsageError(`${what} '${path}' is empty`);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${what} '${path}': ${errorText(e)}`);
  }
}

export interface ResolvedGuest {
  source: GuestSource;
  /** For messages: what was loaded. */
  label: string;
  /** Manifest guests: the techniques it is meant to run under. */
  techniques?: readonly string[];
}

export function resolveGuest(choice: GuestChoice): ResolvedGuest {
  switch (choice.kind) {
    case 'kernel': {
      const source: GuestSource = { kind: 'kernel', kernel: readImage(choice.kernel, 'kernel') };
      if (choice.initrd !== undefined) source.initrd = readImage(choice.initrd, 'initrd');
      if (choice.append !== undefined) source.cmdline = choice.append;
      return { source, label: choice.kernel };
    }
    case 'bios':
      return { source: { kind: 'bios', image: readImage(choice.bios, 'BIOS image') }, label: choice.bios };
    case 'raw':
      return {
        source: {
          kind: 'raw',
          image: readImage(choice.raw, 'raw image'),
          addr: choice.addr,
          entry: choice.entry,
        },
        label: choice.raw,
      };
    case 'guest':
      return resolveManifestGuest(choice.id, choice.append);
  }
}

function resolveManifestGuest(id: string, append: string | undefined): ResolvedGuest {
  const g = findGuest(id, guestsDir());
  const r = resolveManifestFiles(g, id, append);
  if (Array.isArray(g.techniques)) r.techniques = g.techniques;
  return r;
}

function resolveManifestFiles(g: ManifestGuest, id: string, append: string | undefined): ResolvedGuest {
  const dir = guestsDir();
  const f = g.files ?? {};
  const file = (rel: string, what: string): Uint8Array => {
    const path = join(dir, rel);
    try {
      statSync(path);
    } catch {
      throw new UsageError(
        `guest '${id}': ${what} ${path} is missing (build the guests with 'npm run guests')`,
      );
    }
    return readImage(path, `guest '${id}' ${what}`);
  };
  if (f.kernel) {
    const source: GuestSource = { kind: 'kernel', kernel: file(f.kernel, 'kernel') };
    if (f.initrd) source.initrd = file(f.initrd, 'initrd');
    const cmdline = append ?? g.cmdline;
    if (cmdline !== undefined) source.cmdline = cmdline;
    return { source, label: id };
  }
  if (append !== undefined) throw new UsageError(`--append: guest '${id}' is not a kernel`);
  if (f.bios) return { source: { kind: 'bios', image: file(f.bios, 'BIOS image') }, label: id };
  if (f.raw) {
    if (g.load === undefined)
      throw new UsageError(`guest '${id}' in the manifest has a raw image but no "load" address`);
    const addr = parseAddress(String(g.load), `guest '${id}' load address`);
    const entry = g.entry === undefined ? addr : parseAddress(String(g.entry), `guest '${id}' entry`);
    return { source: { kind: 'raw', image: file(f.raw, 'raw image'), addr, entry }, label: id };
  }
  throw new UsageError(`guest '${id}' in the manifest names no kernel, bios or raw file`);
}
