; singlestep — debug exceptions (SDM Vol. 3A chapter 17): TF single-step traps (§17.3.1.4) with
; DR6.BS, instruction breakpoints in DR0-DR3 (fault before the instruction) resumed with RF
; (§17.3.1.1), data breakpoints (trap after the access, §17.3.1.2), DR6 sticky bits (§17.2.3),
; and the MOV SS interrupt/debug shadow (§6.8.3: no single-step trap after MOV SS).
; A single-step trap is taken after an instruction that *started* with TF=1: none after the POPF
; that sets TF, one after the POPF that clears it.
%include "lib.inc"

DR6_BS      equ 0x4000
DR6_B       equ 0x000F

; TF_ON / TF_OFF: three instructions each; TF_OFF's three all trap (TF=1 when each starts).
%macro TF_ON 0
    pushfd
    or dword [esp], EFL_TF
    popfd
%endmacro
%macro TF_OFF 1                     ; label prefix for the three instruction boundaries
    pushfd
%1_1:
    and dword [esp], ~EFL_TF
%1_2:
    popfd
%1_3:
%endmacro

section .rodata
guest_banner: db "cputest singlestep", 13, 10, 0

section .text
main:
    IDT_GATE 1, db_handler, SEL_KCODE, GATE_INT
    xor eax, eax
    mov dr7, eax
    mov dr6, eax

    ; --- 1. TF single-step
    call db_reset
    TF_ON
s1_a:
    nop
s1_b:
    nop
s1_c:
    mov eax, 1
s1_d:
    TF_OFF s1_e
    CHECK "tf: trap count (3 instructions + TF_OFF's 3)", 6, [db_n]
    CHECK "tf: no trap after the POPF that set TF; first after the next", s1_b, [db_eips]
    CHECK "tf: trap EIP #2", s1_c, [db_eips + 4]
    CHECK "tf: trap EIP #3", s1_d, [db_eips + 8]
    CHECK "tf: trap after the POPF that clears TF", s1_e_3, [db_eips + 20]
    mov eax, [db_dr6s]
    and eax, DR6_BS | DR6_B
    CHECK "tf: DR6.BS set", DR6_BS, eax
    mov eax, [db_efls]
    and eax, EFL_TF
    CHECK "tf: pushed EFLAGS has TF", EFL_TF, eax
    pushfd
    pop eax
    and eax, EFL_TF
    CHECK "tf: TF clear afterwards", 0, eax

    ; --- 2. MOV SS shadow: no trap after MOV SS; the next one comes after the following instr.
    call db_reset
    mov ax, SEL_KDATA
    TF_ON
s2_a:
    nop
s2_b:
    mov ss, ax
s2_c:
    nop
s2_d:
    TF_OFF s2_e
    CHECK "mov-ss-shadow: trap count", 5, [db_n]
    CHECK "mov-ss-shadow: trap before MOV SS", s2_b, [db_eips]
    CHECK "mov-ss-shadow: next trap after the instruction following MOV SS", s2_d, [db_eips + 4]

    ; --- 2b. POP SS has the same shadow.
    call db_reset
    push dword SEL_KDATA
    TF_ON
s2b_a:
    nop
s2b_b:
    pop ss
s2b_c:
    nop
s2b_d:
    TF_OFF s2b_e
    CHECK "pop-ss-shadow: trap count", 5, [db_n]
    CHECK "pop-ss-shadow: trap before POP SS", s2b_b, [db_eips]
    CHECK "pop-ss-shadow: next trap after the instruction following POP SS", s2b_d, [db_eips + 4]

    ; --- 3. Instruction breakpoint (DR0, R/W=00, LEN=00): fault with EIP = the instruction,
    ; DR6.B0; the handler sets RF so the instruction runs once; RF is cleared after it completes,
    ; so the breakpoint fires again on the next pass.
    call db_reset
    mov byte [db_setrf], 1
    mov eax, s3_bp
    mov dr0, eax
    mov eax, 0x00000001             ; L0
    mov dr7, eax
    mov ecx, 2
    xor ebx, ebx
s3_loop:
s3_bp:
    inc ebx
    dec ecx
    jnz s3_loop
    xor eax, eax
    mov dr7, eax
    mov byte [db_setrf], 0
    CHECK "dr0-exec: fired once per pass", 2, [db_n]
    CHECK "dr0-exec: fault EIP = the instruction", s3_bp, [db_eips]
    CHECK "dr0-exec: instruction ran exactly once per pass (RF)", 2, ebx
    mov eax, [db_dr6s]
    and eax, DR6_BS | DR6_B
    CHECK "dr0-exec: DR6.B0", 1, eax

    ; --- 3b. Same with DR3 (R/W=00, LEN=00, enabled globally with G3).
    call db_reset
    mov byte [db_setrf], 1
    mov eax, s3b_bp
    mov dr3, eax
    mov eax, 0x00000080             ; G3
    mov dr7, eax
    nop
s3b_bp:
    nop
    xor eax, eax
    mov dr7, eax
    mov byte [db_setrf], 0
    CHECK "dr3-exec: fired once", 1, [db_n]
    CHECK "dr3-exec: fault EIP = the instruction", s3b_bp, [db_eips]
    mov eax, [db_dr6s]
    and eax, DR6_BS | DR6_B
    CHECK "dr3-exec: DR6.B3", 8, eax

    ; --- 4. Data write breakpoint (DR1, R/W=01, LEN=11): trap after the write.
    call db_reset
    mov dword [watch_var], 0
    mov eax, watch_var
    mov dr1, eax
    mov eax, 0x00D00004             ; L1, RW1=01 (write), LEN1=11 (4 bytes)
    mov dr7, eax
    mov eax, [watch_var]            ; a read does not match a write breakpoint
    mov dword [watch_var], 0x77
s4_after:
    mov byte [watch_var + 3], 0x11  ; any byte inside the 4-byte range matches
s4_after2:
    nop
    xor eax, eax
    mov dr7, eax
    CHECK "dr1-write: fired for the two writes only", 2, [db_n]
    CHECK "dr1-write: trap EIP = next instruction", s4_after, [db_eips]
    CHECK "dr1-write: the write already happened", 0x77, [db_vals]
    mov eax, [db_dr6s]
    and eax, DR6_BS | DR6_B
    CHECK "dr1-write: DR6.B1", 2, eax
    CHECK "dr1-write: byte write inside the range", s4_after2, [db_eips + 4]

    ; --- 5. Data read/write breakpoint (DR2, R/W=11) fires on a read.
    call db_reset
    mov eax, watch_var
    mov dr2, eax
    mov eax, 0x0F000010             ; L2, RW2=11, LEN2=11
    mov dr7, eax
    mov eax, [watch_var]
s5_after:
    xor eax, eax
    mov dr7, eax
    CHECK "dr2-readwrite: fired on a read", 1, [db_n]
    CHECK "dr2-readwrite: trap EIP = next instruction", s5_after, [db_eips]
    mov eax, [db_dr6s]
    and eax, DR6_BS | DR6_B
    CHECK "dr2-readwrite: DR6.B2", 4, eax

    ; --- 6. DR6 is sticky (§17.2.3): "Certain debug exceptions may clear bits 0-3. The remaining
    ; contents of the DR6 register are never cleared by the processor." So a BS bit left in DR6
    ; survives a later data-breakpoint #DB (B0-B3 themselves may legitimately be cleared).
    mov eax, watch_var2
    mov dr1, eax
    mov eax, 0x00D00004             ; L1 RW1=01 LEN1=11
    mov dr7, eax
    mov byte [db_keepdr6], 1
    call db_reset
    mov eax, DR6_BS
    mov dr6, eax
    mov dword [watch_var2], 2
    xor eax, eax
    mov dr7, eax
    mov byte [db_keepdr6], 0
    CHECK "dr6-sticky: one trap", 1, [db_n]
    mov eax, [db_dr6s]
    and eax, DR6_BS | DR6_B
    CHECK "dr6-sticky: B1 set and the old BS kept", DR6_BS | 2, eax
    xor eax, eax
    mov dr6, eax
    jmp finish

db_reset:
    mov dword [db_n], 0
    ret

; #DB handler: record EIP, DR6, EFLAGS and watch_var; clear DR6 (unless told not to); set RF for
; instruction breakpoints; stop stepping if it runs away.
db_handler:
    push eax
    push ebx
    mov ebx, [db_n]
    cmp ebx, 16
    jae .full
    mov eax, [esp + 8]
    mov [db_eips + ebx * 4], eax
    mov eax, [esp + 16]
    mov [db_efls + ebx * 4], eax
    mov eax, dr6
    mov [db_dr6s + ebx * 4], eax
    mov eax, dr7                    ; the handler's own read must not hit a data breakpoint
    push eax
    xor eax, eax
    mov dr7, eax
    mov eax, [watch_var]
    mov [db_vals + ebx * 4], eax
    pop eax
    mov dr7, eax
    jmp .recorded
.full:
    and dword [esp + 16], ~EFL_TF   ; runaway: stop
    xor eax, eax
    mov dr7, eax
.recorded:
    inc dword [db_n]
    cmp byte [db_keepdr6], 0
    jne .keep
    xor eax, eax
    mov dr6, eax
.keep:
    cmp byte [db_setrf], 0
    je .out
    or dword [esp + 16], EFL_RF
.out:
    pop ebx
    pop eax
    iretd

section .bss
db_n:       resd 1
db_eips:    resd 16
db_efls:    resd 16
db_dr6s:    resd 16
db_vals:    resd 16
watch_var:  resd 1
watch_var2: resd 1
db_setrf:   resb 1
db_keepdr6: resb 1
