; v86 — virtual-8086 mode (SDM Vol. 3A chapter 20): entering V86 with IRET (§20.2.5), segment
; registers as paragraphs, IOPL-sensitive instructions with IOPL < 3 (§20.2.7: CLI, STI, PUSHF,
; POPF, INT n, IRET -> #GP(0)), I/O through the bit map only (§20.2.8.1), and interrupts/exceptions
; from V86 to a CPL-0 handler (§20.3.1.1, Figure 20-4): ES, DS, FS, GS pushed after the usual
; SS:ESP/EFLAGS/CS:EIP frame, and DS, ES, FS, GS loaded with null in the handler.
%include "lib.inc"

V86_BASE    equ 0x20000             ; the 16-bit code below is copied here: CS = 0x2000
V86_CS      equ V86_BASE >> 4
V86_SP      equ 0xFFF0
V86_ES      equ 0x3000
V86_FS      equ 0x4000
V86_GS      equ 0x5000

%define OFF(l) ((l) - v86_code)

; V86 entry, eflags: IRET from CPL 0 into V86 at CS:OFF(entry).
%macro V86 2
    TRY %%back
    push dword V86_GS
    push dword V86_FS
    push dword V86_CS               ; DS
    push dword V86_ES
    push dword V86_CS               ; SS
    push dword V86_SP
    push dword (%2) | EFL_VM | 2
    push dword V86_CS
    push dword OFF(%1)
    iretd
%%back:
    ENDTRY
%endmacro

; V86GP name, entry: expect #GP(0) at the first instruction of the snippet (IOPL 0).
%macro V86GP 2
    V86 %2, 0
    CHECK {%1, ": #GP"}, 13, [exc_vec]
    CHECK {%1, ": error code 0"}, 0, [exc_err]
    CHECK {%1, ": faulting IP"}, OFF(%2), [exc_eip]
%endmacro

section .rodata
guest_banner: db "cputest v86", 13, 10, 0

section .text
main:
    mov esi, v86_code
    mov edi, V86_BASE
    mov ecx, v86_code_end - v86_code
    rep movsb
    IDT_GATE 0x30, int30_handler, SEL_KCODE, GATE_INT | DPL3
    IDT_GATE 0x31, stub_49, SEL_KCODE, GATE_INT | DPL3

    ; --- 1. IOPL 3: INT n goes through the IDT; the frame carries the V86 segment registers.
    V86 v86_t1, EFL_IOPL3
    CHECK "v86-int-iopl3: handler ran", 1, [h_count]
    CHECK "v86-int-iopl3: frame IP", OFF(v86_t1.after), [h_frame]
    CHECK "v86-int-iopl3: frame CS", V86_CS, [h_frame + 4]
    mov eax, [h_frame + 8]
    and eax, EFL_VM | EFL_IOPL3
    CHECK "v86-int-iopl3: frame EFLAGS has VM=1, IOPL=3", EFL_VM | EFL_IOPL3, eax
    CHECK "v86-int-iopl3: frame SP", V86_SP, [h_frame + 12]
    CHECK "v86-int-iopl3: frame SS", V86_CS, [h_frame + 16]
    CHECK "v86-int-iopl3: frame ES", V86_ES, [h_frame + 20]
    CHECK "v86-int-iopl3: frame DS", V86_CS, [h_frame + 24]
    CHECK "v86-int-iopl3: frame FS", V86_FS, [h_frame + 28]
    CHECK "v86-int-iopl3: frame GS", V86_GS, [h_frame + 32]
    CHECK "v86-int-iopl3: handler ESP = TSS.ESP0 - 36", ring0_stack_top - 36, [h_esp]
    CHECK "v86-int-iopl3: DS null in handler", 0, [h_ds]
    CHECK "v86-int-iopl3: ES null in handler", 0, [h_es]
    CHECK "v86-int-iopl3: FS null in handler", 0, [h_fs]
    CHECK "v86-int-iopl3: GS null in handler", 0, [h_gs]
    CHECK "v86-int-iopl3: CS in handler", SEL_KCODE, [h_cs]
    ; after IRET back to V86 the snippet reports with int 0x31 (generic recorder)
    CHECK "v86-iret-back: second INT reached", 0x31, [exc_vec]
    mov eax, [exc_ebx]
    and eax, 0xFFFF
    CHECK "v86: 16-bit PUSH/POP on the V86 stack", 0x1234, eax
    mov eax, [exc_ecx]
    and eax, EFL_IOPL3
    CHECK "v86-pushf-iopl3: IOPL visible", EFL_IOPL3, eax
    mov eax, [exc_edx]
    and eax, 0xFFFF
    CHECK "v86: DS holds the paragraph", V86_CS, eax
    mov eax, [exc_esi]
    and eax, 0xFFFF
    CHECK "v86-iret-back: ES restored from the frame", V86_ES, eax
    mov eax, [exc_edi]
    and eax, 0xFFFF
    CHECK "v86: memory at DS:offset (paragraph * 16 + offset)", 0xBEEF, eax
    CHECK "v86-int-iopl3: second frame GS", V86_GS, [exc_v86gs]
    CHECK "v86-int-iopl3: DS null in generic handler", 0, [exc_seen_ds]

    ; --- 2. IOPL 0: the IOPL-sensitive instructions fault with #GP(0) (§20.2.7).
    V86GP "v86-cli-iopl0", v86_cli
    V86GP "v86-sti-iopl0", v86_sti
    V86GP "v86-pushf-iopl0", v86_pushf
    V86GP "v86-popf-iopl0", v86_popf
    V86GP "v86-int-iopl0", v86_int
    V86GP "v86-iret-iopl0", v86_iret
    CHECK "v86-iret-iopl0: frame CS", V86_CS, [exc_cs]
    mov eax, [exc_eflags]
    and eax, EFL_VM
    CHECK "v86-gp: frame EFLAGS.VM", EFL_VM, eax
    CHECK "v86-gp: frame ES", V86_ES, [exc_v86es]
    CHECK "v86-gp: frame DS", V86_CS, [exc_v86ds]
    CHECK "v86-gp: DS null in handler", 0, [exc_seen_ds]
    CHECK "v86-gp: frame EIP at TSS.ESP0 - 36, error code below", ring0_stack_top - 36, [exc_frame_addr]

    ; --- 3. Always #GP(0) in V86 (CPL 3): HLT; I/O with no bit map even at IOPL 3.
    V86 v86_hlt, EFL_IOPL3
    CHECK "v86-hlt: #GP", 13, [exc_vec]
    CHECK "v86-hlt: error code 0", 0, [exc_err]
    V86 v86_in, EFL_IOPL3
    CHECK "v86-in-iopl3-no-bitmap: #GP", 13, [exc_vec]
    CHECK "v86-in-iopl3-no-bitmap: faulting IP", OFF(v86_in), [exc_eip]
    jmp finish

; CPL-0 handler for int 0x30 from V86: DS..GS are null here; use SS (TSS.SS0) only.
int30_handler:
    mov [ss:h_eax], eax
    inc dword [ss:h_count]
    mov [ss:h_esp], esp
    xor eax, eax
    mov ax, ds
    mov [ss:h_ds], eax
    mov ax, es
    mov [ss:h_es], eax
    mov ax, fs
    mov [ss:h_fs], eax
    mov ax, gs
    mov [ss:h_gs], eax
    mov ax, cs
    mov [ss:h_cs], eax
%assign i 0
%rep 9
    mov eax, [esp + i * 4]
    mov [ss:h_frame + i * 4], eax
%assign i i + 1
%endrep
    mov eax, [ss:h_eax]
    iretd                           ; CPL 0, VM=1 in the image: back to V86 (9 dwords popped)

; ---- 16-bit V86 code, copied to V86_BASE -----------------------------------------------------
section .data
bits 16
v86_code:
v86_t1:
    mov ax, 0x1234
    push ax
    pop bx
    pushf
    pop cx
    mov dx, ds
    int 0x30
.after:
    mov si, es
    mov di, [OFF(v86_word)]
    int 0x31
v86_cli:
    cli
    int 0x31
v86_sti:
    sti
    int 0x31
v86_pushf:
    pushf
    int 0x31
v86_popf:
    popf
    int 0x31
v86_int:
    int 0x31
    int 0x31
v86_iret:
    iret
    int 0x31
v86_hlt:
    hlt
    int 0x31
v86_in:
    in al, 0x80
    int 0x31
v86_word:
    dw 0xBEEF
v86_code_end:
bits 32

section .bss
h_count:    resd 1
h_eax:      resd 1
h_esp:      resd 1
h_ds:       resd 1
h_es:       resd 1
h_fs:       resd 1
h_gs:       resd 1
h_cs:       resd 1
h_frame:    resd 9
