; straddle — multi-part memory operands (far pointers, BOUND, LGDT) and dwords at the end of a
; 64 KiB segment with 16-bit addressing (issue 17). SDM Vol. 3A §5.3: the limit check covers
; every byte of an operand; Vol. 2 LDS/LES/LFS/LGS/LSS, CALL, JMP, BOUND, LGDT: #GP(0) (#SS(0)
; through SS) "if a memory operand effective address is outside the segment limit". On the 386
; and later only the effective address is truncated to 16 bits; the operand's later parts do not
; wrap to offset 0 (the 8086/286 behaviour). Bochs 2.7 wraps the second part of a far pointer,
; BOUND pair and LGDT image at 64 KiB (README.md, "bochs deviations"); ESC operands and plain
; dwords already fault there.
%include "lib.inc"

SEL_D64K    equ 0x40            ; 16-bit data segment, limit 64 KiB, base = farbuf
SEL_S64KU   equ 0x4B            ; the same as a DPL3 stack (RPL 3) for the #SS case in ring 3

section .rodata
guest_banner: db "cputest straddle", 13, 10, 0

section .text
main:
    GDT_DESC SEL_D64K, farbuf, 0xFFFF, ACC_DATA0, 0
    GDT_DESC SEL_S64KU, farbuf, 0xFFFF, ACC_DATA0 | DPL3, 0

    ; Bait at offset 0 in case the CPU wraps: a loadable data selector (a wrapped far CALL/JMP
    ; then faults with the selector as its error code instead of 0).
    mov word [farbuf], SEL_KDATA
    mov word [farbuf + 0xFFFE], SEL_KDATA
%macro FAR_GP 3                     ; name, offset, instruction (FS = the 64 KiB segment)
    mov ax, SEL_D64K
    mov fs, ax
    mov ebx, %2
    TRY %%r
    %3
%%r:
    ENDTRY
    mov eax, [exc_vec]
    shl eax, 16
    mov ax, [exc_err]
    CHECK %1, 0x000D0000, eax
%endmacro
    FAR_GP "les ax, [fs:bx=FFFE] (16:16 straddles the limit) -> #GP(0)", 0xFFFE, {les ax, [fs:bx]}
    FAR_GP "lds ax, [fs:bx=FFFE] -> #GP(0)", 0xFFFE, {lds ax, [fs:bx]}
    FAR_GP "lss ax, [fs:bx=FFFE] -> #GP(0)", 0xFFFE, {lss ax, [fs:bx]}
    FAR_GP "lfs ax, [fs:bx=FFFE] -> #GP(0)", 0xFFFE, {lfs ax, [fs:bx]}
    FAR_GP "lgs ax, [fs:bx=FFFE] -> #GP(0)", 0xFFFE, {lgs ax, [fs:bx]}
    FAR_GP "bound ax, [fs:bx=FFFE] -> #GP(0)", 0xFFFE, {bound ax, [fs:bx]}
    FAR_GP "mov eax, [fs:bx=FFFE] (a dword) -> #GP(0)", 0xFFFE, {mov eax, [fs:bx]}
    FAR_GP "mov ax, [fs:bx=FFFF] (a word) -> #GP(0)", 0xFFFF, {mov ax, [fs:bx]}
    FAR_GP "les eax, [fs:bx=FFFC] (16:32 straddles) -> #GP(0)", 0xFFFC, {les eax, [fs:bx]}
    FAR_GP "call far [fs:bx=FFFC] (16:32) -> #GP(0)", 0xFFFC, {call far [fs:bx]}
    FAR_GP "jmp far [fs:bx=FFFC] (16:32) -> #GP(0)", 0xFFFC, {jmp far [fs:bx]}
    FAR_GP "bound eax, [fs:bx=FFFC] -> #GP(0)", 0xFFFC, {bound eax, [fs:bx]}
    mov ax, SEL_D64K
    mov fs, ax
    mov ebx, 0xFFFB
    mov word [farbuf + 0xFFFB], 0x4321
    mov word [farbuf + 0xFFFD], SEL_KDATA
    les ax, [fs:bx]                 ; the whole 16:16 pointer (FFFB-FFFE) is inside the limit
    movzx eax, ax
    CHECK "les ax, [fs:bx=FFFB] (FFFB-FFFE inside the limit) loads", 0x4321, eax
    mov ax, SEL_KDATA
    mov es, ax
    ; LGDT with the 6-byte operand straddling: the bait makes a wrapped read load this same GDT.
    mov word [farbuf + 0xFFFE], GDT_ENTRIES * 8 - 1
    mov dword [farbuf], gdt
    FAR_GP "lgdt [fs:bx=FFFE] (6 bytes) -> #GP(0)", 0xFFFE, {lgdt [fs:bx]}
    ; Through SS: #SS(0). From ring 3, so the exception switches to the ring-0 stack.
    TRY .ss_done
    RING3 .ring3_ss, 0x2
.ss_done:
    ENDTRY
    CHECK "les ax, [bp=FFFE] through a 64 KiB SS -> #SS(0)", 12, [exc_vec]
    CHECK "les ax, [bp=FFFE] through a 64 KiB SS: error code 0", 0, [exc_err]

    jmp finish

; Ring 3: SS = a 64 KiB DPL3 segment, then a far pointer through SS at BP = 0xFFFE.
.ring3_ss:
    mov ax, SEL_S64KU
    mov ss, ax
    mov bp, 0xFFFE
    les ax, [bp]
    int 0x7F

section .bss
alignb 16
farbuf:         resb 0x10000
