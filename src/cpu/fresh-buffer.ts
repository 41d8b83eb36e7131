/**
 * Zero-filled buffers that cost nothing to create, for the large page-indexed tables of a CPU and a
 * machine (TLB, block cache, memory map), and a pool that hands the tables of a disposed machine to
 * the next one.
 *
 * `new ArrayBuffer(n)` is calloc'd. Node's allocator (glibc malloc) serves a request above its mmap
 * threshold — at most 32 MiB on 64-bit — with fresh pages from mmap, which the kernel zeroes lazily
 * on first touch, so an untouched table costs nothing. Below it, once earlier buffers have been
 * collected, the request may reuse heap memory that calloc must clear first: measured on Node 20,
 * a 16 MiB buffer took 0.1 ms fresh but 50–70 ms after a GC, a 33 MiB one 0.2–2 ms throughout.
 * So tables share one buffer of at least FRESH_BUFFER_BYTES; padding that is never touched costs
 * address space only.
 *
 * A fresh page is paid for on its first touch, though: a write fault costs ~12 µs on this project's
 * VM (a 64 MiB fill of a fresh buffer: 16 k faults, ~200 ms CPU), and a machine scatters its TLB
 * and block-cache writes over thousands of pages while it runs. Every new buffer is also external
 * memory to V8, which starts a full GC once enough has been allocated. A buffer given back by a
 * disposed machine (its owner zeroes what it wrote) is already resident and costs the allocator
 * nothing, so the next machine takes it instead of a fresh one.
 */
export const FRESH_BUFFER_BYTES = (32 << 20) + (1 << 20);

/** Buffers kept per size (one session's CPU takes two of the 33 MiB class), and in all. */
const KEEP = 4;
const KEEP_BYTES = 512 << 20;
const pool = new Map<number, ArrayBuffer[]>();
let pooledBytes = 0;

/**
 * A zero-filled ArrayBuffer of `max(bytes, FRESH_BUFFER_BYTES)` bytes: one given back with
 * `giveBuffer` if there is one of that size, else a fresh one.
 */
export function freshBuffer(bytes: number): ArrayBuffer {
  const size = Math.max(bytes, FRESH_BUFFER_BYTES);
  const buf = pool.get(size)?.pop();
  if (buf === undefined) return new ArrayBuffer(size);
  pooledBytes -= size;
  return buf;
}

/**
 * Hand back a buffer from `freshBuffer` for a later one to reuse. The caller must have zeroed
 * every byte it wrote and must not touch the buffer again. Beyond the pool's limits the buffer is
 * left to the GC (the oldest kept ones go first, so a change of RAM size does not pin the old one).
 */
export function giveBuffer(buf: ArrayBuffer): void {
  const size = buf.byteLength;
  let list = pool.get(size);
  if (!list) {
    list = [];
    pool.set(size, list);
  }
  if (list.includes(buf)) return;
  if (list.length >= KEEP) {
    list.shift();
    pooledBytes -= size;
  }
  list.push(buf);
  pooledBytes += size;
  for (const [k, l] of pool) {
    if (pooledBytes <= KEEP_BYTES) break;
    if (k === size) continue;
    while (l.length > 0 && pooledBytes > KEEP_BYTES) {
      l.shift();
      pooledBytes -= k;
    }
  }
}

/** The buffers waiting in the pool (tests check that they are all zero). */
export function pooledBuffers(): ArrayBuffer[] {
  return [...pool.values()].flat();
}
