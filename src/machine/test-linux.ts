/**
 * Test helper: the Linux guest (guests/linux: kernel, initramfs, the command line the playground
 * uses) loaded into a Pc. Test-only (imported by *.test.ts).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadLinux } from './loaders/linux.ts';
import type { Pc } from './pc.ts';

const dir = resolve(import.meta.dirname, '../../guests/linux');

/** Load guests/linux into `pc`, ready to boot from its first instruction. */
export function loadTestLinux(pc: Pc): void {
  pc.load(
    loadLinux(new Uint8Array(readFileSync(`${dir}/bzImage`)), {
      ramBytes: pc.memory.ramBytes,
      initrd: new Uint8Array(readFileSync(`${dir}/initramfs.cpio`)),
      cmdline: 'console=ttyS0 lpj=500000',
    }),
  );
}
