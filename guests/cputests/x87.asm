; x87 — the floating-point unit (issue 17): FNINIT state, the stack and tags, loads and stores in
; every format (m32/m64/m80 real, m16/m32/m64 integer, packed BCD) with exact 80-bit results,
; precision and rounding control, comparisons (FCOM/FUCOM/FCOMI/FTST/FXAM), exceptions (masked
; responses, stack faults, unmasked #Z reported as #MF with CR0.NE and as IRQ 13 without),
; FSTENV/FLDENV/FSAVE/FRSTOR, FXSAVE/FXRSTOR, and the transcendental instructions (checked
; within 2^-52).
; Needs a machine with an x87 (CPUID.1:EDX.FPU); SDM Vol. 1 ch. 8, Vol. 2 F* pages.
; bochs-cpu: p3_katmai
; qemu-cpu: pentium3
%include "lib.inc"

CW_DEF      equ 0x037F          ; FNINIT control word: all masked, 64-bit precision, nearest
PIC_VEC     equ 0x20            ; master 8259 remapped here (IRQ 13 -> vector 0x2D)

section .rodata
guest_banner: db "cputest x87", 13, 10, 0
align 8
c_three:    dd 3.0
c_ten:      dq 10.0
c_eleven:   dq 11.0
c_half:     dq 0.5
c_two5:     dq 2.5
c_m2_5:     dq -2.5
c_1e20:     dq 1.0e20
c_1p5:      dq 1.5
c_eight:    dq 8.0
c_eps:      dq 0x3CB0000000000000           ; 2^-52
i64_val:    dq 0x123456789ABCDEF0
bcd_val:    db 0x89, 0x67, 0x45, 0x23, 0x01, 0x89, 0x67, 0x45, 0x23, 0x80   ; -234567890123456789
; Expected doubles for the transcendental checks (nearest doubles of the exact values).
d_sin5:     dq 0x3FDEAEE8744B05F0
d_cos5:     dq 0x3FEC1528065B7D50
d_tan5:     dq 0x3FE17B4F5BF3474A
d_pi4:      dq 0x3FE921FB54442D18
d_sqrt2m1:  dq 0x3FDA827999FCEF32

section .text
; CHK80 "name", lo, hi, se — pop ST0 as m80 and compare all 80 bits.
%macro CHK80 4
    fstp tword [t80]
    %strcat %%n1 %1, " (significand low)"
    %strcat %%n2 %1, " (significand high)"
    %strcat %%n3 %1, " (sign, exponent)"
    CHECK %%n1, %2, [t80]
    CHECK %%n2, %3, [t80 + 4]
    movzx eax, word [t80 + 8]
    CHECK %%n3, %4, eax
%endmacro
; CHKNEAR "name", [expected m64] — pop ST0; |ST0 - expected| <= 2^-52 (prints 1 when within).
%macro CHKNEAR 2
    fsub qword %2
    fabs
    fcomp qword [c_eps]
    fnstsw ax
    shr eax, 8
    and eax, 0x41                   ; C3, C0: 0 when greater
    setnz al
    movzx eax, al
    CHECK %1, 1, eax
%endmacro
; SW "name", expected — status word & mask after the previous instruction
%macro SWCHK 3
    fnstsw ax
    and eax, %3
    CHECK %1, %2, eax
%endmacro

main:
    ; CR0: MP=1, NE=1, EM=0, TS=0 (SDM Vol. 3A §9.2.1 for an FPU with native error reporting).
    mov eax, cr0
    and eax, ~0x0C
    or eax, 0x22
    mov cr0, eax
    mov eax, 1
    cpuid
    and edx, 1
    CHECK "cpuid.1: EDX.FPU", 1, edx

    ; ---- FNINIT state (SDM Vol. 2A FINIT)
    fninit
    fnstcw [t16]
    movzx eax, word [t16]
    CHECK "fninit: control word 037F", CW_DEF, eax
    fnstsw ax
    movzx eax, ax
    CHECK "fninit: status word 0", 0, eax
    fnstenv [env]
    movzx eax, word [env + 8]
    CHECK "fninit: tag word FFFF (all empty)", 0xFFFF, eax
    fldcw [env]                     ; restore what FNSTENV masked

    ; ---- constants and the stack
    fld1
    CHK80 "fld1", 0, 0x80000000, 0x3FFF
    fldpi
    CHK80 "fldpi (nearest)", 0x2168C235, 0xC90FDAA2, 0x4000
    fldl2e
    CHK80 "fldl2e", 0x5C17F0BC, 0xB8AA3B29, 0x3FFF
    fldl2t
    CHK80 "fldl2t", 0xCD1B8AFE, 0xD49A784B, 0x4000
    fldlg2
    CHK80 "fldlg2", 0xFBCFF799, 0x9A209A84, 0x3FFD
    fldln2
    CHK80 "fldln2", 0xD1CF79AC, 0xB17217F7, 0x3FFE
    fldz
    CHK80 "fldz", 0, 0, 0
    fld1
    fldz
    fnstsw ax
    shr eax, 11
    and eax, 7
    CHECK "two pushes: TOP = 6", 6, eax
    fnstenv [env]
    fldcw [env]
    movzx eax, word [env + 8]
    CHECK "tags: ST0 zero (01), ST1 valid (00), rest empty", 0x1FFF, eax
    fxch
    CHK80 "fxch: ST0 = 1", 0, 0x80000000, 0x3FFF
    CHK80 "fxch: ST1 = 0", 0, 0, 0

    ; ---- precision and rounding control: 1/3
%macro THIRD 0
    fld1
    fdiv dword [c_three]
%endmacro
    THIRD
    CHK80 "1/3, 64-bit precision, nearest", 0xAAAAAAAB, 0xAAAAAAAA, 0x3FFD
    mov word [t16], CW_DEF | 0x0400     ; round down
    fldcw [t16]
    THIRD
    CHK80 "1/3, round down", 0xAAAAAAAA, 0xAAAAAAAA, 0x3FFD
    mov word [t16], CW_DEF | 0x0800     ; round up
    fldcw [t16]
    THIRD
    CHK80 "1/3, round up", 0xAAAAAAAB, 0xAAAAAAAA, 0x3FFD
    mov word [t16], (CW_DEF & ~0x300) | 0x200   ; 53-bit precision
    fldcw [t16]
    THIRD
    CHK80 "1/3, 53-bit precision", 0xAAAAA800, 0xAAAAAAAA, 0x3FFD
    mov word [t16], CW_DEF & ~0x300             ; 24-bit precision
    fldcw [t16]
    THIRD
    CHK80 "1/3, 24-bit precision", 0, 0xAAAAAB00, 0x3FFD
    fldcw [cw_def]
    fld1
    fadd st0, st0
    fsqrt
    CHK80 "fsqrt(2)", 0xF9DE6484, 0xB504F333, 0x3FFF
    SWCHK "fsqrt(2): PE set, C1 (rounded up) clear", 0x20, 0x220
    fnclex
    fld qword [c_ten]
    fmul qword [c_ten]
    fsub dword [c_three]
    CHK80 "10 * 10 - 3 = 97", 0, 0xC2000000, 0x4005

    ; ---- integer and BCD loads/stores
    fild qword [i64_val]
    fistp qword [t64]
    CHECK "fild/fistp m64 (low)", 0x9ABCDEF0, [t64]
    CHECK "fild/fistp m64 (high)", 0x12345678, [t64 + 4]
    fld qword [c_two5]
    fistp dword [t32]
    CHECK "fistp 2.5 (nearest even) = 2", 2, [t32]
    fld qword [c_m2_5]
    fistp dword [t32]
    CHECK "fistp -2.5 (nearest even) = -2", -2, [t32]
    mov word [t16], CW_DEF | 0x0C00     ; truncate
    fldcw [t16]
    fld qword [c_m2_5]
    fistp word [t16b]
    movsx eax, word [t16b]
    CHECK "fistp m16 -2.5 (chop) = -2", -2, eax
    fldcw [cw_def]
    fnclex
    fld qword [c_1e20]
    fistp dword [t32]
    CHECK "fistp 1e20 (masked #IA) = integer indefinite", 0x80000000, [t32]
    SWCHK "fistp 1e20: IE set", 0x01, 0x01
    fnclex
    fbld [bcd_val]
    fbstp [t80]
    CHECK "fbld/fbstp (low)", 0x23456789, [t80]
    CHECK "fbld/fbstp (middle)", 0x45678901, [t80 + 4]
    movzx eax, word [t80 + 8]
    CHECK "fbld/fbstp (high, sign)", 0x8023, eax
    fild dword [c_int7]
    fstp dword [t32]
    CHECK "fild 7, fstp m32", 0x40E00000, [t32]
    fld1
    fdiv dword [c_three]
    fstp qword [t64]
    CHECK "1/3 fstp m64 (low)", 0x55555555, [t64]
    CHECK "1/3 fstp m64 (high)", 0x3FD55555, [t64 + 4]

    ; ---- comparisons
    fld1
    fld qword [c_ten]                ; ST0 = 10, ST1 = 1
    fcom st1
    SWCHK "fcom 10 vs 1: greater (C3 C2 C0 = 000)", 0, 0x4500
    fcomi st0, st1
    pushfd
    pop eax
    and eax, 0x45
    CHECK "fcomi 10 vs 1: ZF PF CF = 000", 0, eax
    fxch
    fcomi st0, st1
    pushfd
    pop eax
    and eax, 0x45
    CHECK "fcomi 1 vs 10: CF", 1, eax
    fcompp
    SWCHK "fcompp 1 vs 10: less (C0)", 0x100, 0x4500
    fnstsw ax
    shr eax, 11
    and eax, 7
    CHECK "fcompp popped twice: TOP = 0", 0, eax
    fldz
    ftst
    SWCHK "ftst 0: equal (C3)", 0x4000, 0x4500
    fchs
    fxam
    SWCHK "fxam -0: zero, sign (C3 C1)", 0x4200, 0x4700
    fstp st0
    fxam
    SWCHK "fxam empty: C3 C0", 0x4100, 0x4500
    fld1
    fldz
    fdivp st1, st0                  ; 1/0 masked -> +inf
    fxam
    SWCHK "1/0 masked: ZE, result infinity (C2 C0)", 0x0504, 0x4504
    fld st0
    fsubp st1, st0                  ; inf - inf -> indefinite
    fxam
    SWCHK "inf - inf masked: IE, NaN (C0)", 0x0105, 0x4505
    fucomp st0
    SWCHK "fucom QNaN: unordered (C3 C2 C0)", 0x4500, 0x4500
    fnclex

    ; ---- stack faults (masked): underflow -> indefinite, C1 = 0; overflow -> C1 = 1
    fninit
    fadd st0, st0
    SWCHK "underflow: IE SF, C1 = 0", 0x41, 0x241
    fnstsw ax
    fninit
    mov ecx, 9
.push9:
    fld1
    loop .push9
    SWCHK "overflow on the 9th push: IE SF C1", 0x241, 0x241
    fxam
    SWCHK "overflow pushed the indefinite (NaN)", 0x0100, 0x4500
    fninit

    ; ---- FSAVE / FRSTOR (32-bit protected-mode layout, SDM Vol. 1 Figure 8-9)
    fldpi
    fld1
    fnsave [fsave_area]
    movzx eax, word [fsave_area]
    CHECK "fnsave: CW at +0", CW_DEF, eax
    movzx eax, word [fsave_area + 8]
    CHECK "fnsave: tag word at +8", 0x0FFF, eax
    CHECK "fnsave: ST0 = 1.0 at +28", 0x80000000, [fsave_area + 28 + 4]
    CHECK "fnsave: ST1 = pi at +38", 0xC90FDAA2, [fsave_area + 38 + 4]
    fnstcw [t16]
    movzx eax, word [t16]
    CHECK "fnsave reinitializes (CW 037F)", CW_DEF, eax
    fnstsw ax
    movzx eax, ax
    CHECK "fnsave reinitializes (TOP 0)", 0, eax
    frstor [fsave_area]
    fstp st0
    CHK80 "frstor: pi back in ST0 after a pop", 0x2168C235, 0xC90FDAA2, 0x4000
    ; FSTENV/FLDENV: FIP and FOP of the last non-control instruction
.fip_here:
    fld1
    fnstenv [env]
    fldcw [env]
    mov eax, [env + 12]
    CHECK "fnstenv: FIP = the last FLD1", .fip_here, eax
    movzx eax, word [env + 18]
    and eax, 0x7FF
    CHECK "fnstenv: FOP of FLD1 (D9 E8 -> 1E8)", 0x1E8, eax
    fstp st0

    ; ---- FXSAVE / FXRSTOR (CPUID.FXSR; SDM Vol. 2A FXSAVE, Table 3-53: the 512-byte image)
    mov eax, 1
    cpuid
    shr edx, 24
    and edx, 1
    CHECK "cpuid.1: EDX.FXSR", 1, edx
    fninit
    fldpi
    fld1
    fxsave [fxarea]
    movzx eax, word [fxarea]
    CHECK "fxsave: FCW at +0", CW_DEF, eax
    movzx eax, word [fxarea + 2]
    CHECK "fxsave: FSW at +2 (TOP = 6)", 0x3000, eax
    movzx eax, byte [fxarea + 4]
    CHECK "fxsave: abridged tag byte (physical 6, 7 in use)", 0xC0, eax
    movzx eax, word [fxarea + 6]
    CHECK "fxsave: FOP of FLD1 at +6", 0x1E8, eax
    CHECK "fxsave: ST0 = 1.0 at +32", 0x80000000, [fxarea + 36]
    movzx eax, word [fxarea + 40]
    CHECK "fxsave: ST0 sign/exponent at +40", 0x3FFF, eax
    CHECK "fxsave: ST1 = pi at +48", 0xC90FDAA2, [fxarea + 52]
    fninit
    fxrstor [fxarea]
    fstp st0
    CHK80 "fxrstor: pi back in ST0 after a pop", 0x2168C235, 0xC90FDAA2, 0x4000
    fninit
    TRY .fx_done
    fxsave [fxarea + 8]
.fx_done:
    ENDTRY
    CHECK "fxsave to a misaligned area -> #GP(0)", 13, [exc_vec]

    ; ---- other arithmetic
    fild dword [c_int3]
    fld qword [c_ten]
    fprem                           ; 10 rem 3 = 1, q = 3: C1 = q0 = 1, C3 = q1 = 1, C0 = q2 = 0
    SWCHK "fprem 10, 3: C3 C1 (q = 3), C2 = 0", 0x4200, 0x4700
    CHK80 "fprem 10, 3 = 1", 0, 0x80000000, 0x3FFF
    fstp st0
    fild dword [c_int3]
    fld qword [c_eleven]
    fprem1                          ; 11 = 4*3 - 1: -1, q = 4: C0
    SWCHK "fprem1 11, 3: C0 (q = 4)", 0x0100, 0x4700
    CHK80 "fprem1 11, 3 = -1", 0, 0x80000000, 0xBFFF
    fstp st0
    fild dword [c_int10]
    fld qword [c_1p5]
    fscale
    CHK80 "fscale 1.5 * 2^10 = 1536", 0, 0xC0000000, 0x4009
    fstp st0
    fld qword [c_ten]
    fxtract
    CHK80 "fxtract 10: significand 1.25", 0, 0xA0000000, 0x3FFF
    CHK80 "fxtract 10: exponent 3", 0, 0xC0000000, 0x4000
    fld qword [c_two5]
    frndint
    CHK80 "frndint 2.5 (nearest even) = 2", 0, 0x80000000, 0x4000
    fild dword [c_int3]
    fld qword [c_eight]
    fyl2x                           ; 3 * log2(8) = 9
    CHK80 "fyl2x 8, 3 = 9", 0, 0x90000000, 0x4002

    ; ---- transcendental (within 2^-52 of the exact value)
    fld qword [c_half]
    fsin
    CHKNEAR "fsin 0.5", [d_sin5]
    fld qword [c_half]
    fcos
    CHKNEAR "fcos 0.5", [d_cos5]
    fld qword [c_half]
    fptan
    CHK80 "fptan pushes 1.0", 0, 0x80000000, 0x3FFF
    CHKNEAR "fptan 0.5", [d_tan5]
    fld qword [c_half]
    fsincos
    CHKNEAR "fsincos 0.5: cos in ST0", [d_cos5]
    CHKNEAR "fsincos 0.5: sin in ST1", [d_sin5]
    fld1
    fld1
    fpatan
    CHKNEAR "fpatan 1, 1 = pi/4", [d_pi4]
    fld qword [c_half]
    f2xm1
    CHKNEAR "f2xm1 0.5 = sqrt(2) - 1", [d_sqrt2m1]
    fnstsw ax
    shr eax, 11
    and eax, 7
    CHECK "transcendentals left the stack balanced", 0, eax

    ; ---- unmasked #Z with CR0.NE = 1: #MF at the next waiting instruction (SDM Vol. 1 §8.7)
    fninit
    mov word [t16], CW_DEF & ~0x04  ; unmask ZE
    fldcw [t16]
    fld1
    fldz
.zdiv:
    fdivp st1, st0                  ; flags ZE, ES, B: no store, no pop
    SWCHK "unmasked #Z: ZE ES B set", 0x8084, 0x80BF
    TRY .mf_done
    nop
.mf_at:
    fld1                            ; waiting: reports the pending exception
    nop
.mf_done:
    ENDTRY
    CHECK "unmasked #Z: #MF (vector 16) at the next FP instruction", 16, [exc_vec]
    CHECK "#MF: EIP = the waiting instruction", .mf_at, [exc_eip]
    fnstenv [env]
    fldcw [env]                     ; FNSTENV masked everything: unmask #Z again
    mov eax, [env + 12]
    CHECK "#MF: FIP = the faulting FDIVP", .zdiv, eax
    fnclex
    TRY .wait_done
    fld1
    fldz
    fdivp st1, st0                  ; 1 / 0 -> #Z pending
    wait
.wait_done:
    ENDTRY
    CHECK "fwait reports the pending #Z as #MF", 16, [exc_vec]
    fninit

    ; ---- CR0.NE = 0: FERR# -> IRQ 13 (PC wiring; the handler acknowledges at port F0h)
    call pic_init
    IDT_GATE PIC_VEC + 8 + 5, irq13_handler, SEL_KCODE, GATE_INT
    mov eax, cr0
    and eax, ~0x20
    mov cr0, eax
    mov dword [irq13_count], 0
    mov word [t16], CW_DEF & ~0x04
    fldcw [t16]
    fld1
    fldz
    fdivp st1, st0
    sti
    fld1                            ; waiting instruction: FERR# asserted
    nop
    nop
    cli
    CHECK "CR0.NE = 0: one IRQ 13 for the pending #Z", 1, [irq13_count]
    mov eax, [irq13_sw]
    and eax, 0x8084
    CHECK "IRQ 13 handler saw ZE ES B", 0x8084, eax
    fninit
    mov eax, cr0
    or eax, 0x20
    mov cr0, eax
    ; ---- CR0.TS: #NM before any x87 instruction (SDM Vol. 3A §2.5)
    mov eax, cr0
    or eax, 0x08
    mov cr0, eax
    TRY .nm_done
    fld1
.nm_done:
    ENDTRY
    CHECK "CR0.TS: #NM", 7, [exc_vec]
    clts
    jmp finish

; Program the 8259s: master at PIC_VEC, slave at PIC_VEC + 8, only IRQ 2 (cascade) and IRQ 13.
pic_init:
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, PIC_VEC
    out 0x21, al
    mov al, PIC_VEC + 8
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFB
    out 0x21, al
    mov al, 0xDF
    out 0xA1, al
    ret

irq13_handler:
    push eax
    inc dword [irq13_count]
    fnstsw ax
    movzx eax, ax
    mov [irq13_sw], eax
    xor al, al
    out 0xF0, al                    ; clear the FERR# latch (PC/AT port F0h)
    fnclex
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    pop eax
    iretd

section .data
cw_def:     dw CW_DEF
c_int3:     dd 3
c_int7:     dd 7
c_int10:    dd 10

section .bss
alignb 16
t80:        resb 16
t64:        resq 1
t32:        resd 1
t16:        resw 1
t16b:       resw 1
env:        resb 32
fsave_area: resb 112
alignb 16
fxarea:     resb 512
irq13_count: resd 1
irq13_sw:   resd 1
