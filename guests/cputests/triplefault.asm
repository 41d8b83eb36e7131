; triplefault — success is a SHUTDOWN, not a debug-exit write (SDM Vol. 3A §6.15, Interrupt 8:
; "If another exception occurs while attempting to call the double-fault handler, the processor
; enters shutdown mode").
; The guest prints "triplefault: expecting shutdown", loads an IDT with limit 0 and executes INT3:
; INT3 -> #GP(IDT) -> #GP while delivering #GP -> #DF -> #GP while delivering #DF -> shutdown.
; Detecting success: the last serial line is the marker above and the machine shuts down without
; any write to port 0xF4. QEMU with -no-reboot exits with status 0 (a 0xF4 write would give an odd
; status); TrapLab reports the shutdown/triple fault. If execution ever continues past the INT3
; the guest prints "FAIL triplefault: execution continued" and writes 1 to port 0xF4.
%include "lib.inc"

section .rodata
guest_banner: db "cputest triplefault", 13, 10, 0

section .text
main:
    PRINT "triplefault: expecting shutdown"
    mov dx, COM1 + 5                ; let the UART finish sending (LSR bit 6, TEMT)
.drain:
    in al, dx
    test al, 0x40
    jz .drain
    lidt [null_idt]
    int3
    PRINT "FAIL triplefault: execution continued"
    mov al, 1
    jmp exit_al

section .rodata
null_idt:   dw 0
            dd 0
