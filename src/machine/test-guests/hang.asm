; HLT with interrupts disabled: nothing can ever wake the CPU.
bits 32
org 0x100000
    mov al, 'z'
    out 0xe9, al
    cli
    hlt
