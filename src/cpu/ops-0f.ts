/** Two-byte opcodes 0F xx (SDM Vol.2 Table A-3), except the system group in system.ts. */
import { LZ_LOGIC, LZ_SUB } from './base.ts';
import {
  AF,
  CF,
  CR0_EM,
  CR0_TS,
  DS,
  EAX,
  EBX,
  ECX,
  EDX,
  ES,
  FS,
  GS,
  NM,
  OF,
  PF,
  SF,
  SS,
  UD,
  ZF,
} from './constants.ts';
import type { CpuCore } from './core.ts';
import { R8 } from './core.ts';
import { fxsaveOp } from './fpu/exec.ts';
import { imulG, jumpNear } from './ops-main.ts';
import { execSystem, SYSTEM_OPS } from './system.ts';
import { vmx0f38, vmxC7, vmxReadWrite } from './vmx/instr.ts';

export function exec0F(c: CpuCore): void {
  const b = c.fetch8();
  TWO_OPS[b](c, b);
}

/** 0F xx handlers by second opcode byte (small functions: V8 inlines their helpers). */
const TWO_OPS: Array<(c: CpuCore, b: number) => void> = new Array(256).fill(execSystem);
for (let i = 0; i < 16; i++) {
  TWO_OPS[0x80 + i] = jccNear;
  TWO_OPS[0x40 + i] = cmovcc;
  TWO_OPS[0x90 + i] = setcc;
}
for (let i = 0; i < 8; i++) TWO_OPS[0xc8 + i] = bswap;
// MOV CR/DR, CLTS, LGDT… straight to their own functions: a #GP(0) at CPL > 0 unwinds a small frame.
for (const [b, f] of SYSTEM_OPS) TWO_OPS[b] = f;
TWO_OPS[0xa0] = x_a0;
TWO_OPS[0xae] = x_ae;
TWO_OPS[0xa8] = x_a8;
TWO_OPS[0xa1] = x_a1;
TWO_OPS[0xa9] = x_a1;
TWO_OPS[0xa3] = x_a3;
TWO_OPS[0xab] = x_a3;
TWO_OPS[0xb3] = x_a3;
TWO_OPS[0xbb] = x_a3;
TWO_OPS[0xba] = x_ba;
TWO_OPS[0xa4] = x_a4;
TWO_OPS[0xa5] = x_a4;
TWO_OPS[0xac] = x_a4;
TWO_OPS[0xad] = x_a4;
TWO_OPS[0xaf] = x_af;
TWO_OPS[0xb0] = x_b0;
TWO_OPS[0xb1] = x_b1;
TWO_OPS[0xb2] = x_b2;
TWO_OPS[0xb4] = x_b2;
TWO_OPS[0xb5] = x_b2;
TWO_OPS[0xb6] = x_b6;
TWO_OPS[0xb7] = x_b7;
TWO_OPS[0xbe] = x_be;
TWO_OPS[0xbf] = x_bf;
TWO_OPS[0xbc] = x_bc;
TWO_OPS[0xbd] = x_bc;
TWO_OPS[0xc0] = x_c0;
TWO_OPS[0xc1] = x_c1;
TWO_OPS[0xc7] = x_c7;
TWO_OPS[0x78] = (c) => vmxReadWrite(c, false);
TWO_OPS[0x79] = (c) => vmxReadWrite(c, true);
TWO_OPS[0x38] = vmx0f38;
TWO_OPS[0x0b] = x_0b;
TWO_OPS[0xb9] = x_0b;
TWO_OPS[0xff] = x_0b;
TWO_OPS[0x1f] = x_1f;
TWO_OPS[0x18] = x_1f;
TWO_OPS[0x19] = x_1f;
TWO_OPS[0x1a] = x_1f;
TWO_OPS[0x1b] = x_1f;
TWO_OPS[0x1c] = x_1f;
TWO_OPS[0x1d] = x_1f;
TWO_OPS[0x1e] = x_1f;
TWO_OPS[0x0d] = x_1f;

function jccNear(c: CpuCore, b: number): void {
  const d = c.fetchImm();
  if (c.cond(b & 15)) jumpNear(c, c.ip + d);
}
function cmovcc(c: CpuCore, b: number): void {
  c.decodeModrm();
  const v = c.getE(); // the source is read (and may fault) even when the condition is false
  if (c.cond(b & 15)) c.setG(v);
}
function setcc(c: CpuCore, b: number): void {
  c.decodeModrm();
  c.setE8(c.cond(b & 15) ? 1 : 0);
}
function bswap(c: CpuCore, b: number): void {
  const r = c.regs;
  const v = r[b & 7];
  r[b & 7] = (v >>> 24) | ((v >> 8) & 0xff00) | ((v << 8) & 0xff0000) | (v << 24) | 0;
}

function x_a0(c: CpuCore, _b: number): void {
  c.push(c.segSel[FS]);
  return;
}

function x_a8(c: CpuCore, _b: number): void {
  c.push(c.segSel[GS]);
  return;
}

function x_a1(c: CpuCore, b: number): void {
  const s = b === 0xa1 ? FS : GS;
  const v = c.opsz32 ? c.rd32(SS, c.spAdd(0)) : c.rd16(SS, c.spAdd(0));
  c.loadSeg(s, v & 0xffff);
  c.setSp(c.spAdd(c.opsz32 ? 4 : 2));
  return;
}

function x_a3(c: CpuCore, b: number): void {
  c.decodeModrm();
  bitOp(c, (b >> 3) & 3, c.getG(), true);
  return;
}

function x_ba(c: CpuCore, _b: number): void {
  c.decodeModrm();
  const op = c.regField;
  if (op < 4) c.raise(UD);
  bitOp(c, op & 3, c.fetch8(), false);
  return;
}

function x_a4(c: CpuCore, b: number): void {
  c.decodeModrm();
  const count = (b & 1 ? c.r8[4] : c.fetch8()) & 31;
  shiftDouble(c, b >= 0xac, count);
  return;
}

function x_af(c: CpuCore, _b: number): void {
  c.decodeModrm();
  imulG(c, c.getE(), c.getG());
  return;
}

function x_b0(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.rmw(1);
  const d = c.getE8();
  c.alu(7, c.r8[0], d, 8);
  if (c.r8[0] === d) c.setE8(c.r8[R8[c.regField]]);
  else {
    c.setE8(d); // the destination is always written (locked RMW)
    c.r8[0] = d;
  }
  return;
}

function x_b1(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.rmw(c.opsz32 ? 4 : 2);
  const bits = c.osBits;
  const d = c.getE();
  const acc = c.getReg(EAX);
  c.alu(7, acc, d, bits);
  if (acc === d) c.setE(c.getG());
  else {
    c.setE(d);
    c.setReg(EAX, d);
  }
  return;
}

/**
 * 0F AE /0 FXSAVE, /1 FXRSTOR: only with the x87 (CPUID.FXSR); #UD with CR0.EM, #NM with CR0.TS,
 * #GP(0) when the 512-byte area is not 16-byte aligned (SDM Vol.2 FXSAVE). Not in table.ts: the
 * default PC has no FPU, so the decoder's "every table form executes" would not hold there.
 */
function x_ae(c: CpuCore, _b: number): void {
  c.decodeModrm();
  const f = c.fpu;
  if (f === null || c.modrm >= 0xc0 || c.regField > 1 || c.cr0 & CR0_EM) c.raise(UD);
  if (c.cr0 & CR0_TS) c.raise(NM);
  fxsaveOp(c, f, c.regField === 1);
}

function x_b2(c: CpuCore, b: number): void {
  c.decodeModrm();
  c.requireMem();
  c.checkWide(c.opsz32 ? 6 : 4);
  const off = c.opsz32 ? c.rd32(c.eaSeg, c.eaOff) : c.rd16(c.eaSeg, c.eaOff);
  const sel = c.rd16(c.eaSeg, c.wideOff(c.opsz32 ? 4 : 2));
  c.loadSeg(b === 0xb2 ? SS : b === 0xb4 ? FS : GS, sel);
  c.setG(off);
  return;
}

function x_b6(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.setG(c.getE8());
  return;
}

function x_b7(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.setG(c.getE16());
  return;
}

function x_be(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.setG((c.getE8() << 24) >> 24);
  return;
}

function x_bf(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.setG((c.getE16() << 16) >> 16);
  return;
}

function x_bc(c: CpuCore, b: number): void {
  c.decodeModrm();
  const bits = c.osBits;
  const v = c.opsz32 ? c.getE() : c.getE() & 0xffff;
  c.materialize();
  if (v === 0) {
    c.flags |= ZF;
    return;
  }
  const idx = b === 0xbc ? 31 - Math.clz32(v & -v) : 31 - Math.clz32(v);
  c.setG(idx);
  c.setLazy(LZ_LOGIC, 1, 0, 1, bits, ZF);
  return;
}

function x_c0(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.rmw(1);
  const d = c.getE8();
  const g = R8[c.regField];
  const s = c.r8[g];
  const sum = c.alu(0, d, s, 8);
  // SRC ← DEST, then DEST ← TEMP: with one register as both, the sum wins (SDM Vol.2 XADD).
  c.r8[g] = d;
  c.setE8(sum);
  return;
}

function x_c1(c: CpuCore, _b: number): void {
  c.decodeModrm();
  c.rmw(c.opsz32 ? 4 : 2);
  const d = c.getE();
  const s = c.getG();
  const sum = c.alu(0, d, s, c.osBits);
  c.setG(d); // SRC ← DEST first: DEST ← TEMP is the last write (aliased `xadd eax, eax`)
  c.setE(sum);
  return;
}

function x_c7(c: CpuCore, _b: number): void {
  const r = c.regs;
  c.decodeModrm();
  if (c.regField >= 6) {
    vmxC7(c); // VMPTRLD/VMCLEAR/VMXON/VMPTRST
    return;
  }
  if (c.regField !== 1 || c.modrm >= 0xc0) c.raise(UD);
  c.rmw(8); // CMPXCHG8B always writes (locked RMW)
  const lo = c.rd32(c.eaSeg, c.eaOff);
  const hi = c.rd32(c.eaSeg, (c.eaOff + 4) >>> 0);
  c.materialize();
  if (lo === r[EAX] && hi === r[EDX]) {
    c.wr32(c.eaSeg, (c.eaOff + 4) >>> 0, r[ECX]);
    c.wr32(c.eaSeg, c.eaOff, r[EBX]);
    c.flags |= ZF;
  } else {
    c.probeWrite(c.eaSeg, c.eaOff, 8);
    c.wr32(c.eaSeg, (c.eaOff + 4) >>> 0, hi);
    c.wr32(c.eaSeg, c.eaOff, lo);
    r[EAX] = lo;
    r[EDX] = hi;
    c.flags &= ~ZF;
  }
  return;
}

function x_0b(c: CpuCore, _b: number): void {
  c.raise(UD);
  return;
}

function x_1f(c: CpuCore, _b: number): void {
  // Hint NOPs (0F 1F /0 multi-byte NOP, prefetch hints): decode the operand, do nothing.
  c.decodeModrm();
  return;
}

/** BT/BTS/BTR/BTC (op 0..3). Register bit offsets address memory as a bit string (SDM BT). */
function bitOp(c: CpuCore, op: number, off: number, regOffset: boolean): void {
  const bits = c.osBits;
  let bit: number;
  if (c.modrm >= 0xc0 || !regOffset) {
    bit = off & (bits - 1);
  } else {
    // Signed bit offset from the G register: the addressed unit moves (aligned to operand size).
    const so = bits === 32 ? off | 0 : (off << 16) >> 16;
    const unit = Math.floor(so / bits);
    const delta = unit * (bits >> 3);
    c.eaOff = c.adsz32 ? (c.eaOff + delta) >>> 0 : (c.eaOff + delta) & 0xffff;
    bit = so - unit * bits;
  }
  if (op !== 0) c.rmw(c.opsz32 ? 4 : 2);
  const v = c.getE();
  const cf = (v >>> bit) & 1;
  c.setCF(cf);
  if (op === 0) return;
  const m = 1 << bit;
  const nv = op === 1 ? v | m : op === 2 ? v & ~m : v ^ m;
  c.setE(nv);
}

function shiftDouble(c: CpuCore, right: boolean, count: number): void {
  const bits = c.osBits;
  if (count !== 0) c.rmw(bits >> 3);
  const dst = c.getE();
  const src = c.getG();
  if (count === 0) return;
  let res: number;
  let cf: number;
  if (bits === 32) {
    const d = dst >>> 0;
    const s = src >>> 0;
    if (right) {
      res = (d >>> count) | (s << (32 - count));
      cf = (d >>> (count - 1)) & 1;
    } else {
      res = (d << count) | (s >>> (32 - count));
      cf = (d >>> (32 - count)) & 1;
    }
    res |= 0;
  } else {
    // 16-bit: counts above 16 are undefined; continue the dst:src:dst pattern (P6 behaviour).
    const d = dst & 0xffff;
    const s = src & 0xffff;
    if (right) {
      if (count <= 16) {
        res = (d >>> count) | (s << (16 - count));
        cf = (d >>> (count - 1)) & 1;
      } else {
        res = (s >>> (count - 16)) | (d << (32 - count));
        cf = (s >>> (count - 17)) & 1;
      }
    } else if (count <= 16) {
      res = (d << count) | (s >>> (16 - count));
      cf = (d >>> (16 - count)) & 1;
    } else {
      res = (s << (count - 16)) | (d >>> (32 - count));
      cf = (s >>> (32 - count)) & 1;
    }
    res &= 0xffff;
  }
  c.setE(res);
  const msb = bits - 1;
  const of = (((res ^ dst) >>> msb) & 1) !== 0;
  c.setLazy(LZ_LOGIC, res, 0, res, bits, ZF | SF | PF);
  c.flags = (c.flags & ~(CF | OF | AF)) | cf | (of ? OF : 0);
}

export { DS, ES, LZ_SUB };
