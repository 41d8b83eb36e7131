/** Boot loaders: pure functions from guest images to a BootImage (notes/session-contract.md). */
export { loadBios } from './bios.ts';
export { detectKernel, type KernelKind, type KernelOptions, loadKernel } from './detect.ts';
export { type LinuxOptions, loadLinux } from './linux.ts';
export { pcMemoryMap } from './memmap.ts';
export { loadMultiboot, type MultibootModule, type MultibootOptions } from './multiboot.ts';
export { loadRaw, type RawOptions } from './raw.ts';
export { type BootChunk, type BootImage, type EntryRegName, type EntryRegs, LoadError } from './types.ts';
