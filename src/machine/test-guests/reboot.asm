; Real mode at 0000:7C00: counts boots in CMOS byte 0x50 (which survives a reset), reports the
; count on the debug console, resets through the keyboard controller until the third boot, then
; exits with the count.
bits 16
org 0x7c00
    cli
    mov al, 0x50
    out 0x70, al
    in al, 0x71
    inc al
    mov bl, al
    mov al, 0x50
    out 0x70, al
    mov al, bl
    out 0x71, al
    mov al, bl
    out 0xe9, al
    cmp bl, 3
    jae .done
    mov al, 0xfe                    ; pulse the reset line
    out 0x64, al
.spin:
    jmp .spin
.done:
    mov al, bl
    out 0xf4, al
    hlt
