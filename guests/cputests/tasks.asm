; tasks — hardware task switching (SDM Vol. 3A chapter 7): JMP/CALL to a TSS, a task gate in the
; IDT (software INT and an exception), a task gate in the GDT, IRET with NT (task return), busy-flag
; and NT/link rules (§7.3, §7.4, Table 7-2), and the faults of bad task switches (§7.3 step list,
; JMP/CALL/IRET/LTR in Vol. 2).
%include "lib.inc"

SEL_TSSB    equ 0x40
SEL_TSSC    equ 0x48
SEL_TSSLIM  equ 0x50            ; TSS descriptor with limit 0x60 (< 0x67)
SEL_TGATE   equ 0x58            ; task gate in the GDT -> TSS B
SEL_TSSNP   equ 0x60            ; not-present TSS
TB_EAX      equ 0xB0B0B0B0

section .rodata
guest_banner: db "cputest tasks", 13, 10, 0

section .data
align 128
tss_b:      times TSS_SIZE db 0
align 128
tss_c:      times TSS_SIZE db 0

section .text
; init_tss_b(mode in EAX): fresh TSS B entering task_b with mode 0 (JMP back), 1 (IRET),
; 2 (exception: pop error code, redirect task A to [tb_fix], IRET).
init_tss_b:
    pushad
    mov [tb_mode], eax
    mov edi, tss_b
    mov ecx, TSS_SIZE / 4
    xor eax, eax
    rep stosd
    mov dword [tss_b + TSS_EIP], task_b
    mov dword [tss_b + TSS_EFLAGS], 0x2
    mov dword [tss_b + TSS_ESP], taskb_stack_top
    mov dword [tss_b + TSS_EAX], TB_EAX
    mov dword [tss_b + TSS_CS], SEL_KCODE
    mov dword [tss_b + TSS_SS], SEL_KDATA
    mov dword [tss_b + TSS_DS], SEL_KDATA
    mov dword [tss_b + TSS_ES], SEL_KDATA
    mov dword [tss_b + TSS_FS], SEL_KDATA
    mov dword [tss_b + TSS_GS], SEL_KDATA
    mov dword [tss_b + TSS_ESP0], taskb_stack_top
    mov dword [tss_b + TSS_SS0], SEL_KDATA
    mov word [tss_b + TSS_IOMAP], TSS_SIZE
    mov eax, cr3
    mov [tss_b + TSS_CR3], eax
    mov [main_tss + TSS_CR3], eax
    GDT_DESC SEL_TSSB, tss_b, TSS_SIZE - 1, ACC_TSS32, FLG_32
    popad
    ret

; busy(selector in EAX) -> EAX = 2 if the TSS descriptor is busy, else 0
busy:
    call gdt_access
    and eax, 2
    ret

main:
    GDT_DESC SEL_TSSC, tss_c, TSS_SIZE - 1, ACC_TSS32, FLG_32
    GDT_DESC SEL_TSSLIM, tss_c, 0x60, ACC_TSS32, FLG_32
    GDT_DESC SEL_TSSNP, tss_c, TSS_SIZE - 1, ACC_TSS32 & 0x7F, FLG_32
    GDT_GATE SEL_TGATE, 0, SEL_TSSB, GATE_TASK, 0
    IDT_GATE 0x50, 0, SEL_TSSB, GATE_TASK

    ; --- 1. JMP to a TSS (§7.3; Table 7-2): old task not busy, new busy, NT and link unchanged.
    xor eax, eax
    call init_tss_b
    mov eax, 0xA0A0A0A0
    jmp SEL_TSSB:0
.after_jmp:
    CHECK "jmp-tss: task A registers restored on return", 0xA0A0A0A0, eax
    CHECK "jmp-tss: TR in task B", SEL_TSSB, [tb_tr]
    CHECK "jmp-tss: B's registers loaded from its TSS", TB_EAX, [tb_eax]
    CHECK "jmp-tss: ESP from TSS", taskb_stack_top, [tb_esp]
    mov eax, [tb_eflags]
    and eax, EFL_NT
    CHECK "jmp-tss: NT clear in B", 0, eax
    CHECK "jmp-tss: B's link field untouched", 0, [tb_link]
    CHECK "jmp-tss: A not busy while B runs", 0, [tb_busy_a]
    CHECK "jmp-tss: B busy while B runs", 2, [tb_busy_b]
    CHECK "jmp-tss: CR0.TS set by the switch", 8, [tb_ts]
    CHECK "jmp-tss: A's EIP saved in A's TSS", .after_jmp, [main_tss + TSS_EIP]
    CHECK "jmp-tss: A's EAX saved in A's TSS", 0xA0A0A0A0, [main_tss + TSS_EAX]
    xor eax, eax
    str ax
    CHECK "jmp-tss: back in A (TR)", SEL_TSS, eax
    mov eax, SEL_TSSB
    call busy
    CHECK "jmp-tss: B not busy after JMP back", 0, eax
    mov eax, SEL_TSS
    call busy
    CHECK "jmp-tss: A busy again", 2, eax
    mov eax, cr0
    and eax, 8
    CHECK "jmp-tss: CR0.TS set in A after switching back", 8, eax
    clts

    ; --- 2. CALL to a TSS: NT set in B, link = A, A stays busy; IRET returns (task return).
    mov eax, 1
    call init_tss_b
    call SEL_TSSB:0
    mov eax, [tb_eflags]
    and eax, EFL_NT
    CHECK "call-tss: NT set in B", EFL_NT, eax
    CHECK "call-tss: B's link = A", SEL_TSS, [tb_link]
    CHECK "call-tss: A stays busy", 2, [tb_busy_a]
    CHECK "call-tss: B busy", 2, [tb_busy_b]
    xor eax, eax
    str ax
    CHECK "iret-nt: back in A (TR)", SEL_TSS, eax
    mov eax, SEL_TSSB
    call busy
    CHECK "iret-nt: B not busy after IRET", 0, eax
    mov eax, [tss_b + TSS_EFLAGS]
    and eax, EFL_NT
    CHECK "iret-nt: NT cleared in B's saved EFLAGS", 0, eax
    pushfd
    pop eax
    and eax, EFL_NT
    CHECK "iret-nt: A's NT restored (clear)", 0, eax
    clts

    ; --- 3. INT n through a task gate in the IDT (§6.12.2): like CALL, nothing pushed on B's stack.
    mov eax, 1
    call init_tss_b
    int 0x50
    CHECK "int-taskgate: TR in B", SEL_TSSB, [tb_tr]
    mov eax, [tb_eflags]
    and eax, EFL_NT
    CHECK "int-taskgate: NT set in B", EFL_NT, eax
    CHECK "int-taskgate: B's link = A", SEL_TSS, [tb_link]
    CHECK "int-taskgate: no frame pushed on B's stack", taskb_stack_top, [tb_esp]
    clts

    ; --- 4. JMP through a task gate in the GDT.
    xor eax, eax
    call init_tss_b
    jmp SEL_TGATE:0
.after_gate_jmp:
    CHECK "jmp-taskgate: TR in B", SEL_TSSB, [tb_tr]
    CHECK "jmp-taskgate: A not busy while B runs", 0, [tb_busy_a]
    clts

    ; --- 5. An exception through a task gate: the error code goes on the new task's stack.
    mov eax, 2
    call init_tss_b
    mov dword [tb_fix], .after_exc
    IDT_GATE 13, 0, SEL_TSSB, GATE_TASK
    mov ax, 0x1000
    mov ds, ax                      ; #GP(0x1000) -> task B
.after_exc:
    IDT_GATE 13, stub_13, SEL_KCODE, GATE_INT
    CHECK "exc-taskgate: TR in B", SEL_TSSB, [tb_tr]
    CHECK "exc-taskgate: error code pushed on B's stack", taskb_stack_top - 4, [tb_esp]
    CHECK "exc-taskgate: error code value", 0x1000, [tb_top]
    CHECK "exc-taskgate: B's link = A", SEL_TSS, [tb_link]
    clts

    ; --- 6. Busy rules and bad switches.
    TRY .t6
    jmp SEL_TSS:0                   ; the running task is busy
.t6:
    ENDTRY
    CHECK "jmp-busy-tss: #GP", 13, [exc_vec]
    CHECK "jmp-busy-tss: error code = TSS selector", SEL_TSS, [exc_err]
    TRY .t7
    call SEL_TSS:0
.t7:
    ENDTRY
    CHECK "call-busy-tss: #GP", 13, [exc_vec]
    CHECK "call-busy-tss: error code = TSS selector", SEL_TSS, [exc_err]
    TRY .t8
    mov ax, SEL_TSS
    ltr ax
.t8:
    ENDTRY
    CHECK "ltr-busy-tss: #GP", 13, [exc_vec]
    CHECK "ltr-busy-tss: error code = selector", SEL_TSS, [exc_err]
    mov word [main_tss + TSS_LINK], SEL_TSSC   ; C is available, not busy
    TRY .t9
    pushfd
    or dword [esp], EFL_NT
    popfd
    iretd
.t9:
    ENDTRY
    mov word [main_tss + TSS_LINK], 0
    CHECK "iret-nt-to-available-tss: #TS", 10, [exc_vec]
    CHECK "iret-nt-to-available-tss: error code = link selector", SEL_TSSC, [exc_err]
    TRY .t10
    jmp SEL_TSSLIM:0
.t10:
    ENDTRY
    CHECK "jmp-tss-limit-below-67h: #TS", 10, [exc_vec]
    CHECK "jmp-tss-limit-below-67h: error code", SEL_TSSLIM, [exc_err]
    TRY .t11
    jmp SEL_TSSNP:0
.t11:
    ENDTRY
    CHECK "jmp-tss-not-present: #NP", 11, [exc_vec]
    CHECK "jmp-tss-not-present: error code", SEL_TSSNP, [exc_err]
    TRY .t12
    RING3 r3_jmp_tss, 0x202
.t12:
    ENDTRY
    CHECK "jmp-tss-dpl0-from-cpl3: #GP", 13, [exc_vec]
    CHECK "jmp-tss-dpl0-from-cpl3: error code", SEL_TSSC, [exc_err]
    mov eax, SEL_TSSC
    call busy
    CHECK "failed switches leave C not busy", 0, eax
    xor eax, eax
    str ax
    CHECK "failed switches leave TR alone", SEL_TSS, eax
    jmp finish

r3_jmp_tss:
    jmp (SEL_TSSC | 3):0
    int 0x7F

; Task B: record what it sees, then return per tb_mode.
task_b:
    mov [tb_eax], eax
    mov [tb_esp], esp
    mov eax, [esp]
    mov [tb_top], eax
    xor eax, eax
    str ax
    mov [tb_tr], eax
    pushfd
    pop dword [tb_eflags]
    movzx eax, word [tss_b + TSS_LINK]
    mov [tb_link], eax
    mov eax, SEL_TSS
    call busy
    mov [tb_busy_a], eax
    mov eax, SEL_TSSB
    call busy
    mov [tb_busy_b], eax
    mov eax, cr0
    and eax, 8
    mov [tb_ts], eax
    clts
    cmp dword [tb_mode], 0
    jne .not_jmp
    jmp SEL_TSS:0
.not_jmp:
    cmp dword [tb_mode], 1
    je .iret
    add esp, 4                      ; drop the error code
    mov eax, [tb_fix]
    mov [main_tss + TSS_EIP], eax
.iret:
    iretd
    jmp task_b

section .bss
tb_mode:    resd 1
tb_fix:     resd 1
tb_eax:     resd 1
tb_esp:     resd 1
tb_top:     resd 1
tb_tr:      resd 1
tb_eflags:  resd 1
tb_link:    resd 1
tb_busy_a:  resd 1
tb_busy_b:  resd 1
tb_ts:      resd 1
alignb 16
            resb 4096
taskb_stack_top:
