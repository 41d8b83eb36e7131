; A 64 KiB BIOS image: the CPU starts at the reset vector FFFFFFF0 (top of the ROM at 4 GiB), jumps
; to F000:start (the alias below 1 MiB), prints on the debug console, posts a code and exits.
bits 16
org 0
start:
    cli
    mov ax, cs
    mov ds, ax
    mov si, msg
.next:
    lodsb
    test al, al
    jz .done
    out 0xe9, al
    jmp .next
.done:
    mov al, 0x55                    ; POST code
    out 0x80, al
    mov al, 0x05
    out 0xf4, al
    hlt
msg: db "BIOS at reset vector", 0
    times 0xfff0 - ($ - $$) db 0xff
reset:
    jmp 0xf000:start
    times 0x10000 - ($ - $$) db 0xff
