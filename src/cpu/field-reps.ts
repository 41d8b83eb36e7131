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

/** Number fields of the Cpu (the class chain CpuBase … Cpu) that can hold any 32-bit value. */
export const CPU_WIDE_FIELDS = [
  // base.ts: instruction pointers, lazy-flag operands and result, control registers, tables, MSRs.
  'eip',
  'ip',
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
  'tscOffset',
  'vmxCr2',
  'a20Mask',
  // Counters that pass 2^30 in a long session.
  'instructions',
  'chargedCycles',
  // mmu.ts: the fetch window, CS base and limit, the last fault's address.
  'fetchLo',
  'fetchHi',
  'fetchDelta',
  'csBase',
  'csLim',
  'faultAddr',
  // segments.ts, tasks.ts: the last descriptor read, its address; the TSS stack pointer.
  'dLo',
  'dHi',
  'dAddr',
  'tssEsp',
  // core.ts: the effective address, MUL/DIV's 64-bit halves.
  'eaOff',
  'mulLo',
  'mulHi',
  // cpu.ts
  'breakLinear',
  'eventSteps',
] as const;

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
