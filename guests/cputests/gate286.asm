; gate286 — an 80286 call gate (descriptor type 4) whose reserved word (bytes 6-7) is nonzero.
; In a 16-bit gate the offset is 16 bits: bytes 6-7 are not part of it (SDM Vol. 3A §5.8.3 and
; Figure 5-8 show the 32-bit offset only for 32-bit gates; the 80286 defines the word as reserved).
; A CALL through it pushes 16-bit CS and IP (§5.8.5). Separate from `gates` because QEMU 7.2 takes
; the reserved word as offset bits 31:16 and runs away (the guest then never reports).
%include "lib.inc"

SEL_C286T   equ 0x40            ; 32-bit code segment whose base is g286_target
SEL_G286    equ 0x48            ; 80286 call gate (type 4) with a nonzero reserved word

section .rodata
guest_banner: db "cputest gate286", 13, 10, 0

section .text
main:
    ; An 80286 call gate (type 4): 16-bit offset -- the gate's bytes 6-7 are reserved
    ; and ignored (§5.8.3, Figure 5-8: the 32-bit offset exists only in 32-bit gates), 16-bit
    ; CS:IP pushed (§5.8.5 "16-bit call gates ... 16-bit values are pushed").
    GDT_DESC SEL_C286T, g286_target, 0xFFFFF, ACC_CODE0, FLG_32G
    GDT_GATE SEL_G286, 0, SEL_C286T, 0x84, 0
    mov word [gdt + SEL_G286 + 6], 0xFFFF
    mov dword [g286_eip], 0xFFFFFFFF
    mov ebp, esp
    TRY .t21
    call SEL_G286:0
.t21_ret:
.t21:
    ENDTRY
    mov esp, ebp
    CHECK "callgate-286: reached the target at offset 0 (reserved word ignored)", 5, [g286_eip]
    CHECK "callgate-286: 4 bytes pushed (16-bit IP and CS)", 4, [g286_pushed]
    movzx eax, word [g286_frame + 2]
    CHECK "callgate-286: pushed CS (16-bit)", SEL_KCODE, eax
    movzx eax, word [g286_frame]
    mov ebx, .t21_ret
    and ebx, 0xFFFF
    CHECK "callgate-286: pushed IP = low 16 bits of the return EIP", ebx, eax
    jmp finish

; 80286-gate target: runs with CS.base = g286_target, so EIP is small; reports and far-jumps back.
g286_target:
    call .here                      ; 5 bytes: pushes EIP = 5 relative to CS.base
.here:
    pop dword [g286_eip]
    mov [g286_esp], esp
    mov eax, [esp]
    mov [g286_frame], eax
    mov eax, ebp
    sub eax, esp
    mov [g286_pushed], eax
    jmp SEL_KCODE:g286_back
g286_back:
    mov esp, ebp
    jmp main.t21

section .bss
g286_eip:       resd 1
g286_esp:       resd 1
g286_frame:     resd 1
g286_pushed:    resd 1
