/**
 * A VMCS as the processor keeps it. The format of a VMCS region is implementation-specific (SDM
 * Vol.3C §24.2): software only sees its first two dwords (revision identifier, abort indicator) and
 * reaches the rest through VMREAD/VMWRITE. This CPU keeps the data of every VMCS it has been
 * given (VMPTRLD) in a processor-side cache keyed by the region's physical address — as a real
 * processor may — and never writes it back into guest-visible memory.
 */

export class Vmcs {
  /** Field values by encoding; a 64-bit field keeps its high half under the odd encoding. */
  private readonly f = new Map<number, number>();
  /** Launch state (§24.1): "clear" after VMCLEAR, "launched" after a successful VMLAUNCH. */
  launched = false;

  constructor(readonly addr: number) {}

  get(enc: number): number {
    return this.f.get(enc) ?? 0;
  }

  set(enc: number, v: number): void {
    const w = (enc >>> 13) & 3;
    // 16-bit fields keep 16 bits (§24.11.2: a VMWRITE stores the low bits of the source).
    this.f.set(enc, w === 0 ? v & 0xffff : v | 0);
  }

  /** Every field written so far (encoding → value), for the UI's VMCS panel. */
  entries(): Array<[number, number]> {
    return [...this.f.entries()].sort((a, b) => a[0] - b[0]);
  }

  /** Forget the contents (VMCLEAR initialises implementation-specific data, §30.3 VMCLEAR). */
  clear(): void {
    this.launched = false;
  }
}
