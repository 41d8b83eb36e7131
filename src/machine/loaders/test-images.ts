/**
 * Builders for synthetic guest images used by the loader tests: ELF32 executables with or without
 * a multiboot header, multiboot a.out-kludge images, and bzImage setup headers.
 */
import { put16, put32 } from './util.ts';

export interface TestSegment {
  paddr: number;
  vaddr?: number;
  data: Uint8Array;
  memsz?: number;
  /** Override the file offset written into the program header. */
  offset?: number;
}

export interface TestElf {
  entry: number;
  segments: TestSegment[];
  cls?: number;
  data?: number;
  type?: number;
  machine?: number;
  /** Multiboot header flags; null for no header. */
  mbFlags?: number | null;
  /** Override the checksum (to make it bad). */
  mbChecksum?: number;
  /** File offset of the multiboot header (default: right after the program headers). */
  mbOffset?: number;
  /** Extra program headers of another type (e.g. PT_NOTE) before the loads. */
  extraPhdrs?: number;
}

/** A little-endian ELF32 executable: header, program headers, multiboot header, segment data. */
export function makeElf(spec: TestElf): Uint8Array {
  const extra = spec.extraPhdrs ?? 0;
  const phnum = spec.segments.length + extra;
  const phEnd = 52 + 32 * phnum;
  const mbOffset = spec.mbOffset ?? alignUp4(phEnd);
  let off =
    spec.mbFlags === null || spec.mbFlags === undefined
      ? alignUp4(phEnd)
      : Math.max(alignUp4(phEnd), mbOffset + 12);
  const offsets = spec.segments.map((s) => {
    const o = off;
    off = alignUp4(off + s.data.length);
    return o;
  });
  const out = new Uint8Array(off);
  out.set([0x7f, 0x45, 0x4c, 0x46, spec.cls ?? 1, spec.data ?? 1, 1], 0);
  put16(out, 16, spec.type ?? 2);
  put16(out, 18, spec.machine ?? 3);
  put32(out, 20, 1);
  put32(out, 24, spec.entry);
  put32(out, 28, 52);
  put16(out, 40, 52);
  put16(out, 42, 32);
  put16(out, 44, phnum);
  for (let i = 0; i < extra; i++) put32(out, 52 + 32 * i, 4); // PT_NOTE
  spec.segments.forEach((s, i) => {
    const p = 52 + 32 * (extra + i);
    put32(out, p, 1);
    put32(out, p + 4, s.offset ?? offsets[i]!);
    put32(out, p + 8, s.vaddr ?? s.paddr);
    put32(out, p + 12, s.paddr);
    put32(out, p + 16, s.data.length);
    put32(out, p + 20, s.memsz ?? s.data.length);
    put32(out, p + 24, 7);
    out.set(s.data, offsets[i]!);
  });
  if (spec.mbFlags !== null && spec.mbFlags !== undefined) {
    writeMbHeader(out, mbOffset, spec.mbFlags, spec.mbChecksum);
  }
  return out;
}

export function writeMbHeader(out: Uint8Array, off: number, flags: number, checksum?: number): void {
  put32(out, off, 0x1badb002);
  put32(out, off + 4, flags);
  put32(out, off + 8, checksum ?? -(0x1badb002 + flags) >>> 0);
}

/** A flat multiboot image using the a.out kludge (flag 16): header at file offset `hdrOff`. */
export function makeAoutKludge(a: {
  size: number;
  hdrOff: number;
  headerAddr: number;
  loadAddr: number;
  loadEndAddr: number;
  bssEndAddr: number;
  entryAddr: number;
}): Uint8Array {
  const out = new Uint8Array(a.size);
  for (let i = 0; i < a.size; i++) out[i] = (i * 7 + 3) & 0xff;
  const flags = 0x00010002;
  writeMbHeader(out, a.hdrOff, flags);
  put32(out, a.hdrOff + 12, a.headerAddr);
  put32(out, a.hdrOff + 16, a.loadAddr);
  put32(out, a.hdrOff + 20, a.loadEndAddr);
  put32(out, a.hdrOff + 24, a.bssEndAddr);
  put32(out, a.hdrOff + 28, a.entryAddr);
  return out;
}

export interface TestBzImage {
  setupSects?: number;
  version?: number;
  pmSize?: number;
  loadflags?: number;
  code32Start?: number;
  initrdAddrMax?: number;
  kernelAlignment?: number;
  relocatable?: number;
  cmdlineSize?: number;
  prefAddress?: number;
  initSize?: number;
  /** Override syssize (16-byte paragraphs). */
  syssize?: number;
  /** Cut the file to this many bytes. */
  truncateTo?: number;
  bootFlag?: number;
}

/** A bzImage-shaped file: boot sector + setup header, setup sectors, and a patterned PM part. */
export function makeBzImage(s: TestBzImage = {}): Uint8Array {
  const setupSects = s.setupSects ?? 4;
  const pmSize = s.pmSize ?? 0x4000;
  const realSects = setupSects === 0 ? 4 : setupSects;
  const pmOff = (realSects + 1) * 512;
  const out = new Uint8Array(pmOff + pmSize);
  for (let i = 0; i < pmSize; i++) out[pmOff + i] = (i * 13 + 5) & 0xff;
  out[0x1f1] = setupSects;
  put32(out, 0x1f4, s.syssize ?? Math.ceil(pmSize / 16));
  put16(out, 0x1fe, s.bootFlag ?? 0xaa55);
  out[0x200] = 0xeb;
  out[0x201] = 0x66; // header ends at 0x268
  out.set([0x48, 0x64, 0x72, 0x53], 0x202); // "HdrS"
  put16(out, 0x206, s.version ?? 0x020f);
  out[0x211] = s.loadflags ?? 0x01;
  put32(out, 0x214, s.code32Start ?? 0x100000);
  put32(out, 0x22c, s.initrdAddrMax ?? 0x7fffffff);
  put32(out, 0x230, s.kernelAlignment ?? 0x2000);
  out[0x234] = s.relocatable ?? 0;
  put32(out, 0x238, s.cmdlineSize ?? 2047);
  put32(out, 0x258, s.prefAddress ?? 0x1000000);
  put32(out, 0x260, s.initSize ?? 0x340000);
  out[0x267] = 0x5a; // last header byte, to check the copy length
  out[0x268] = 0xa5; // first byte past the header: must not be copied
  return s.truncateTo !== undefined ? out.slice(0, s.truncateTo) : out;
}

function alignUp4(n: number): number {
  return (n + 3) & ~3;
}
