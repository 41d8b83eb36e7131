/**
 * The PV guest header: Xen ELF notes (name "Xen", xen/include/public/elfnote.h) that say a kernel
 * is paravirtualized — which ABI it speaks and where its hypercall page is. Xen's domain builder
 * refuses a kernel without them; so do we, before anything runs. Our loaders hand the hypervisor
 * the loaded bytes rather than the ELF file, so, like the multiboot header, the notes must sit in
 * the first 8 KiB of the loaded image (minikernel-pv places its .note.Xen right after the
 * multiboot header).
 */
import type { BootImage } from '../../machine/loaders/types.ts';
import { VmmConfigError } from '../vmm/vm.ts';

export const XEN_ELFNOTE = {
  ENTRY: 1,
  HYPERCALL_PAGE: 2,
  VIRT_BASE: 3,
  PADDR_OFFSET: 4,
  XEN_VERSION: 5,
  GUEST_OS: 6,
  LOADER: 8,
} as const;

export interface PvGuestHeader {
  guestOs: string;
  xenVersion: string;
  loader: string;
  entry: number | null;
  hypercallPage: number;
  virtBase: number;
}

const SEARCH = 8192;

function u32(b: Uint8Array, o: number): number {
  return (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
}

/** Parse a run of "Xen" notes starting at `o`; null when there is none there. */
function parseAt(b: Uint8Array, o: number): Map<number, Uint8Array> | null {
  const notes = new Map<number, Uint8Array>();
  while (o + 16 <= b.length) {
    const namesz = u32(b, o);
    const descsz = u32(b, o + 4);
    const type = u32(b, o + 8);
    if (
      namesz !== 4 ||
      descsz > 1024 ||
      b[o + 12] !== 0x58 ||
      b[o + 13] !== 0x65 ||
      b[o + 14] !== 0x6e ||
      b[o + 15]
    )
      break;
    const d = o + 16;
    if (d + descsz > b.length) break;
    notes.set(type, b.subarray(d, d + descsz));
    o = d + ((descsz + 3) & ~3);
  }
  return notes.size > 0 ? notes : null;
}

const str = (d: Uint8Array | undefined): string => {
  if (!d) return '';
  const end = d.indexOf(0);
  return String.fromCharCode(...d.subarray(0, end < 0 ? d.length : end));
};

/** Find the PV header in the image, or null. */
export function findPvHeader(boot: BootImage): PvGuestHeader | null {
  // The loader's chunks also hold its boot information; look at the start of each.
  for (const c of boot.chunks) {
    if (c.rom) continue;
    const h = findIn(c.bytes.subarray(0, Math.min(SEARCH, c.bytes.length)));
    if (h) return h;
  }
  return null;
}

function findIn(b: Uint8Array): PvGuestHeader | null {
  for (let o = 0; o + 16 <= b.length; o += 4) {
    if (u32(b, o) !== 4 || b[o + 12] !== 0x58) continue;
    const notes = parseAt(b, o);
    if (!notes) continue;
    const page = notes.get(XEN_ELFNOTE.HYPERCALL_PAGE);
    const entry = notes.get(XEN_ELFNOTE.ENTRY);
    const base = notes.get(XEN_ELFNOTE.VIRT_BASE);
    return {
      guestOs: str(notes.get(XEN_ELFNOTE.GUEST_OS)),
      xenVersion: str(notes.get(XEN_ELFNOTE.XEN_VERSION)),
      loader: str(notes.get(XEN_ELFNOTE.LOADER)),
      entry: entry && entry.length >= 4 ? u32(entry, 0) : null,
      hypercallPage: page && page.length >= 4 ? u32(page, 0) : -1,
      virtBase: base && base.length >= 4 ? u32(base, 0) : 0,
    };
  }
  return null;
}

/** The header, or a clear refusal (VmmConfigError: the session reports it, nothing runs). */
export function requirePvHeader(boot: BootImage): PvGuestHeader {
  const h = findPvHeader(boot);
  if (!h) {
    throw new VmmConfigError(
      'paravirtual runs only kernels ported to its hypercall interface, and this one carries no PV guest ' +
        'header (no "Xen" ELF notes with a hypercall page). An unmodified kernel would execute privileged ' +
        'instructions the hypervisor does not emulate; run it under trap-and-emulate or natively, or pick a ' +
        'paravirtualized kernel such as minikernel-pv.',
    );
  }
  if (!h.xenVersion.startsWith('xen-3')) {
    throw new VmmConfigError(
      `the PV guest header asks for ABI "${h.xenVersion}"; this hypervisor speaks xen-3.0`,
    );
  }
  if (h.hypercallPage < 0 || h.hypercallPage & 0xfff) {
    throw new VmmConfigError(
      'the PV guest header names no page-aligned hypercall page (XEN_ELFNOTE_HYPERCALL_PAGE)',
    );
  }
  if (h.virtBase !== 0) {
    throw new VmmConfigError(
      `the PV guest header asks for VIRT_BASE 0x${h.virtBase.toString(16)}; only kernels linked at their physical addresses are supported`,
    );
  }
  return h;
}
