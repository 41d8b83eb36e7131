/**
 * A guest with a ring-3 part: the kernel IRETs to user mode (no trap: CS RPL 3 ≥ CPL 1), user code
 * makes system calls through a DPL-3 interrupt gate (INT n is reflected through the guest IDT with
 * the stack switch to SS0:ESP0 of the guest's TSS), and the handler's IRET back to ring 3 again
 * runs without a trap. The hardware ignores the IF bit of each of those IRETs (CPL 1 > IOPL 0), but
 * the image asks for IF=1 and the VMM runs guest user mode with interrupts on anyway, so nothing
 * is lost and the log shows no silent event; PUSH CS at ring 3 reads RPL 3, as it would natively.
 */
import { describe, expect, it } from 'vitest';
import { SilentKind } from '../../cpu/index.ts';
import { TrapAction, TrapKind, TrapOp } from '../vmm/trap-log.ts';
import { nasmBoot, runNative, runTe } from './test-guests.ts';

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
    mov dword [0x80004], 0x90000      ; TSS.ESP0
    mov dword [0x80008], 0x10         ; TSS.SS0
    mov word [0x80066], 0x68          ; no I/O bitmap
    mov ax, 0x28
    ltr ax
    mov eax, h80
    mov edi, 0x81000 + 0x80 * 8
    call setgate
    mov eax, h81
    mov edi, 0x81000 + 0x81 * 8
    call setgate
    lidt [idtr]
    push dword 0x23                   ; user SS
    push dword 0x7ff00                ; user ESP
    push dword 0x202                  ; IF = 1
    push dword 0x1b                   ; user CS
    push dword user
    iretd
setgate:                              ; DPL-3 32-bit interrupt gate to 0x08:eax
    mov [edi], ax
    mov word [edi + 2], 0x08
    mov word [edi + 4], 0xEE00
    shr eax, 16
    mov [edi + 6], ax
    ret
user:
    mov eax, 41
    int 0x80
    int 0x80
    mov ebx, eax                      ; 43
    push cs
    pop ecx
    and ecx, 3                        ; 3: ring 3, natively and virtually
    add ebx, ecx
    mov edx, esp
    int 0x81
    jmp $
h80:
    inc eax
    iretd
h81:
    cmp dword [esp + 12], 0x7ff00     ; the frame holds the user ESP…
    jne bad
    cmp dword [esp + 16], 0x23        ; …and the user SS
    jne bad
    cmp esp, 0x90000 - 20             ; on the TSS.ESP0 stack
    jne bad
    mov eax, ebx
    out 0xf4, al
    hlt
bad:
    mov al, 1
    out 0xf4, al
    hlt
gdtr:
    dw 0x2f
    dd gdt
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
    dq 0x00CFFA000000FFFF
    dq 0x00CFF2000000FFFF
    dw 0x67, 0x0000                   ; TSS at 0x80000
    db 0x08, 0x89, 0x00, 0x00
idtr:
    dw 0x82 * 8 - 1
    dd 0x81000
`;

describe('guest user mode under trap-and-emulate', () => {
  it('reflects system calls from ring 3 with the TSS stack switch and matches native', () => {
    const boot = nasmBoot('usermode', SOURCE);
    const nat = runNative(boot, 4);
    expect(nat.state).toBe('exited');
    expect(nat.exitCode).toBe((46 << 1) | 1);
    const te = runTe(nasmBoot('usermode', SOURCE), { memMiB: 4 });
    expect(te.result.state).toBe('exited');
    expect(te.result.exitCode).toBe(nat.exitCode);
    const t = te.runner.traps;
    const recs = Array.from({ length: t.count }, (_, i) => t.get(i));
    const sys = recs.filter((r) => r.kind === TrapKind.GuestException && r.reason === 0x80);
    expect(sys).toHaveLength(2);
    for (const r of sys) {
      expect(r.cpl).toBe(3);
      expect(r.cs).toBe(0x1b);
      expect(r.action).toBe(TrapAction.Reflected);
      expect(r.bytes).toEqual([0xcd, 0x80]);
    }
    // Returns to ring 3 never trap: no emulated IRET at all…
    expect(
      recs.filter((r) => r.reason === TrapOp.IRET && r.kind === TrapKind.PrivilegedInstruction),
    ).toHaveLength(0);
    // …and none of them (nor PUSH CS at ring 3) diverged from the bare machine: no silent event.
    expect(recs.filter((r) => r.kind === TrapKind.SilentEvent)).toHaveLength(0);
    expect(te.runner.vmInfo()[0].silent).toBe(0);
  });
});

describe('guest reset', () => {
  const RESET = `
    mov esp, 0x90000
    inc dword [0x80000]               ; RAM survives a reset (only the image is placed again)
    cmp dword [0x80000], 3
    je done
    mov al, 0xfe
    out 0x64, al                      ; pulse the reset line through the i8042
    hlt
done:
    mov al, [0x80000]
    out 0xf4, al
    hlt
`;
  it('reboots only the VM that pulsed its reset line, as the native machine does', () => {
    const nat = runNative(nasmBoot('reset', RESET), 4);
    expect(nat.exitCode).toBe((3 << 1) | 1);
    const te = runTe(nasmBoot('reset', RESET), { memMiB: 4, vms: 2, noReboot: false });
    expect(te.result).toMatchObject({ state: 'exited', exitCode: nat.exitCode });
  });

  it('stops the VM instead with noReboot', () => {
    const te = runTe(nasmBoot('reset', RESET), { memMiB: 4 });
    expect(te.result.state).toBe('reset');
    expect(te.result.reason).toMatch(/keyboard controller reset/);
  });
});

describe('more privileged instructions', () => {
  // Each check adds a bit to EBX; the exit code is EBX, so native and trap-and-emulate must agree.
  const GRAB_BAG = `
    mov esp, 0x90000
    xor ebx, ebx
    mov esi, msg                      ; rep outsb: the whole message in one trap
    mov ecx, msg_len
    mov dx, 0x3f8
    cld
    rep outsb
    cmp esi, msg + msg_len
    jne .1
    or ebx, 1
.1: mov edi, 0x80000                  ; rep insb from the UART's LSR (THR empty: 0x60)
    mov ecx, 4
    mov dx, 0x3fd
    rep insb
    cmp dword [0x80000], 0x60606060
    jne .2
    or ebx, 2
.2: mov ecx, 0x175                    ; WRMSR/RDMSR SYSENTER_ESP
    mov eax, 0x12345678
    xor edx, edx
    wrmsr
    xor eax, eax
    rdmsr
    cmp eax, 0x12345678
    jne .3
    or ebx, 4
.3: mov eax, cr0                      ; LMSW sets TS, CLTS clears it
    lmsw ax
    mov eax, cr0
    or eax, 8
    mov cr0, eax
    clts
    mov eax, cr0
    test eax, 8
    jnz .4
    or ebx, 8
.4: mov eax, cr4                      ; CR4.TSD: RDTSC now privileged (still fine at ring 0)
    or eax, 4
    mov cr4, eax
    rdtsc
    test eax, eax
    jz .5
    or ebx, 16
.5: invd
    mov eax, ebx
    out 0xf4, al
    hlt
msg: db "rep outsb works", 10
msg_len equ $ - msg
`;
  it('emulates REP OUTSB/INSB, WRMSR/RDMSR, LMSW/CLTS and a trapping RDTSC like native', () => {
    const nat = runNative(nasmBoot('grab', GRAB_BAG), 4);
    expect(nat.out).toBe('rep outsb works\n');
    expect(nat.exitCode).toBe((31 << 1) | 1);
    const te = runTe(nasmBoot('grab', GRAB_BAG), { memMiB: 4 });
    expect(te.outs[0]).toBe(nat.out);
    expect(te.result.exitCode).toBe(nat.exitCode);
    const t = te.runner.traps;
    const recs = Array.from({ length: t.count }, (_, i) => t.get(i));
    const outs = recs.find((r) => r.reason === TrapOp.OUTS);
    expect(outs?.details).toEqual({
      type: 'io',
      port: 0x3f8,
      size: 1,
      direction: 'out',
      value: 10,
      count: 16,
      string: true,
    });
    const ins = recs.find((r) => r.reason === TrapOp.INS);
    expect(ins?.details).toMatchObject({ port: 0x3fd, direction: 'in', count: 4, string: true });
    for (const op of [TrapOp.WRMSR, TrapOp.RDMSR, TrapOp.LMSW, TrapOp.CLTS, TrapOp.RDTSC, TrapOp.INVD])
      expect(recs.some((r) => r.reason === op)).toBe(true);
  });
});

describe('address-space compression', () => {
  // Paging on, a page at 0xFFC00000 (the VMM's slot): the guest's store there must land in its page.
  const TOP = `
    mov esp, 0x90000
    lgdt [gdtr]
    mov ecx, 0
.fill:
    mov eax, ecx
    shl eax, 12
    or eax, 3
    mov [0x81000 + ecx * 4], eax      ; identity map of 0–4 MiB
    inc ecx
    cmp ecx, 1024
    jne .fill
    mov dword [0x82000], 0x200003     ; 0xFFC00000 → frame 0x200000
    mov dword [0x80000], 0x81003
    mov dword [0x80000 + 1023 * 4], 0x82003
    mov eax, 0x80000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov dword [0xffc00000], 0x600df00d
    mov ax, 0x10                      ; the shadow GDT still serves segment loads
    mov ds, ax
    mov eax, [0x200000]
    cmp eax, 0x600df00d
    jne .bad
    mov al, 5
    out 0xf4, al
.bad:
    mov al, 1
    out 0xf4, al
    hlt
gdtr:
    dw 0x17
    dd gdt
gdt:
    dq 0
    dq 0x00CF9A000000FFFF
    dq 0x00CF92000000FFFF
`;
  it('lends the guest the top 4 MiB it maps, one instruction at a time, and the guest never notices', () => {
    const nat = runNative(nasmBoot('top', TOP), 4);
    expect(nat.exitCode).toBe((5 << 1) | 1);
    const te = runTe(nasmBoot('top', TOP), { memMiB: 4 });
    expect(te.result).toMatchObject({ state: 'exited', exitCode: nat.exitCode });
    const vm = te.runner.vmm.vms[0];
    // Segment truncation (../vmm/slot-guard.ts): the VMM stays at the top; the guest's accesses
    // there ran with its own limits and mapping, and the slot holds the shadow GDT again.
    expect(vm.vmmRelocations).toBe(0);
    expect(vm.shadow.vmmPde).toBe(1023);
    expect(vm.shadow.lends).toBeGreaterThan(0);
    expect(vm.shadow.lookup(0xffc00000)).toBe(vm.shadow.gdtFrames[0]);
  });
});

describe('silent IF changes the VMM cannot honour', () => {
  it('logs a kernel IRET to ring 3 that asked for interrupts off (user mode runs with them on)', () => {
    const src = SOURCE.replace('push dword 0x202                  ; IF = 1', 'push dword 0x002 ; IF = 0');
    expect(src).not.toBe(SOURCE);
    const nat = runNative(nasmBoot('usermode-if0', src), 4);
    const te = runTe(nasmBoot('usermode-if0', src), { memMiB: 4 });
    expect(te.result.exitCode).toBe(nat.exitCode);
    const t = te.runner.traps;
    const silent = Array.from({ length: t.count }, (_, i) => t.get(i)).filter(
      (r) => r.kind === TrapKind.SilentEvent,
    );
    // The kernel → user IRET asked for IF=0; the VMM runs user mode with interrupts on (its frames
    // for the system calls then carry IF=1, so their IRETs ask for nothing that is lost).
    expect(silent).toHaveLength(1);
    for (const r of silent) {
      expect(r.reason).toBe(TrapOp.IRET);
      expect(r.cpl).toBe(0);
      if (r.details.type !== 'other') throw new Error('details');
      expect(r.details.values[0] & 0x200).toBe(0);
      expect(r.details.values[1] & 0x200).toBe(0x200);
      expect(r.details.values[3]).toBe(1);
      expect(r.details.summary).toMatch(/believes interrupts are off, but the VMM will keep delivering them/);
    }
  });

  it('logs a POPF that turns interrupts off while the VMM keeps them on', () => {
    // sti; push 0x002; popfd (IF=0 at guest CPL 0: ignored by the CPU); out 0xf4, al
    // (The stack must be RAM: with ESP = 0 the push would wrap to 0xFFFFFFFC, where nothing is.)
    const src = 'mov esp, 0x90000\nsti\npush dword 0x002\npopfd\nmov al, 0\nout 0xf4, al\nhlt\n';
    const te = runTe(nasmBoot('popf-off', src), { memMiB: 4 });
    expect(te.result.state).toBe('exited');
    const t = te.runner.traps;
    const silent = Array.from({ length: t.count }, (_, i) => t.get(i)).filter(
      (r) => r.kind === TrapKind.SilentEvent,
    );
    expect(silent).toHaveLength(1);
    expect(silent[0].reason).toBe(TrapOp.POPF);
    expect(silent[0].eip).toBe(0x100008); // mov esp (5 bytes), sti (1), push 2 (6A 02)
    if (silent[0].details.type !== 'other') throw new Error('details');
    const [attempted, kept, kind, virtualIf] = silent[0].details.values;
    expect([attempted & 0x200, kept & 0x200, kind, virtualIf]).toEqual([
      0,
      0x200,
      SilentKind.PopfIfDropped,
      1,
    ]);
  });
});
