/**
 * Field representations of the CPU object, fixed when it is built.
 *
 * V8 stores a number field as a small integer (Smi) until a value outside the Smi range is stored;
 * then the field becomes a double and the object gets a new map. Every function optimized for the
 * old map is thrown away ("wrong map" deopts) and so is everything that relied on the map being
 * stable ("dependent prototype chain changed"), and all of it is compiled again. Chromium's V8
 * (pointer compression) has 31-bit Smis: any 32-bit value ≥ 2^30 or < -2^30 — a kernel address,
 * CR0 with PG, a lazy-flag operand — moves a field. A cold Linux boot in the browser went through
 * nine maps of the CPU object this way, each one a wave of 40–265 deoptimized functions, at
 * different times as the guest first stored a large value into each field (PERF.md, "Session 9 —
 * v8cold"). Node's V8 (32-bit Smis) sees the same for the fields that hold values ≥ 2^31.
 *
 * So the fields that can hold a full 32-bit value are made doubles once, in the constructor,
 * before any code is optimized: the map never changes afterwards. A double field costs a load of
 * its box and a conversion where it is used as an integer — what those fields cost already once a
 * run has stored one large value (in the browser, within the first seconds of a boot).
 */

/**
 * Number fields of the Cpu (the class chain CpuBase … Cpu) that can hold values ≥ 2^31 — unsigned
 * offsets and limits, counters, values set from outside — a double in every V8.
 */
export const CPU_UNSIGNED_FIELDS = [
  // base.ts: the instruction pointers (`>>> 0`), TSC_OFFSET, the counters.
  'eip',
  'ip',
  'tscOffset',
  'instructions',
  'chargedCycles',
  // mmu.ts: the fetch window, CS's limit (0xFFFFFFFF when flat).
  'fetchLo',
  'fetchHi',
  'fetchDelta',
  'csLim',
  // core.ts: the effective address (bit operations store it unsigned).
  'eaOff',
  // cpu.ts
  'breakLinear',
  'eventSteps',
] as const;

/**
 * Number fields of the Cpu that hold signed 32-bit values (stored `| 0`): Smis where a Smi has 32
 * bits (Node's V8), but not where it has 31 (pointer compression: every Chromium), where any value
 * ≥ 2^30 or < -2^30 — a kernel address, CR0 with PG, a lazy-flag operand — is a double.
 */
export const CPU_SIGNED_FIELDS = [
  // base.ts: lazy-flag operands and result, control registers, descriptor tables, MSRs, A20.
  'lzA',
  'lzB',
  'lzR',
  'cr0',
  'cr2',
  'cr3',
  'cr4',
  'gdtBase',
  'idtBase',
  'sysenterEsp',
  'sysenterEip',
  'vmxCr2',
  'a20Mask',
  // mmu.ts: CS's base, the last fault's address.
  'csBase',
  'faultAddr',
  // segments.ts, tasks.ts: the last descriptor read and its address; the TSS stack pointer.
  'dLo',
  'dHi',
  'dAddr',
  'tssEsp',
  // core.ts: MUL/DIV's 64-bit halves.
  'mulLo',
  'mulHi',
] as const;

/**
 * Whether this V8 has 31-bit Smis (pointer compression). Node says so in its build configuration;
 * anywhere else (a browser) we assume Chromium's, which always has it on 64-bit hosts.
 */
function smi31(): boolean {
  const proc = (globalThis as { process?: { config?: { variables?: Record<string, unknown> } } }).process;
  const pc = proc?.config?.variables?.v8_enable_pointer_compression;
  return pc === undefined || pc === 1 || pc === true || pc === 'true';
}

/**
 * The Cpu's fields made doubles when it is built. With 32-bit Smis the signed fields stay Smis:
 * they never leave the range there, and a Smi field is read and written without a double's box
 * (Node's warm boot with them as doubles: 1.06× (0.90–1.10) of main, not resolved on a loaded
 * machine; where they buy nothing they are left out. PERF.md "Session 9 — v8cold").
 */
export const CPU_WIDE_FIELDS: readonly string[] = smi31()
  ? [...CPU_UNSIGNED_FIELDS, ...CPU_SIGNED_FIELDS]
  : CPU_UNSIGNED_FIELDS;

/** Number fields of the TrapEvent the CPU reuses for every event (interrupts.ts). */
export const EVENT_WIDE_FIELDS = ['eip', 'instrEip', 'faultAddr', 'errorCode'] as const;

/**
 * Settle the fields of a newly built object so that running code never changes its map or the
 * facts optimized code relies on:
 * - the `wide` number fields become doubles (a non-integer is stored, then the value put back; a
 *   value like 2^31 would do in Node but -0 would not: code reading the field as an int32
 *   deoptimizes on -0);
 * - every other own number or boolean field is made mutable: V8 treats a field written only once
 *   as a constant and optimized code may fold it; the first later write to a different value
 *   ("dependent field type constness changed") throws all of that code away. In the browser the
 *   CPU's `watchOn`, written first mid-boot, deoptimized ~30 memory-access handlers at once.
 * Values are unchanged. Call it at the end of the most derived constructor. Throws if a `wide`
 * name is not a number field (so the list cannot silently rot when a field is renamed).
 */
export function settleFields(o: object, wide: readonly string[] = []): void {
  const r = o as Record<string, unknown>;
  for (const k of wide) {
    const v = r[k];
    if (typeof v !== 'number') throw new Error(`settleFields: ${k} is not a number field`);
    r[k] = 0.5;
    r[k] = v;
  }
  for (const k of Object.keys(r)) {
    const v = r[k];
    if (typeof v === 'number') {
      if (wide.includes(k)) continue;
      r[k] = v === 0 ? 1 : 0;
      r[k] = v;
    } else if (typeof v === 'boolean') {
      r[k] = !v;
      r[k] = v;
    }
  }
}

/** Make the object field `name` of `o` mutable the same way (`other`: a value of the same kind). */
export function settleObjectField(o: object, name: string, other: object): void {
  const r = o as Record<string, unknown>;
  const v = r[name];
  if (typeof v !== 'object' || v === null) throw new Error(`settleObjectField: ${name} is not an object`);
  r[name] = other;
  r[name] = v;
}
