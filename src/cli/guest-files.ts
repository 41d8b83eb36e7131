/** Turn the CLI's guest choice into a session GuestSource by reading the files it names. */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { GuestSource } from '../session/index.ts';
import { type GuestChoice, parseAddress, UsageError } from './args.ts';
import { errorText, findGuest, guestsDir, type ManifestGuest } from './manifest.ts';

/** Largest regular file we read (a bzImage + initrd fit easily). */
const MAX_FILE_BYTES = 1 << 30;
/**
 * Most we read from anything that is not a regular file (a character device, a FIFO): its size in
 * stat means nothing, and /dev/zero or /dev/urandom never end.
 */
export const MAX_STREAM_BYTES = 64 << 20;
const CHUNK = 1 << 20;

export function readImage(path: string, what: string): Uint8Array {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new UsageError(`cannot read ${what} '${path}': is a directory`);
    const regular = st.isFile();
    if (regular && st.size > MAX_FILE_BYTES)
      throw new UsageError(`${what} '${path}' is too large (${st.size} bytes)`);
    if (regular) {
      // Straight into one buffer of the size it has now (no 1 MiB chunks copied again: a Linux
      // kernel and initrd would page-fault twice their size into fresh memory on every call).
      const out = new Uint8Array(st.size);
      let total = 0;
      while (total < out.length) {
        const n = readSync(fd, out, total, out.length - total, null);
        if (n === 0) break; // shrank while read
        total += n;
      }
      if (total === 0) throw new UsageError(`${what} '${path}' is empty`);
      return total === out.length ? out : out.subarray(0, total);
    }
    // Read in chunks up to the cap, never trusting a size for what is not a regular file.
    const cap = MAX_STREAM_BYTES;
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK);
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      total += n;
      if (total > cap) {
        throw new UsageError(
          `${what} '${path}' is not a regular file and gave more than ${cap >> 20} MiB; stopped reading there (an image must end)`,
        );
      }
      parts.push(n === CHUNK ? buf : buf.subarray(0, n));
    }
    if (total === 0) throw new UsageError(`${what} '${path}' is empty`);
    const out = new Uint8Array(total);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${what} '${path}': ${errorText(e)}`);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

export interface ResolvedGuest {
  source: GuestSource;
  /** For messages: what was loaded. */
  label: string;
  /** Manifest guests: the techniques it is meant to run under. */
  techniques?: readonly string[];
  /** Manifest guests: the PC model it is built for, used when --machine is not given. */
  machine?: string;
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
  if (typeof g.machine === 'string') r.machine = g.machine;
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
