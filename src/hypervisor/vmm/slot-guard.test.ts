/**
 * Segment truncation's arithmetic and instruction classes (slot-guard.ts). The behaviour under a
 * guest is pinned by trap-and-emulate/isolation.test.ts (guests/hostile/slot-read.elf).
 */
import { describe, expect, it } from 'vitest';
import { readsDescriptors, truncatedLimit } from './slot-guard.ts';

const SLOT = 0xffc00000;

describe('truncatedLimit', () => {
  it('cuts a flat 4 GiB segment just below the slot, page-granular or byte-granular', () => {
    expect(truncatedLimit(0, 0xffffffff, SLOT, true)).toBe(0xffbfffff);
    expect(truncatedLimit(0x1000, 0xffffffff, SLOT, true)).toBe(0xffbfefff);
    expect(truncatedLimit(0x1800, 0xffffffff, SLOT, true)).toBe(0xffbfdfff); // rounded down to a page
    expect(truncatedLimit(0xffbf0000, 0xffff, SLOT, false)).toBe(0xffff); // ends at 0xFFBFFFFF
    expect(truncatedLimit(0xffbf8000, 0xffff, SLOT, false)).toBe(0x7fff);
  });
  it('leaves segments below the slot alone and gives up on one that starts in it', () => {
    expect(truncatedLimit(0, 0xfffff, SLOT, false)).toBe(0xfffff);
    expect(truncatedLimit(0xc0000000, 0x3fbfffff, SLOT, true)).toBe(0x3fbfffff);
    expect(truncatedLimit(SLOT, 0xfff, SLOT, false)).toBe(-1);
    expect(truncatedLimit(0xffbff800, 0xffffffff, SLOT, true)).toBe(-1); // no whole page left
  });
});

describe('readsDescriptors', () => {
  const yes = [
    [0x8e, 0xd8], // mov ds, ax
    [0x1f], // pop ds
    [0x66, 0x0f, 0xa9], // pop gs (o16)
    [0xc5, 0x05, 0, 0, 0xc0, 0xff], // lds eax, [0xFFC00000]
    [0x0f, 0xb2, 0x05, 0, 0, 0xc0, 0xff], // lss eax, [..]
    [0xea, 0, 0, 0, 0, 0x08, 0], // jmp far
    [0xff, 0x2d, 0, 0, 0xc0, 0xff], // jmp far [..]
    [0xcb], // retf
    [0xcf], // iret
    [0x0f, 0x03, 0xc1], // lsl eax, ecx
    [0x0f, 0x00, 0xe0], // verr ax
  ];
  const no = [
    [0x8b, 0x05, 0, 0, 0xc0, 0xff], // mov eax, [0xFFC00000]
    [0x36, 0x8b, 0x05, 0, 0, 0xc0, 0xff], // mov eax, ss:[..]
    [0xf3, 0xad], // rep lodsd
    [0xff, 0x25, 0, 0, 0xc0, 0xff], // jmp [..] (near)
    [0x0f, 0x00, 0xd8], // ltr ax (no descriptor read by the guest's step: it traps)
    [0x8c, 0xd8], // mov eax, ds (a read of the selector only)
  ];
  it('names the instructions that read the GDT/LDT', () => {
    for (const b of yes) expect(readsDescriptors(new Uint8Array(b)), b.join(' ')).toBe(true);
    for (const b of no) expect(readsDescriptors(new Uint8Array(b)), b.join(' ')).toBe(false);
  });
});
