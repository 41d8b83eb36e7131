; doublefault — exception classes and the double-fault rules (SDM Vol. 3A §6.15 "Interrupt 8—Double
; Fault Exception (#DF)", Table 6-4 (benign/contributory/page fault) and Table 6-5 (conditions for
; generating a double fault)); the EXT bit of error codes (§6.13).
;   contributory + contributory -> #DF(0)         page fault + contributory -> #DF(0)
;   page fault + page fault     -> #DF(0)         contributory + page fault -> serial (no #DF)
;   benign + contributory       -> serial (no #DF)
; The saved CS:EIP of a #DF is undefined (§6.15) and is not checked.
%include "lib.inc"

SEL_TSSK    equ 0x40                ; the "catch" task used through task gates
UNMAPPED    equ 0x02000000          ; PDE 8 is not present
P_RW        equ 3

section .rodata
guest_banner: db "cputest doublefault", 13, 10, 0

section .data
align 128
tss_k:      times TSS_SIZE db 0

section .text
main:
    ; identity-map 0..8 MiB (supervisor, writable); everything above is unmapped
    mov edi, pt_id
    mov eax, P_RW
    mov ecx, 2 * 1024
.fill:
    stosd
    add eax, 4096
    loop .fill
    mov dword [page_dir + 0], pt_id + P_RW
    mov dword [page_dir + 4], pt_id + 4096 + P_RW
    mov eax, page_dir
    mov [main_tss + TSS_CR3], eax
    mov cr3, eax
    ; the catch task
    mov dword [tss_k + TSS_EIP], catch_task
    mov dword [tss_k + TSS_EFLAGS], 2
    mov dword [tss_k + TSS_ESP], k_stack_top
    mov dword [tss_k + TSS_CS], SEL_KCODE
    mov dword [tss_k + TSS_SS], SEL_KDATA
    mov dword [tss_k + TSS_DS], SEL_KDATA
    mov dword [tss_k + TSS_ES], SEL_KDATA
    mov dword [tss_k + TSS_FS], SEL_KDATA
    mov dword [tss_k + TSS_GS], SEL_KDATA
    mov [tss_k + TSS_CR3], eax
    mov word [tss_k + TSS_IOMAP], TSS_SIZE
    GDT_DESC SEL_TSSK, tss_k, TSS_SIZE - 1, ACC_TSS32, FLG_32

    ; --- 1. contributory + contributory: #GP whose gate is not present -> #NP -> #DF(0).
    IDT_GATE 13, stub_13, SEL_KCODE, GATE_INT & 0x7F
    TRY .t1
    mov ax, 0x1000
    mov ds, ax
.t1:
    ENDTRY
    IDT_GATE 13, stub_13, SEL_KCODE, GATE_INT
    CHECK "gp+np (contributory+contributory): #DF", 8, [exc_vec]
    CHECK "gp+np (contributory+contributory): error code 0", 0, [exc_err]
    CHECK "gp+np: delivered once", 1, [exc_count]

    ; --- 2. benign + contributory: #UD whose gate is not present -> #NP only, EXT=1 because the
    ; #NP arose while delivering an earlier exception (§6.13).
    IDT_GATE 6, stub_6, SEL_KCODE, GATE_INT & 0x7F
    TRY .t2
    ud2
.t2:
    ENDTRY
    IDT_GATE 6, stub_6, SEL_KCODE, GATE_INT
    CHECK "ud+np (benign+contributory): #NP, no #DF", 11, [exc_vec]
    CHECK "ud+np: error code = 6*8 + IDT + EXT", 6 * 8 + 2 + 1, [exc_err]
    ; a software INT3 is not an external event: EXT=0
    IDT_GATE 3, stub_3, SEL_KCODE, GATE_INT & 0x7F
    TRY .t3
    int3
.t3:
    ENDTRY
    IDT_GATE 3, stub_3, SEL_KCODE, GATE_INT
    CHECK "int3+np: #NP, no #DF", 11, [exc_vec]
    CHECK "int3+np: error code = 3*8 + IDT (EXT=0)", 3 * 8 + 2, [exc_err]

    ; paging on for the page-fault classes
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:

    ; --- 3. page fault + contributory: #PF whose gate is not present -> #DF(0).
    IDT_GATE 14, stub_14, SEL_KCODE, GATE_INT & 0x7F
    TRY .t4
    mov eax, [UNMAPPED + 0x10]
.t4:
    ENDTRY
    IDT_GATE 14, stub_14, SEL_KCODE, GATE_INT
    CHECK "pf+np (page fault+contributory): #DF", 8, [exc_vec]
    CHECK "pf+np: error code 0", 0, [exc_err]

    ; --- 4. page fault + page fault: the #PF frame cannot be pushed (ESP unmapped) -> #DF(0),
    ; taken through a task gate so that it gets a good stack.
    IDT_GATE 8, 0, SEL_TSSK, GATE_TASK
    mov dword [ct_count], 0
    mov dword [ct_fix], .after4
    mov [ct_fix_esp], esp
    mov esp, UNMAPPED + 0x100
    mov eax, [UNMAPPED + 0x5000]
.after4:
    clts
    CHECK "pf+pf: caught once by the task gate", 1, [ct_count]
    CHECK "pf+pf: #DF error code 0 on the new task's stack", 0, [ct_err]
    mov eax, [ct_cr2]
    and eax, ~0xFFF
    CHECK "pf+pf: CR2 = the stack page of the second #PF", UNMAPPED, eax
    CHECK "pf+pf: link = the interrupted task", SEL_TSS, [ct_link]

    ; --- 5. contributory + page fault: #GP whose frame cannot be pushed -> #PF, handled
    ; serially (no #DF). #PF goes through a task gate, #DF stays on the task gate too.
    IDT_GATE 14, 0, SEL_TSSK, GATE_TASK
    mov dword [ct_count], 0
    mov dword [ct_fix], .after5
    mov [ct_fix_esp], esp
    mov esp, UNMAPPED + 0x200
    mov ax, 0x1000
    mov ds, ax
.after5:
    clts
    IDT_GATE 14, stub_14, SEL_KCODE, GATE_INT
    IDT_GATE 8, stub_8, SEL_KCODE, GATE_INT
    CHECK "gp+pf (contributory+page fault): caught once", 1, [ct_count]
    CHECK "gp+pf: the #PF itself arrives (error code: supervisor write, not present)", 2, [ct_err]
    mov eax, [ct_cr2]
    and eax, ~0xFFF
    CHECK "gp+pf: CR2 in the unmapped stack page", UNMAPPED, eax
    jmp finish

; The catch task: record, redirect the interrupted task (A) to [ct_fix] with a good stack, IRET.
catch_task:
    inc dword [ct_count]
    pop dword [ct_err]
    mov eax, cr2
    mov [ct_cr2], eax
    movzx eax, word [tss_k + TSS_LINK]
    mov [ct_link], eax
    mov eax, [ct_fix]
    mov [main_tss + TSS_EIP], eax
    mov eax, [ct_fix_esp]
    mov [main_tss + TSS_ESP], eax
    mov dword [main_tss + TSS_DS], SEL_KDATA
    iretd
    jmp catch_task

section .bss
ct_count:   resd 1
ct_err:     resd 1
ct_cr2:     resd 1
ct_link:    resd 1
ct_fix:     resd 1
ct_fix_esp: resd 1
alignb 4096
page_dir:   resb 4096
pt_id:      resb 2 * 4096
            resb 4096
k_stack_top:
