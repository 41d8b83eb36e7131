; Determinism guest: PIT channel 0 at 100 Hz (mode 2); spins until the first tick, then HLTs
; between ticks with some work after each wake-up. Each IRQ 0 prints the latched
; counter; at the end the TSC. Exits with 0x2A.
%include "prelude32.inc"

main:
    SET_GATE 0x20, irq0
    mov al, 0xfe                    ; unmask IRQ 0 only
    out 0x21, al
    mov al, 0x34                    ; channel 0, lobyte/hibyte, mode 2
    out 0x43, al
    mov ax, 11932                   ; 1193182 / 100
    out 0x40, al
    mov al, ah
    out 0x40, al
    sti
.spin:                              ; the first tick arrives while busy (no HLT boundary)
    inc dword [sum]
    cmp dword [ticks], 1
    jb .spin
.idle:
    hlt
    mov ecx, [ticks]                ; busy work proportional to the tick count
    imul ecx, ecx, 97
.work:
    add dword [sum], ecx
    loop .work
    cmp dword [ticks], 20
    jb .idle
    cli
    mov al, '|'
    call putc
    rdtsc
    call puthex32
    mov al, 10
    call putc
    mov al, 0x2a
    out 0xf4, al
    hlt

irq0:
    push eax
    inc dword [ticks]
    xor al, al                      ; latch channel 0
    out 0x43, al
    in al, 0x40
    push eax
    in al, 0x40
    call puthex8
    pop eax
    call puthex8
    mov al, ' '
    call putc
    mov al, 0x20                    ; non-specific EOI
    out 0x20, al
    pop eax
    iret

align 4
ticks: dd 0
sum: dd 0
idt: times 48 * 8 db 0
