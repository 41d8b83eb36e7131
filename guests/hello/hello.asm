; hello — the smallest TrapLab guest: a multiboot v1 kernel that greets on COM1 and exits.
;
; Boot: any multiboot v1 loader (TrapLab, QEMU -kernel, GRUB) enters `start` in 32-bit protected
; mode with flat segments, paging off, EAX = 0x2BADB002 and EBX = the multiboot info pointer
; (Multiboot Specification 0.6.96, section 3.2 "Machine state").
; Output: polls the 16550 Line Status Register (0x3FD) bit 5 (THR empty) before each byte.
; Exit: writes 0 to the isa-debug-exit port 0xF4; QEMU (and TrapLab) exit with (0 << 1) | 1 = 1.

bits 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00000003          ; bit 0: page-align modules, bit 1: provide memory info
COM1        equ 0x3F8
DEBUG_EXIT  equ 0xF4

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .text
global start
start:
    mov esp, stack_top
    cmp eax, 0x2BADB002             ; report a wrong loader instead of misbehaving silently
    je .loaded_by_multiboot
    mov esi, msg_bad_loader
    call puts
    mov al, 2
    jmp exit
.loaded_by_multiboot:
    mov esi, msg_hello
    call puts
    xor eax, eax
exit:
    mov dx, DEBUG_EXIT
    out dx, al
.hang:                               ; only reached without a debug-exit device
    cli
    hlt
    jmp .hang

; puts: write the NUL-terminated string at ESI to COM1.
puts:
    mov dx, COM1 + 5                 ; LSR
.wait:
    in al, dx
    test al, 0x20                    ; THRE
    jz .wait
    lodsb
    test al, al
    jz .done
    mov dx, COM1
    out dx, al
    jmp puts
.done:
    ret

section .rodata
msg_hello:      db "Hello from TrapLab! This guest runs in 32-bit protected mode.", 13, 10, 0
msg_bad_loader: db "hello: not started by a multiboot loader", 13, 10, 0

section .bss
align 16
    resb 4096
stack_top:
