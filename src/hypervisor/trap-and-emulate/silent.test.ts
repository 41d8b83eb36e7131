/**
 * Silent events under trap-and-emulate: a ring-0 guest executes Robin & Irvine's sensitive-but-
 * unprivileged instructions and stores what it read. Run natively and under the VMM, the stored
 * values differ exactly where the log shows a silent event, and each record holds both sides:
 * values[0] = what the guest got under the VMM, values[1] = what it read on the bare machine.
 */
import { describe, expect, it } from 'vitest';
import { SilentKind } from '../../cpu/index.ts';
import { Pc } from '../../machine/pc.ts';
import { TrapAction, TrapKind, TrapOp } from '../vmm/trap-log.ts';
import { nasmBoot, runTe } from './test-guests.ts';

const OUT = 0x80000;

const SOURCE = `
start:
    mov esp, 0x90000
    lgdt [gdtr]
    jmp 0x08:pm
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov word [tss + 0x66], 0x68
    mov ax, 0x28
    ltr ax
    lidt [idtr]
    cld
    mov edi, ${OUT}
    push cs                      ; [0] CS as PUSH CS shows it
    pop eax
    stosd
    mov eax, ss                  ; [1] SS as MOV r32, SS shows it
    stosd
    sgdt [edi]                   ; [2] limit, [2]+2 base
    add edi, 8
    sidt [edi]                   ; [4]
    add edi, 8
    xor eax, eax
    str ax                       ; [6]
    stosd
    xor eax, eax
    sldt ax                      ; [7] (the guest's LDTR: 0, which the VMM keeps: no event)
    stosd
    smsw eax                     ; [8] the whole CR0 (register form, 32-bit)
    stosd
    mov ecx, 0x10
    xor eax, eax
    lar eax, ecx                 ; [9] access rights of the ring-0 data segment
    stosd
    mov ecx, 0x28
    mov eax, 0x12345678
    lsl eax, ecx                 ; [10] limit of the TSS (ZF=1 natively)
    setz bl
    stosd
    movzx eax, bl                ; [11] ZF of that LSL
    stosd
    mov ax, 0x10
    verw ax                      ; ZF=1 natively and under the VMM: no event
    pushfd                       ; [12] EFLAGS with IF=0 (the guest never enabled interrupts)
    pop eax
    stosd
    sti
    pushfd                       ; the interrupt-save idiom: IF=1 saved…
    cli
    popfd                        ; …and restored: the CPU ignores it at ring 1
    mov al, 0
    out 0xf4, al
    hlt
gdtr:
    dw 0x2f
    dd gdt
idtr:
    dw 0x7ff
    dd 0x81000
align 8
gdt:
    dq 0
    dq 0x00CF9B000000FFFF        ; accessed bit preset: nothing writes the GDT during the run
    dq 0x00CF93000000FFFF
    dq 0x00CFFB000000FFFF
    dq 0x00CFF3000000FFFF
    dw 0x67
    dw tss - 0x100000
    db 0x10, 0x89, 0x00, 0x00
align 16
tss:
    times 0x68 db 0
`;

function nativeWords(n: number): Uint32Array {
  const boot = nasmBoot('silent', SOURCE);
  const pc = new Pc({ memMiB: 4, noReboot: true });
  pc.load(boot);
  for (let i = 0; i < 10; i++) {
    const r = pc.runSlice(100_000);
    if (r.state !== 'running') break;
  }
  const ram = pc.memory.ram;
  return new Uint32Array(ram.slice(OUT, OUT + n * 4).buffer);
}

describe('silent events: what a deprivileged guest reads without trapping', () => {
  it('logs each sensitive read with the value the guest got and the one it gets natively', () => {
    const n = 13;
    const nat = nativeWords(n);
    const te = runTe(nasmBoot('silent', SOURCE), { memMiB: 4 });
    expect(te.result.state).toBe('exited');
    const vmm = new Uint32Array(te.runner.readPhysical(OUT, n * 4).slice().buffer);
    const t = te.runner.traps;
    const recs = Array.from({ length: t.count }, (_, i) => t.get(i)).filter(
      (r) => r.kind === TrapKind.SilentEvent,
    );
    expect(recs.map((r) => r.reason)).toEqual([
      TrapOp.PUSH_SEG,
      TrapOp.MOV_FROM_SEG,
      TrapOp.SGDT,
      TrapOp.SIDT,
      TrapOp.STR,
      TrapOp.SMSW,
      TrapOp.LAR,
      TrapOp.LSL,
      TrapOp.PUSHF,
      TrapOp.POPF,
    ]);
    for (const r of recs) {
      expect(r.invisible).toBe(true);
      expect(r.action).toBe(TrapAction.None);
      expect(r.cost).toBe(0);
      expect(r.cpl).toBe(0);
      if (r.details.type !== 'other') throw new Error('details');
      expect(r.details.summary?.length).toBeGreaterThan(40);
    }
    const v = (i: number) => (recs[i].details.type === 'other' ? recs[i].details.values : [0, 0, 0, 0]);
    // PUSH CS and MOV from SS: RPL 1 under the VMM, RPL 0 natively.
    expect([v(0)[0], v(0)[1]]).toEqual([vmm[0] & 0xffff, nat[0] & 0xffff]);
    expect(vmm[0] & 3).toBe(1);
    expect(nat[0] & 3).toBe(0);
    expect(v(0)[2]).toBe(SilentKind.SegmentRead);
    expect([v(1)[0], v(1)[1]]).toEqual([vmm[1], nat[1]]);
    // SGDT / SIDT: the VMM's tables against the guest's own.
    const base = (w: Uint32Array, i: number) => ((w[i] >>> 16) | (w[i + 1] << 16)) >>> 0;
    expect([v(2)[0], v(2)[1]]).toEqual([base(vmm, 2), base(nat, 2)]);
    expect(v(2)[0]).not.toBe(v(2)[1]);
    expect([v(3)[0], v(3)[1]]).toEqual([base(vmm, 4), base(nat, 4)]);
    expect(v(3)[3] & 0xffff).toBe(nat[4] & 0xffff); // the native limit
    // STR: the guest loaded 0x28; the real TR is the VMM's.
    expect([v(4)[0], v(4)[1]]).toEqual([vmm[6], nat[6]]);
    expect(nat[6]).toBe(0x28);
    // SMSW: the real CR0 (paging on, for the shadow tables) against the guest's.
    expect([v(5)[0], v(5)[1]]).toEqual([vmm[8], nat[8]]);
    // LAR: DPL 1 in the ring-compressed shadow, DPL 0 natively.
    expect([v(6)[0], v(6)[1]]).toEqual([vmm[9], nat[9]]);
    expect((nat[9] >>> 13) & 3).toBe(0);
    expect((vmm[9] >>> 13) & 3).toBe(1);
    // LSL on the TSS: the shadow GDT leaves system descriptors out, so ZF=0 under the VMM.
    expect(nat[11]).toBe(1);
    expect(vmm[11]).toBe(0);
    expect(v(7)[1]).toBe(nat[10]);
    expect(v(7)[3]).toBe(((0x28 << 16) | 1) >>> 0); // selector, ZF got 0, ZF native 1
    // PUSHF: the real IF (1, the VMM's) against the guest's IF (0).
    expect([v(8)[0], v(8)[1]]).toEqual([vmm[12], nat[12]]);
    expect(vmm[12] & 0x200).toBe(0x200);
    expect(nat[12] & 0x200).toBe(0);
    // POPF: IF=1 attempted, the VMM keeps the virtual IF = 0.
    expect(v(9)[0] & 0x200).toBe(0x200);
    expect(v(9)[1] & 0x200).toBe(0);
    expect(v(9)[3]).toBe(0);
    // Everything that matched the bare machine (SLDT, VERW, the PUSHF after STI) left no record.
    expect(vmm[7]).toBe(nat[7]);
  });

  it('logs nothing for trapdemo, which avoids the instructions that do not trap', async () => {
    const { bootImage } = await import('./test-guests.ts');
    const te = runTe(bootImage('trapdemo/trapdemo.elf', 16), { memMiB: 16 });
    expect(te.result.state).toBe('exited');
    expect(te.runner.traps.countByKind(TrapKind.SilentEvent)).toBe(0);
  });
});
