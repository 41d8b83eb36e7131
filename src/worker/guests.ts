/**
 * The built-in guest catalogue: guests/manifest.json plus the URLs Vite gives the committed images.
 * Imported by the worker (to fetch an image by id) and by the UI (to list guests with their
 * teaching descriptions).
 */
import manifestJson from '../../guests/manifest.json';
import type { TechniqueId } from './protocol.ts';

export interface GuestEntry {
  id: string;
  title: string;
  description: string;
  techniques: TechniqueId[];
  files: { kernel?: string; initrd?: string; bios?: string; raw?: string };
  cmdline?: string;
  /** Raw images: load address and entry point. */
  load?: number;
  entry?: number;
  memMiB?: number;
  /** The PC model the guest is built for (e.g. linux-apic: pc-apic); the playground preselects it. */
  machine?: string;
}

export const guests: GuestEntry[] = (manifestJson as { guests: GuestEntry[] }).guests;

// Images one directory below guests/ (never guests/linux/work/…). bzImage has no extension.
const withExt = import.meta.glob('../../guests/*/*.{elf,bin,img,cpio,gz,rom}', {
  query: '?url',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const bzImages = import.meta.glob('../../guests/*/bzImage', {
  query: '?url',
  import: 'default',
  eager: true,
}) as Record<string, string>;
const urls: Record<string, string> = {};
for (const [k, v] of Object.entries({ ...withExt, ...bzImages })) urls[k.replace('../../guests/', '')] = v;

/** URL of a file named in the manifest (path relative to guests/), or undefined if not bundled. */
export function guestFileUrl(path: string): string | undefined {
  return urls[path];
}

export function findGuest(id: string): GuestEntry | undefined {
  return guests.find((g) => g.id === id);
}

/** True when every file the guest needs is bundled (e.g. Linux before its image is built). */
export function guestAvailable(g: GuestEntry): boolean {
  return Object.values(g.files).every((p) => p === undefined || guestFileUrl(p) !== undefined);
}
