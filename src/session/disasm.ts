/**
 * Disassembly for the debugger views and trap records, from the CPU's own decoder table
 * (`src/cpu/disasm.ts`), so what is shown is what the interpreter executes.
 */
import { disassemble } from '../cpu/index.ts';

export function disassembleOne(
  bytes: Uint8Array,
  addr: number,
  code32: boolean,
): { length: number; text: string } {
  if (bytes.length === 0) return { length: 0, text: '(no bytes)' };
  const d = disassemble(bytes, 0, code32 ? 32 : 16, addr);
  if (d.length > 0 && d.length <= bytes.length) return { length: d.length, text: d.text };
  // Truncated (e.g. the instruction runs into a page that is not mapped): show the byte as data.
  return { length: 1, text: `db 0x${bytes[0].toString(16).padStart(2, '0')}` };
}
