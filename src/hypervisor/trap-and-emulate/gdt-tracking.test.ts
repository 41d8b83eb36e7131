/**
 * Guest edits to its live GDT (issue 6: shadow descriptor tables). The VMM write-protects the pages
 * of the guest's GDT in the shadow page tables; a write faults (a hidden page fault), the VMM lets
 * it through under a single step and rebuilds the ring-compressed shadow GDT at the #DB. A segment
 * load after the edit then sees the new descriptor, as on the bare machine — with a stale shadow
 * it would silently load the old one (no fault: the old descriptor is still valid).
 */
import { describe, expect, it } from 'vitest';
import { TrapKind } from '../vmm/trap-log.ts';
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
    mov dword [0x1000], 0x11111111
    mov dword [0x2000], 0x22222222
    mov ax, 0x18
    mov fs, ax
    mov ebx, [fs:0]               ; 0x11111111 through base 0x1000
    mov byte [gdt + 0x18 + 3], 0x20   ; edit the live GDT in place: base 0x1000 -> 0x2000
    mov ax, 0x18
    mov fs, ax
    mov ecx, [fs:0]               ; 0x22222222 natively
    cmp ebx, 0x11111111
    jne bad
    cmp ecx, 0x22222222
    jne bad
    mov al, 0
    out 0xf4, al
bad:
    mov al, 1
    out 0xf4, al
    hlt
gdtr:
    dw 0x1f
    dd gdt
align 4096
gdt:                              ; at 0x101000, a page of its own
    dq 0
    dq 0x00CF9B000000FFFF
    dq 0x00CF93000000FFFF
    dq 0x00CF93001000FFFF
`;

describe('write-protected guest GDT', () => {
  it('resyncs the shadow when the guest edits a live descriptor, as the bare machine behaves', () => {
    const nat = runNative(nasmBoot('gdt-edit', SOURCE), 4);
    expect(nat.exitCode).toBe(1);
    const te = runTe(nasmBoot('gdt-edit', SOURCE), { memMiB: 4 });
    expect(te.result).toMatchObject({ state: 'exited', exitCode: 1 });
    const t = te.runner.traps;
    const recs = Array.from({ length: t.count }, (_, i) => t.get(i));
    const writes = recs.filter(
      (r) =>
        r.kind === TrapKind.HiddenPageFault &&
        r.details.type === 'fault' &&
        r.details.faultAddress === 0x10101b,
    );
    // The one write into the GDT: a hidden fault costed with the shadow resync.
    expect(writes).toHaveLength(1);
    const plain = recs.find((r) => r.kind === TrapKind.HiddenPageFault && r !== writes[0]);
    expect(writes[0].cost).toBeGreaterThan(plain?.cost ?? 0);
    // The VMM's single step is its own: no #DB reaches the guest.
    expect(recs.some((r) => r.kind === TrapKind.GuestException && r.reason === 1)).toBe(false);
  });
});

const LDT_SOURCE = `
start:
    mov esp, 0x90000
    lgdt [gdtr]
    jmp 0x08:pm
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov ax, 0x18
    lldt ax
    mov dword [0x1000], 0x11111111
    mov dword [0x2000], 0x22222222
    mov ax, 0x04                  ; LDT entry 0
    mov fs, ax
    mov ebx, [fs:0]
    mov byte [ldt + 3], 0x20      ; edit the live LDT in place: base 0x1000 -> 0x2000
    mov ax, 0x04
    mov fs, ax
    mov ecx, [fs:0]
    cmp ebx, 0x11111111
    jne bad
    cmp ecx, 0x22222222
    jne bad
    mov al, 0
    out 0xf4, al
bad:
    mov al, 1
    out 0xf4, al
    hlt
gdtr:
    dw 0x1f
    dd gdt
align 8
gdt:
    dq 0
    dq 0x00CF9B000000FFFF
    dq 0x00CF93000000FFFF
    dw 0x0f                       ; LDT descriptor: limit 15, base ldt
    dw ldt - 0x100000
    db 0x10, 0x82, 0x00, 0x00
align 4096
ldt:                              ; at 0x101000, a page of its own
    dq 0x00CF93001000FFFF
    dq 0
`;

describe('write-protected guest LDT', () => {
  it('resyncs the shadow LDT when the guest edits a live descriptor', () => {
    const nat = runNative(nasmBoot('ldt-edit', LDT_SOURCE), 4);
    expect(nat.exitCode).toBe(1);
    const te = runTe(nasmBoot('ldt-edit', LDT_SOURCE), { memMiB: 4 });
    expect(te.result).toMatchObject({ state: 'exited', exitCode: 1 });
    const t = te.runner.traps;
    const recs = Array.from({ length: t.count }, (_, i) => t.get(i));
    const writes = recs.filter(
      (r) =>
        r.kind === TrapKind.HiddenPageFault &&
        r.details.type === 'fault' &&
        r.details.faultAddress === 0x101003,
    );
    expect(writes).toHaveLength(1);
  });
});
