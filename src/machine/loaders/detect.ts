/** Kernel-format detection for `--kernel FILE`, and the loader that dispatches on it. */
import { isBzImage, loadLinux } from './linux.ts';
import { loadMultiboot, scanMultibootHeader } from './multiboot.ts';
import { type BootImage, LoadError } from './types.ts';
import { checkImage } from './util.ts';

export type KernelKind = 'multiboot' | 'linux' | 'unknown';

/** 'multiboot' when a valid multiboot header (magic and checksum) is in the first 8 KiB,
 *  'linux' when 'HdrS' is at 0x202, else 'unknown'. */
export function detectKernel(image: Uint8Array): KernelKind {
  if (!(image instanceof Uint8Array) || image.length === 0) return 'unknown';
  if (scanMultibootHeader(image).found) return 'multiboot';
  if (isBzImage(image)) return 'linux';
  return 'unknown';
}

export interface KernelOptions {
  ramBytes: number;
  initrd?: Uint8Array;
  cmdline?: string;
}

/** Load a kernel of either format. For a multiboot kernel the initrd becomes its first module. */
export function loadKernel(image: Uint8Array, opts: KernelOptions): BootImage {
  checkImage(image, 'kernel');
  switch (detectKernel(image)) {
    case 'multiboot':
      return loadMultiboot(image, {
        ramBytes: opts.ramBytes,
        cmdline: opts.cmdline,
        modules: opts.initrd ? [{ bytes: opts.initrd, cmdline: 'initrd' }] : undefined,
      });
    case 'linux':
      return loadLinux(image, opts);
    default: {
      const mb = scanMultibootHeader(image);
      throw new LoadError(
        `unrecognised kernel format: not a multiboot kernel (${mb.found ? '' : mb.reason}) and not a Linux bzImage (no 'HdrS' at 0x202)`,
      );
    }
  }
}
