; iopl — IOPL-sensitive instructions in protected mode (SDM Vol. 3A §2.3 / Vol. 1 §3.4.3.3 IOPL,
; Vol. 2 CLI, STI, POPF, IRET, PUSHF, IN/OUT; Vol. 1 §18.5.1 I/O privilege level).
; The central lesson: at CPL > IOPL, CLI/STI fault with #GP(0) but POPF and IRET *silently*
; keep IF (and at CPL > 0 they silently keep IOPL) — no trap, so a trap-and-emulate VMM never sees it.
; External interrupts cannot arrive: both PICs are masked by lib.inc, so IF=1 is harmless.
%include "lib.inc"

section .rodata
guest_banner: db "cputest iopl", 13, 10, 0

section .text
main:
    ; --- CPL 3, IOPL 0
    TRY .t1
    RING3 r3_cli, 0x202
.t1:
    ENDTRY
    CHECK "cli-cpl3-iopl0: #GP", 13, [exc_vec]
    CHECK "cli-cpl3-iopl0: error code 0", 0, [exc_err]
    CHECK "cli-cpl3-iopl0: faulting EIP = CLI", r3_cli, [exc_eip]
    mov eax, [exc_eflags]
    and eax, EFL_IF
    CHECK "cli-cpl3-iopl0: IF still set in frame", EFL_IF, eax

    TRY .t2
    RING3 r3_sti, 0x002
.t2:
    ENDTRY
    CHECK "sti-cpl3-iopl0: #GP", 13, [exc_vec]
    CHECK "sti-cpl3-iopl0: error code 0", 0, [exc_err]
    CHECK "sti-cpl3-iopl0: faulting EIP = STI", r3_sti, [exc_eip]

    ; POPF (Vol. 2 POPF, "IF CPL > IOPL: IF unchanged"; "IF CPL > 0: IOPL unchanged").
    TRY .t3
    RING3 r3_popf, 0x202
.t3:
    ENDTRY
    CHECK "popf-cpl3-iopl0: no fault", 0x7F, [exc_vec]
    mov eax, [exc_ebx]
    and eax, EFL_IF | EFL_IOPL3
    CHECK "pushf-cpl3: shows the real IF=1", EFL_IF, eax
    mov eax, [exc_ecx]
    and eax, EFL_IF
    CHECK "popf-cpl3-iopl0: IF=0 silently ignored", EFL_IF, eax
    mov eax, [exc_edx]
    and eax, EFL_IOPL3
    CHECK "popf-cpl3-iopl0: IOPL=3 silently ignored", 0, eax
    mov eax, [exc_edx]
    and eax, 0xFF
    CHECK "popf-cpl3-iopl0: arithmetic flags still loaded", 0xD7, eax

    TRY .t4
    RING3 r3_pushf_if0, 0x002
.t4:
    ENDTRY
    mov eax, [exc_ebx]
    and eax, EFL_IF
    CHECK "pushf-cpl3: shows the real IF=0", 0, eax

    ; IRET to the same privilege level (Vol. 2 IRET, RETURN-TO-SAME-PRIVILEGE-LEVEL: IF only if
    ; CPL <= IOPL, IOPL only if CPL = 0).
    TRY .t5
    RING3 r3_iret, 0x202
.t5:
    ENDTRY
    CHECK "iret-cpl3-iopl0: no fault", 0x7F, [exc_vec]
    mov eax, [exc_ecx]
    and eax, EFL_IF | EFL_IOPL3
    CHECK "iret-cpl3-iopl0: IF=0 and IOPL=3 silently ignored", EFL_IF, eax
    CHECK "iret-cpl3-iopl0: returned to the image's EIP", r3_iret.after, [exc_esi]

    TRY .t6
    RING3 r3_in, 0x202
.t6:
    ENDTRY
    CHECK "in-cpl3-iopl0-no-bitmap: #GP", 13, [exc_vec]
    CHECK "in-cpl3-iopl0-no-bitmap: error code 0", 0, [exc_err]

    ; --- CPL 3, IOPL 3: CLI/STI/POPF/IRET may change IF, still not IOPL.
    TRY .t7
    RING3 r3_iopl3, 0x3202
.t7:
    ENDTRY
    CHECK "iopl3: no fault", 0x7F, [exc_vec]
    mov eax, [exc_edi]
    and eax, EFL_IF | EFL_IOPL3
    CHECK "cli-cpl3-iopl3: clears IF", EFL_IOPL3, eax
    mov eax, [exc_ebx]
    and eax, EFL_IF | EFL_IOPL3
    CHECK "sti-cpl3-iopl3: sets IF", EFL_IF | EFL_IOPL3, eax
    mov eax, [exc_ecx]
    and eax, EFL_IF | EFL_IOPL3
    CHECK "popf-cpl3-iopl3: IF=0 taken, IOPL=0 ignored", EFL_IOPL3, eax
    mov eax, [exc_edx]
    and eax, EFL_IF | EFL_IOPL3
    CHECK "iret-cpl3-iopl3: IF=1 taken, IOPL=0 ignored", EFL_IF | EFL_IOPL3, eax
    CHECK "in-cpl3-iopl3: port read allowed", 0x5A, [exc_esi]

    ; --- CPL 1: IOPL 0 -> POPF silently keeps IF; IOPL 1 -> CLI allowed.
    TRY .t8
    RING1 r1_popf, 0x202
.t8:
    ENDTRY
    mov eax, [exc_ecx]
    and eax, EFL_IF | EFL_IOPL3
    CHECK "popf-cpl1-iopl0: IF and IOPL unchanged", EFL_IF, eax
    TRY .t9
    RING1 r1_cli, 0x1202
.t9:
    ENDTRY
    CHECK "cli-cpl1-iopl1: no fault", 0x7F, [exc_vec]
    mov eax, [exc_ecx]
    and eax, EFL_IF | EFL_IOPL3
    CHECK "cli-cpl1-iopl1: IF cleared, IOPL still 1", 0x1000, eax
    TRY .t10
    RING1 r1_cli, 0x0202
.t10:
    ENDTRY
    CHECK "cli-cpl1-iopl0: #GP", 13, [exc_vec]

    ; --- CPL 0: everything allowed, PUSHF shows the truth.
    pushfd
    sti
    pushfd
    pop ebx
    cli
    pushfd
    pop ecx
    push dword 0x3002
    popfd
    pushfd
    pop edx
    popfd
    and ebx, EFL_IF
    CHECK "pushf-cpl0: IF=1 after STI", EFL_IF, ebx
    and ecx, EFL_IF
    CHECK "pushf-cpl0: IF=0 after CLI", 0, ecx
    and edx, EFL_IOPL3
    CHECK "popf-cpl0: IOPL changed", EFL_IOPL3, edx
    jmp finish

; ---- ring-3 / ring-1 snippets (results in GPRs, back with int 0x7F) ---------------------------
r3_cli:
    cli
    int 0x7F
r3_sti:
    sti
    int 0x7F
r3_popf:
    pushfd
    pop ebx
    push dword 0x30D7               ; IOPL=3, IF=0, CF PF AF ZF SF set (bit 1 reserved = 1)
    popfd
    pushfd
    pop ecx
    mov edx, ecx
    int 0x7F
r3_pushf_if0:
    pushfd
    pop ebx
    int 0x7F
r3_iret:
    push dword 0x3002               ; IF=0, IOPL=3
    push dword SEL_UCODE
    push dword .after
    iretd
.after:
    pushfd
    pop ecx
    mov esi, .after
    int 0x7F
r3_in:
    in al, 0x80
    int 0x7F
r3_iopl3:
    cli
    pushfd
    pop edi
    sti
    pushfd
    pop ebx
    push dword 0x0002
    popfd
    pushfd
    pop ecx
    push dword 0x0202
    push dword SEL_UCODE
    push dword .after
    iretd
.after:
    mov dx, COM1 + 7                ; scratch register: harmless to write and read back
    mov al, 0x5A
    out dx, al
    xor eax, eax
    in al, dx
    mov esi, eax
    pushfd
    pop edx
    int 0x7F
r1_popf:
    push dword 0x3002
    popfd
    pushfd
    pop ecx
    int 0x7F
r1_cli:
    cli
    pushfd
    pop ecx
    int 0x7F
