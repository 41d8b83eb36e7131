/**
 * A VMCS as the processor keeps it. The format of a VMCS region is implementation-specific (SDM
 * Vol.3C §24.2): software only sees its first two dwords (revision identifier, abort indicator) and
 * reaches the rest through VMREAD/VMWRITE. This CPU keeps the data of every VMCS it has been
 * given (VMPTRLD) in a processor-side cache keyed by the region's physical address — as a real
 * processor may — and never writes it back into guest-visible memory.
 */

/** Encodings are below 0x8000 (bit 15 is reserved): one slot each, so VMREAD/VMWRITE are an index. */
const SLOTS = 0x8000;

export class Vmcs {
  /** Field values by encoding; a 64-bit field keeps its high half under the odd encoding. */
  private readonly f = new Int32Array(SLOTS);
  private readonly written = new Uint8Array(SLOTS);
  /** Launch state (§24.1): "clear" after VMCLEAR, "launched" after a successful VMLAUNCH. */
  launched = false;

  constructor(readonly addr: number) {}

  get(enc: number): number {
    return this.f[enc & (SLOTS - 1)];
  }

  set(enc: number, v: number): void {
    const i = enc & (SLOTS - 1);
    // 16-bit fields keep 16 bits (§24.11.2: a VMWRITE stores the low bits of the source).
    this.f[i] = ((enc >>> 13) & 3) === 0 ? v & 0xffff : v;
    this.written[i] = 1;
  }

  /** Every field written so far (encoding → value), for the UI's VMCS panel. */
  entries(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = 0; i < SLOTS; i++) if (this.written[i]) out.push([i, this.f[i]]);
    return out;
  }

  /** VMCLEAR (§30.3): the launch state becomes "clear". */
  clear(): void {
    this.launched = false;
  }
}
