; Real mode at 0000:7C00: A20 wrap-around through port 0x92 and the keyboard controller.
; Reports three bytes on the debug console: [0:0] with A20 on, FFFF:0010 with A20 off (wraps to
; 0:0), FFFF:0010 with A20 on again.
bits 16
org 0x7c00
    cli
    xor ax, ax
    mov ds, ax
    mov ax, 0xffff
    mov es, ax
    mov byte [0x0000], 0x11
    mov byte [es:0x0010], 0x22      ; A20 on at power-up: this is 0x100000
    mov al, [0x0000]
    out 0xe9, al
    in al, 0x92                     ; fast A20 off
    and al, 0xfd
    out 0x92, al
    mov al, [es:0x0010]
    out 0xe9, al
    mov al, 0xd1                    ; keyboard controller: write output port, A20 on
    out 0x64, al
    mov al, 0xdf
    out 0x60, al
    mov al, [es:0x0010]
    out 0xe9, al
    xor al, al
    out 0xf4, al
    hlt
