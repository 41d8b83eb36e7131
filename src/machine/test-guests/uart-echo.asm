; Idle/input guest: sleeps in HLT with no timer; the UART receive interrupt (IRQ 4) wakes it.
; Echoes each received byte in upper case; 'q' exits with 0x11.
%include "prelude32.inc"

main:
    SET_GATE 0x24, irq4
    mov al, 0xef                    ; unmask IRQ 4
    out 0x21, al
    mov dx, 0x3f9                   ; IER: received data available
    mov al, 0x01
    out dx, al
    mov dx, 0x3fc                   ; MCR: DTR, RTS, OUT2 (the PC's IRQ gate)
    mov al, 0x0b
    out dx, al
    sti
.idle:
    hlt
    jmp .idle

irq4:
    push eax
    push edx
.more:
    mov dx, 0x3fd
    in al, dx
    test al, 1
    jz .done
    mov dx, 0x3f8
    in al, dx
    cmp al, 'q'
    je .quit
    and al, 0xdf
    call putc
    jmp .more
.done:
    mov al, 0x20
    out 0x20, al
    pop edx
    pop eax
    iret
.quit:
    mov al, 0x11
    out 0xf4, al
    cli
    hlt

align 4
idt: times 48 * 8 db 0
