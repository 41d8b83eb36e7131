/** Number formatting and bit-field decoding shared by the panels. */

export function hex(v: number, digits = 8): string {
  return (v >>> 0).toString(16).toUpperCase().padStart(digits, '0');
}

export function fmtCount(n: number): string {
  if (n < 10_000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(n < 1e5 ? 1 : 0)}k`;
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)}M`;
  return `${(n / 1e9).toFixed(2)}G`;
}

export function fmtTimeNs(ns: number): string {
  if (ns < 1e3) return `${ns.toFixed(0)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toFixed(1)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toFixed(2)} ms`;
  return `${(ns / 1e9).toFixed(3)} s`;
}

export interface BitDef {
  bit: number;
  /** Width in bits (IOPL is 2). */
  width?: number;
  name: string;
  title: string;
}

/** EFLAGS (SDM Vol.1 §3.4.3, Figure 3-8). */
export const EFLAGS_BITS: BitDef[] = [
  { bit: 0, name: 'CF', title: 'Carry flag: unsigned overflow out of the last arithmetic operation' },
  { bit: 2, name: 'PF', title: 'Parity flag: the low byte of the result has an even number of 1 bits' },
  { bit: 4, name: 'AF', title: 'Auxiliary carry: carry out of bit 3 (BCD arithmetic)' },
  { bit: 6, name: 'ZF', title: 'Zero flag: the result was zero' },
  { bit: 7, name: 'SF', title: 'Sign flag: the result was negative' },
  { bit: 8, name: 'TF', title: 'Trap flag: single-step, #DB after each instruction' },
  { bit: 9, name: 'IF', title: 'Interrupt flag: maskable interrupts are delivered when set' },
  { bit: 10, name: 'DF', title: 'Direction flag: string instructions count down when set' },
  { bit: 11, name: 'OF', title: 'Overflow flag: signed overflow' },
  { bit: 12, width: 2, name: 'IOPL', title: 'I/O privilege level: IN/OUT/CLI/STI trap when CPL > IOPL' },
  { bit: 14, name: 'NT', title: 'Nested task: IRET returns to the previous task' },
  { bit: 16, name: 'RF', title: 'Resume flag: suppresses instruction breakpoints for one instruction' },
  { bit: 17, name: 'VM', title: 'Virtual-8086 mode' },
  { bit: 18, name: 'AC', title: 'Alignment check (with CR0.AM at CPL 3)' },
  { bit: 19, name: 'VIF', title: 'Virtual interrupt flag (VME/PVI)' },
  { bit: 20, name: 'VIP', title: 'Virtual interrupt pending (VME/PVI)' },
  { bit: 21, name: 'ID', title: 'CPUID is available when this bit can be toggled' },
];

/** CR0 (SDM Vol.3 §2.5). */
export const CR0_BITS: BitDef[] = [
  { bit: 0, name: 'PE', title: 'Protection enable: protected mode' },
  { bit: 1, name: 'MP', title: 'Monitor coprocessor' },
  { bit: 2, name: 'EM', title: 'Emulation: no x87, FPU instructions raise #NM' },
  { bit: 3, name: 'TS', title: 'Task switched: next FPU instruction raises #NM' },
  { bit: 4, name: 'ET', title: 'Extension type (always 1 from the 486 on)' },
  { bit: 5, name: 'NE', title: 'Numeric error: native x87 error reporting' },
  { bit: 16, name: 'WP', title: 'Write protect: supervisor writes honour read-only pages' },
  { bit: 18, name: 'AM', title: 'Alignment mask' },
  { bit: 29, name: 'NW', title: 'Not write-through' },
  { bit: 30, name: 'CD', title: 'Cache disable' },
  { bit: 31, name: 'PG', title: 'Paging enabled' },
];

/** CR4 (SDM Vol.3 §2.5). */
export const CR4_BITS: BitDef[] = [
  { bit: 0, name: 'VME', title: 'Virtual-8086 mode extensions' },
  { bit: 1, name: 'PVI', title: 'Protected-mode virtual interrupts' },
  { bit: 2, name: 'TSD', title: 'Time-stamp disable: RDTSC is privileged' },
  { bit: 3, name: 'DE', title: 'Debugging extensions' },
  { bit: 4, name: 'PSE', title: 'Page size extensions: 4 MiB pages' },
  { bit: 5, name: 'PAE', title: 'Physical address extension' },
  { bit: 7, name: 'PGE', title: 'Global pages' },
  {
    bit: 11,
    name: 'UMIP',
    title: 'User-mode instruction prevention: SGDT/SIDT/SLDT/SMSW/STR fault at CPL > 0',
  },
];

export function bitValue(v: number, d: BitDef): number {
  return (v >>> d.bit) & ((1 << (d.width ?? 1)) - 1);
}

const SYS_TYPES: Record<number, string> = {
  1: '16-bit TSS (available)',
  2: 'LDT',
  3: '16-bit TSS (busy)',
  4: '16-bit call gate',
  5: 'task gate',
  6: '16-bit interrupt gate',
  7: '16-bit trap gate',
  9: '32-bit TSS (available)',
  11: '32-bit TSS (busy)',
  12: '32-bit call gate',
  14: '32-bit interrupt gate',
  15: '32-bit trap gate',
};

/** Human description of a descriptor cache's attributes (SDM Vol.3 §3.4.5, Table 3-1). */
export function describeSegAttrs(attrs: number): {
  type: string;
  dpl: number;
  present: boolean;
  big: boolean;
  gran: boolean;
} {
  const type = attrs & 0xf;
  const s = (attrs & 0x10) !== 0;
  let text: string;
  if (!s) text = SYS_TYPES[type] ?? `system type ${type}`;
  else if (type & 8) {
    text = `code, ${type & 2 ? 'execute/read' : 'execute-only'}${type & 4 ? ', conforming' : ''}`;
  } else {
    text = `data, ${type & 2 ? 'read/write' : 'read-only'}${type & 4 ? ', expand-down' : ''}`;
  }
  return {
    type: text,
    dpl: (attrs >> 5) & 3,
    present: (attrs & 0x80) !== 0,
    big: (attrs & 0x4000) !== 0,
    gran: (attrs & 0x8000) !== 0,
  };
}

export function printable(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '·';
}

/** 32 MiB, 640 KiB, 12 B. */
export function fmtBytes(n: number): string {
  if (n >= 1 << 30 && n % (1 << 30) === 0) return `${n / (1 << 30)} GiB`;
  if (n >= 1 << 20) return `${+(n / (1 << 20)).toFixed(n % (1 << 20) ? 1 : 0)} MiB`;
  if (n >= 1 << 10) return `${+(n / (1 << 10)).toFixed(n % (1 << 10) ? 1 : 0)} KiB`;
  return `${n} B`;
}
