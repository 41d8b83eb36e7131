/**
 * Zero-filled buffers that cost nothing to create, for the large page-indexed tables of a CPU and a
 * machine (TLB, block cache, memory map).
 *
 * `new ArrayBuffer(n)` is calloc'd. Node's allocator (glibc malloc) serves a request above its mmap
 * threshold — at most 32 MiB on 64-bit — with fresh pages from mmap, which the kernel zeroes lazily
 * on first touch, so an untouched table costs nothing. Below it, once earlier buffers have been
 * collected, the request may reuse heap memory that calloc must clear first: measured on Node 20,
 * a 16 MiB buffer took 0.1 ms fresh but 50–70 ms after a GC, a 33 MiB one 0.2–2 ms throughout.
 * So tables share one buffer of at least FRESH_BUFFER_BYTES; padding that is never touched costs
 * address space only.
 */
export const FRESH_BUFFER_BYTES = (32 << 20) + (1 << 20);

/** A zero-filled ArrayBuffer of `max(bytes, FRESH_BUFFER_BYTES)` bytes. */
export function freshBuffer(bytes: number): ArrayBuffer {
  return new ArrayBuffer(Math.max(bytes, FRESH_BUFFER_BYTES));
}
