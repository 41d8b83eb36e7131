; semantics — instruction semantics that depend on sizes and aliasing (issue 17):
;   POP SS that changes the stack size (the old stack's size moves ESP), ENTER with a 16-bit stack,
;   XADD/CMPXCHG/XCHG with aliased operands, a task switch into a 16-bit (286) TSS, and AAM 0
;   (#DE). Operands straddling a segment limit are in straddle.asm.
%include "lib.inc"

SEL_SS16    equ 0x40            ; 16-bit (B=0) stack, limit 64 KiB, base = popbuf - 0xFFFC
SEL_SS32B   equ 0x48            ; 32-bit (B=1) stack, 4 GiB, base = popbuf - 0x2FFFC
SEL_SS16E   equ 0x50            ; 16-bit stack for ENTER, limit 64 KiB, base = ebuf
SEL_TSS16   equ 0x68            ; available 80286 TSS (type 1)
SEL_C16T    equ 0x70            ; 32-bit code segment whose base is t16_code

section .rodata
guest_banner: db "cputest semantics", 13, 10, 0

section .text
main:
    GDT_DESC SEL_SS16, popbuf - 0xFFFC, 0xFFFF, ACC_DATA0, 0
    GDT_DESC SEL_SS32B, popbuf - 0x2FFFC, 0xFFFFF, ACC_DATA0, FLG_32G
    GDT_DESC SEL_SS16E, ebuf, 0xFFFF, ACC_DATA0, 0
    GDT_DESC SEL_TSS16, tss16, 0x2B, 0x81, 0
    GDT_DESC SEL_C16T, t16_code, 0xFFFFF, ACC_CODE0, FLG_32G

    ; ---- POP SS: SDM Vol. 2B POP: the pop is an access through the *current* stack (its
    ; StackAddrSize), so the increment wraps in the old 16-bit SP even when the loaded SS is a
    ; 32-bit (B=1) segment, and vice versa.
    mov [saved_esp], esp
    mov dword [popbuf], SEL_KDATA
    mov ax, SEL_SS16
    mov ss, ax
    mov esp, 0x2FFFC
    pop ss                          ; o32: reads SS16:0xFFFC, SP wraps to 0
    mov ebx, esp
    mov esp, [saved_esp]
    CHECK "pop-ss o32 16->32-bit stack: ESP = 0x20000 (SP wrapped in the old stack)", 0x20000, ebx
    mov eax, ss
    CHECK "pop-ss o32 16->32-bit stack: SS loaded", SEL_KDATA, eax

    mov word [popbuf + 2], SEL_KDATA
    mov ax, SEL_SS16
    mov ss, ax
    mov esp, 0x2FFFE
    o16 pop ss                      ; reads SS16:0xFFFE, SP wraps to 0
    mov ebx, esp
    mov esp, [saved_esp]
    CHECK "pop-ss o16 16->32-bit stack: ESP = 0x20000", 0x20000, ebx

    mov dword [popbuf], SEL_SS16
    mov ax, SEL_SS32B
    mov ss, ax
    mov esp, 0x2FFFC
    pop ss                          ; reads SS32B:0x2FFFC, ESP + 4 in 32 bits
    mov ebx, esp
    mov ax, SEL_KDATA
    mov ss, ax
    mov esp, [saved_esp]
    CHECK "pop-ss o32 32->16-bit stack: ESP = 0x30000 (32-bit increment)", 0x30000, ebx

    ; ---- ENTER (SDM Vol. 2A ENTER). FrameTemp is ESP for o32 and SP for o16, whatever the stack
    ; size; the nested-frame reads use SS:BP with a 16-bit stack. So o32 ENTER on a 16-bit stack
    ; pushes all of ESP (upper word kept by the 16-bit pushes) and loads it into EBP: EBP's old
    ; upper word is lost (bochs agrees). Level 36 is taken mod 32 = 4.
    mov dword [ebuf + 0x1FC], 0x11111111
    mov dword [ebuf + 0x1F8], 0x22222222
    mov dword [ebuf + 0x1F4], 0x33333333
    mov ax, SEL_SS16E
    mov ss, ax
    mov esp, 0x00020100
    mov ebp, 0x00010200
    db 0xC8, 0x08, 0x00, 36         ; o32 enter 8, 36
    mov ebx, esp
    mov ecx, ebp
    mov ax, SEL_KDATA
    mov ss, ax
    mov esp, [saved_esp]
    CHECK "enter o32 16-bit stack: EBP = ESP after pushing EBP (all 32 bits)", 0x000200FC, ecx
    CHECK "enter o32 16-bit stack: ESP upper word kept, SP = frame - 12 - 4 - 8", 0x000200E4, ebx
    CHECK "enter o32 16-bit stack: old EBP pushed (32 bits)", 0x00010200, [ebuf + 0xFC]
    CHECK "enter o32 16-bit stack: outer frame 1 copied from SS:BP-4", 0x11111111, [ebuf + 0xF8]
    CHECK "enter o32 16-bit stack: outer frame 2", 0x22222222, [ebuf + 0xF4]
    CHECK "enter o32 16-bit stack: outer frame 3", 0x33333333, [ebuf + 0xF0]
    CHECK "enter o32 16-bit stack: frame pointer (ESP) pushed", 0x000200FC, [ebuf + 0xEC]

    ; o16 ENTER with a 32-bit stack: BP = low word of the frame pointer, EBP's upper word kept.
    mov esp, enter_stack_top
    mov ebp, 0x5A5A1234
    o16 enter 4, 0
    mov ebx, esp
    mov ecx, ebp
    mov esp, [saved_esp]
    mov eax, enter_stack_top - 2
    and eax, 0xFFFF
    or eax, 0x5A5A0000
    CHECK "enter o16 32-bit stack: EBP = 5A5A:low word of the frame", eax, ecx
    mov eax, enter_stack_top - 6
    CHECK "enter o16 32-bit stack: ESP = frame - 4", eax, ebx
    movzx eax, word [enter_stack_top - 2]
    CHECK "enter o16 32-bit stack: BP pushed", 0x1234, eax

    ; ---- XADD/CMPXCHG/XCHG with one register as both operands (SDM Vol. 2B XADD: TEMP <- SRC +
    ; DEST; SRC <- DEST; DEST <- TEMP — the destination is written last).
    mov eax, 0x12345678
    xadd eax, eax
    CHECK "xadd eax, eax = 2 * eax", 0x2468ACF0, eax
    mov eax, 0xAAAA1234
    xadd ax, ax
    CHECK "xadd ax, ax = 2 * ax (upper word kept)", 0xAAAA2468, eax
    mov eax, 0x11223344
    xadd al, al
    CHECK "xadd al, al", 0x11223388, eax
    mov eax, 0x11223344
    xadd ah, ah
    CHECK "xadd ah, ah", 0x11226644, eax
    mov eax, 0x11223344
    xadd ah, al                     ; AL <- AH (0x33), AH <- 0x33 + 0x44
    CHECK "xadd ah, al (distinct halves)", 0x11227733, eax
    mov eax, 5
    mov ecx, 9
    cmpxchg eax, ecx                ; EAX = EAX always: ZF = 1, EAX <- ECX
    setz dl
    CHECK "cmpxchg eax, ecx: destination is the accumulator -> loaded from ECX", 9, eax
    movzx edx, dl
    CHECK "cmpxchg eax, ecx: ZF = 1", 1, edx
    mov eax, 0x1122
    mov ecx, 0x77
    cmpxchg ah, cl                  ; AL (22) != AH (11): AL <- 11, AH written back
    setz dl
    CHECK "cmpxchg ah, cl (not equal): AL <- AH", 0x1111, eax
    movzx edx, dl
    CHECK "cmpxchg ah, cl (not equal): ZF = 0", 0, edx
    mov eax, 0x12345678
    mov ecx, 0x12345678
    cmpxchg ecx, eax
    CHECK "cmpxchg ecx, eax (equal): ECX <- EAX", 0x12345678, ecx
    mov eax, 0x1234
    xchg ah, al
    CHECK "xchg ah, al", 0x3412, eax
    mov eax, 0xCAFEF00D
    db 0x87, 0xC0                   ; xchg eax, eax (ModR/M form)
    CHECK "xchg eax, eax (87 C0) unchanged", 0xCAFEF00D, eax

    ; ---- A task switch into a 16-bit (80286) TSS (SDM Vol. 3A §7.6: the 16-bit TSS holds only
    ; the low words). The SDM does not say what the upper words become; Bochs (tasking.cc:
    ; "upper word of general registers is set to 0xFFFF") sets them to FFFF, and so do we.
    mov word [tss16 + 0x0E], 0                  ; IP (CS base = t16_code)
    mov word [tss16 + 0x10], 0x0002             ; FLAGS
    mov word [tss16 + 0x12], 0x1111             ; AX CX DX BX SP BP SI DI
    mov word [tss16 + 0x14], 0x2222
    mov word [tss16 + 0x16], 0x3333
    mov word [tss16 + 0x18], 0x4444
    mov word [tss16 + 0x1A], 0x5555
    mov word [tss16 + 0x1C], 0x6666
    mov word [tss16 + 0x1E], 0x7777
    mov word [tss16 + 0x20], 0x8888
    mov word [tss16 + 0x22], SEL_KDATA          ; ES CS SS DS
    mov word [tss16 + 0x24], SEL_C16T
    mov word [tss16 + 0x26], SEL_KDATA
    mov word [tss16 + 0x28], SEL_KDATA
    mov word [tss16 + 0x2A], 0                  ; LDT
    mov eax, 0x0BADF00D
    jmp SEL_TSS16:0
.t16_back:
    clts
    mov ax, SEL_KDATA
    mov fs, ax
    mov gs, ax
    CHECK "286 TSS: EAX = FFFF:AX", 0xFFFF1111, [t16_regs + 0]
    CHECK "286 TSS: ECX = FFFF:CX", 0xFFFF2222, [t16_regs + 4]
    CHECK "286 TSS: EDX = FFFF:DX", 0xFFFF3333, [t16_regs + 8]
    CHECK "286 TSS: EBX = FFFF:BX", 0xFFFF4444, [t16_regs + 12]
    CHECK "286 TSS: ESP = FFFF:SP", 0xFFFF5555, [t16_regs + 16]
    CHECK "286 TSS: EBP = FFFF:BP", 0xFFFF6666, [t16_regs + 20]
    CHECK "286 TSS: ESI = FFFF:SI", 0xFFFF7777, [t16_regs + 24]
    CHECK "286 TSS: EDI = FFFF:DI", 0xFFFF8888, [t16_regs + 28]
    CHECK "286 TSS: FS null", 0, [t16_regs + 32]
    CHECK "286 TSS: GS null", 0, [t16_regs + 36]
    movzx eax, word [tss16 + 0x12]
    CHECK "286 TSS: AX saved back as a word on the switch out", 0xAB12, eax

    ; ---- AAM 0: #DE (SDM Vol. 2A AAM), a fault: AX and the flags are unchanged.
    mov eax, 0x12345678
    push dword 0x8D7                ; OF SF ZF AF PF CF set
    popfd
    TRY .aam_done
    aam 0
.aam_done:
    ENDTRY
    CHECK "aam 0 -> #DE", 0, [exc_vec]
    mov eax, [exc_eax]
    CHECK "aam 0: AX unchanged", 0x12345678, eax
    mov eax, [exc_eflags]
    and eax, 0x8D5
    CHECK "aam 0: OF SF ZF AF PF CF unchanged", 0x8D5, eax
    jmp finish

; The 16-bit task: CS base = t16_code, so EIP is 0 here. It must not touch the stack (ESP's
; upper word is not under test control). Records the GPRs and FS/GS, then switches back.
t16_code:
    mov [t16_regs + 0], eax
    mov [t16_regs + 4], ecx
    mov [t16_regs + 8], edx
    mov [t16_regs + 12], ebx
    mov [t16_regs + 16], esp
    mov [t16_regs + 20], ebp
    mov [t16_regs + 24], esi
    mov [t16_regs + 28], edi
    xor eax, eax
    mov ax, fs
    mov [t16_regs + 32], eax
    mov ax, gs
    mov [t16_regs + 36], eax
    mov eax, 0xAB12
    jmp SEL_TSS:0                   ; back: the main task resumes after its JMP

section .bss
alignb 16
saved_esp:      resd 1
t16_regs:       resd 10
tss16:          resb 64
popbuf:         resd 4
                resb 64
enter_stack_top:
alignb 16
ebuf:           resb 0x200
