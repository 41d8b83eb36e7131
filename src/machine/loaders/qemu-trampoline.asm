; A 64 KiB BIOS image for QEMU that does nothing but apply a TrapLab BootImage's entry state:
; the test puts the loader's chunks in RAM with `-device loader`, patches the register table at
; ROM offset 0xFF00, and this code enters flat protected mode exactly as Cpu.enterProtectedFlat
; does (CS = 0x10, data = 0x18, base 0, 4 GiB limits, paging off, IF = 0) and jumps to EIP.
; Used only by qemu-check.test.ts to cross-check the loaders against a reference emulator.
bits 16
org 0                               ; CS = 0xF000: offset 0 is linear 0xF0000
start:
    cli
    mov ax, cs
    mov ds, ax
    o32 lgdt [gdt_desc]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword 0x10:(0xF0000 + pm)

bits 32
pm:
    mov ax, 0x18
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    mov eax, [0xFFF00 + 4]
    mov ebx, [0xFFF00 + 8]
    mov ecx, [0xFFF00 + 12]
    mov edx, [0xFFF00 + 16]
    mov esi, [0xFFF00 + 20]
    mov edi, [0xFFF00 + 24]
    mov ebp, [0xFFF00 + 28]
    mov esp, [0xFFF00 + 32]
    push dword 2                    ; EFLAGS = 2 (IF = 0)
    popfd
    jmp [0xFFF00]

align 8
gdt:
    dq 0
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x10: code, base 0, limit 4 GiB, 32-bit
    dq 0x00CF92000000FFFF           ; 0x18: data, base 0, limit 4 GiB
gdt_desc:
    dw gdt_desc - gdt - 1
    dd 0xF0000 + gdt

times 0xFF00 - ($ - $$) db 0
regs:                               ; eip eax ebx ecx edx esi edi ebp esp (patched by the test)
    times 9 dd 0
times 0xFFF0 - ($ - $$) db 0
bits 16
reset:
    jmp 0xF000:start
times 0x10000 - ($ - $$) db 0
