/**
 * The whole machine under a real OS: Linux (guests/linux) boots on the Pc with the 32-bit boot
 * protocol, probes the PIT, TSC, CMOS, i8042 and the 16550A, reaches the BusyBox prompt, and
 * answers a command typed into the UART's input queue (IRQ 4-driven receive).
 */
import { describe, expect, it } from 'vitest';
import { Pc } from './pc.ts';
import { loadTestLinux } from './test-linux.ts';

describe('Linux on the Pc', () => {
  it('boots to the shell prompt and runs a command typed on COM1', () => {
    const pc = new Pc({ memMiB: 64, noReboot: true });
    loadTestLinux(pc);
    let out = '';
    pc.serialOut[0].listener = (b) => {
      out += String.fromCharCode(b);
    };
    const runUntil = (text: string, maxInstructions: number) => {
      while (!out.includes(text) && pc.instructions < maxInstructions) {
        const r = pc.runSlice(1_000_000);
        if (r.state !== 'running') throw new Error(`machine stopped: ${r.state} ${r.reason}\n${out}`);
      }
      return out.includes(text);
    };
    expect(runUntil('guest# ', 150_000_000)).toBe(true);
    // Linux calibrates the TSC against the PIT; both run on virtual time, so it finds the nominal
    // 100 MHz up to the resolution of its quick PIT calibration (about ±0.01 %).
    expect(out).toMatch(/tsc: Detected (99\.9[89]\d|100\.0[01]\d) MHz/);
    expect(out).toContain('ttyS0 at I/O 0x3f8 (irq = 4, base_baud = 115200) is a 16550A');
    const start = out.length;
    pc.sendSerial(0, 'echo $((6*7)) answers\n');
    expect(runUntil('42 answers', pc.instructions + 50_000_000)).toBe(true);
    expect(out.slice(start)).toMatch(/42 answers\r?\n/);
  });
});
