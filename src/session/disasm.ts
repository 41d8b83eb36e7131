/**
 * Disassembly for the debugger views. The CPU's decoder table feeds its disassembler; until that
 * lands in src/cpu/, unknown bytes are shown as data, one byte per line, never a guess.
 */
import * as cpu from '../cpu/index.ts';

type CpuDisassembler = (
  bytes: Uint8Array,
  addr: number,
  code32: boolean,
) => { length: number; text: string } | null | undefined;

const fromCpu = (cpu as unknown as { disassemble?: CpuDisassembler }).disassemble;

export function disassembleOne(
  bytes: Uint8Array,
  addr: number,
  code32: boolean,
): { length: number; text: string } {
  if (bytes.length === 0) return { length: 0, text: '(no bytes)' };
  if (typeof fromCpu === 'function') {
    const d = fromCpu(bytes, addr, code32);
    if (d && d.length > 0) return d;
  }
  return { length: 1, text: `db 0x${bytes[0].toString(16).padStart(2, '0')}` };
}
