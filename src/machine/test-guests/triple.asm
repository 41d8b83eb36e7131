; Triple fault: an empty IDT, then an invalid opcode (#UD → #GP → #DF → shutdown).
bits 32
org 0x100000
    lidt [idtr]
    ud2
idtr:
    dw 0
    dd 0
