; gates — call gates, privilege-changing INT through interrupt/trap gates, far RET to an outer
; ring, and the error codes of #GP/#NP/#SS/#TS for bad selectors and gates.
; SDM Vol. 3A §5.8 (privilege level checking when transferring program control), §6.12 (exception
; and interrupt handling), §6.13 (error code), §6.15 (exception reference); Vol. 2 CALL/RET/INT n.
%include "lib.inc"

SEL_CG0     equ 0x40            ; call gate DPL0 -> DPL0 code (same privilege), param count 3
SEL_CG3     equ 0x4B            ; call gate DPL3 -> DPL0 code, 2 parameters (RPL 3)
SEL_CGLOW   equ 0x53            ; call gate DPL0 (a CPL-3 caller fails the gate DPL check)
SEL_CGNP    equ 0x5B            ; call gate DPL3, not present
SEL_DNP     equ 0x60            ; data segment, not present
SEL_XO      equ 0x68            ; execute-only code segment
SEL_CG1     equ 0x73            ; call gate DPL3 -> DPL1 code, no parameters
SEL_RO      equ 0x78            ; read-only data segment
SEL_LIM     equ 0x80            ; data segment with limit 0xFFF (byte granular)
SEL_USMALL  equ 0x8B            ; DPL3 data segment with limit 0xFFF, for a ring-3 stack
SEL_CONF    equ 0x90            ; conforming code segment, DPL0
SEL_EXPDN   equ 0x98            ; expand-down data segment, limit 0xFFF, B=1
SEL_NOTACC  equ 0xA0            ; data segment with the accessed bit clear

section .rodata
guest_banner: db "cputest gates", 13, 10, 0

section .text
main:
    GDT_GATE SEL_CG0, cg_same_target, SEL_KCODE, GATE_CALL, 3
    GDT_GATE SEL_CG3, cg_inner_target, SEL_KCODE, GATE_CALL | DPL3, 2
    GDT_GATE SEL_CGLOW, cg_inner_target, SEL_KCODE, GATE_CALL, 0
    GDT_GATE SEL_CGNP, cg_inner_target, SEL_KCODE, (GATE_CALL | DPL3) & 0x7F, 0
    GDT_GATE SEL_CG1, cg_ring1_target, SEL_C1, GATE_CALL | DPL3, 0
    GDT_DESC SEL_DNP, 0, 0xFFFFF, ACC_DATA0 & 0x7F, FLG_32G
    GDT_DESC SEL_XO, 0, 0xFFFFF, 0x98, FLG_32G
    IDT_GATE 0x40, int40_handler, SEL_KCODE, GATE_INT | DPL3
    IDT_GATE 0x41, int41_handler, SEL_KCODE, GATE_TRAP | DPL3
    IDT_GATE 0x42, stub_66, SEL_KCODE, GATE_INT                 ; DPL0
    IDT_GATE 0x43, stub_67, SEL_KCODE, (GATE_INT | DPL3) & 0x7F ; not present

    ; --- 1. Call gate to the same privilege level (§5.8.5): no stack switch, parameter count
    ; ignored, CS:EIP of the caller pushed.
    mov ebp, esp
    call SEL_CG0:0
after_cg0:
    CHECK "callgate-same: return EIP pushed", after_cg0, [cg_ret_eip]
    mov eax, [cg_ret_cs]
    and eax, 0xFFFF
    CHECK "callgate-same: caller CS pushed", SEL_KCODE, eax
    lea eax, [ebp - 8]
    CHECK "callgate-same: no stack switch, 8 bytes pushed", eax, [cg_esp]
    CHECK "callgate-same: target CS", SEL_KCODE, [cg_cs]
    CHECK "callgate-same: ESP restored by RETF", ebp, esp

    ; --- 2. Ring 3 -> ring 0 through a call gate with 2 dword parameters (§5.8.5, Figure 5-13):
    ; new stack from TSS.SS0:ESP0, then caller SS, ESP, the parameters copied, CS, EIP.
    TRY .t2
    RING3 r3_cg_call, 0x202
.t2:
    ENDTRY
    CHECK "callgate-inner: ring-3 code returned via int 0x7F", 0x7F, [exc_vec]
    CHECK "callgate-inner: new ESP = TSS.ESP0 - 24", ring0_stack_top - 24, [cg_esp]
    CHECK "callgate-inner: new SS = TSS.SS0", SEL_KDATA, [cg_ss]
    CHECK "callgate-inner: target CS", SEL_KCODE, [cg_cs]
    CHECK "callgate-inner: frame EIP", r3_after_cg3, [cg_frame]
    mov eax, [cg_frame + 4]
    and eax, 0xFFFF
    CHECK "callgate-inner: frame CS", SEL_UCODE, eax
    CHECK "callgate-inner: frame param 2 (last pushed)", 0x22222222, [cg_frame + 8]
    CHECK "callgate-inner: frame param 1", 0x11111111, [cg_frame + 12]
    CHECK "callgate-inner: frame caller ESP", user_stack_top - 8, [cg_frame + 16]
    mov eax, [cg_frame + 20]
    and eax, 0xFFFF
    CHECK "callgate-inner: frame caller SS", SEL_UDATA, eax
    ; RETF 8 back to ring 3 (§5.8.6, RET "RETURN-TO-OUTER-PRIVILEGE-LEVEL"): parameters released
    ; on both stacks; DS/FS held DPL0 data (DPL < new CPL) -> nulled; ES (DPL3) and GS (null) kept.
    CHECK "retf-outer: caller ESP after RETF 8", user_stack_top, [exc_eax]
    CHECK "retf-outer: DS (DPL0 data) nulled", 0, [exc_ebx]
    CHECK "retf-outer: ES (DPL3 data) kept", SEL_UDATA, [exc_ecx]
    CHECK "retf-outer: FS (DPL0 data) nulled", 0, [exc_edx]
    CHECK "retf-outer: GS (null) stays null", 0, [exc_esi]
    CHECK "retf-outer: CS back at ring 3", SEL_UCODE, [exc_edi]

    ; --- 2b. IRET to an outer ring nulls the data segment registers the same way (IRET, Vol. 2:
    ; RETURN-TO-OUTER-PRIVILEGE-LEVEL, "FOR each of segment register (ES, FS, GS, and DS)").
    mov ax, SEL_KDATA
    mov ds, ax
    mov es, ax
    mov ax, SEL_UDATA
    mov fs, ax
    xor eax, eax
    mov gs, ax
    TRY .t2b
    push dword SEL_UDATA
    push dword user_stack_top
    push dword 0x202
    push dword SEL_UCODE
    push dword r3_report_segs
    iretd
.t2b:
    ENDTRY
    CHECK "iret-outer: DS (DPL0 data) nulled", 0, [exc_ebx]
    CHECK "iret-outer: ES (DPL0 data) nulled", 0, [exc_ecx]
    CHECK "iret-outer: FS (DPL3 data) kept", SEL_UDATA, [exc_edx]
    CHECK "iret-outer: SS from the frame", SEL_UDATA, [exc_eax]

    ; --- 3. Ring 3 -> ring 1 through a call gate: stack from TSS.SS1:ESP1.
    TRY .t3
    RING3 r3_cg1_call, 0x202
.t3:
    ENDTRY
    CHECK "callgate-ring1: reached ring 1 (CS)", SEL_C1, [exc_eax]
    CHECK "callgate-ring1: SS = TSS.SS1", SEL_D1, [exc_ebx]
    CHECK "callgate-ring1: ESP = TSS.ESP1 - 16", ring1_stack_top - 16, [exc_ecx]

    ; --- 3b. Conforming code (§5.8.1.2): a far CALL from ring 3 to a DPL0 conforming segment is
    ; allowed and keeps CPL 3 (the RPL field of CS shows CPL 3); a far JMP to DPL0 non-conforming
    ; code is not (#GP(selector)).
    GDT_DESC SEL_CONF, 0, 0xFFFFF, 0x9E, FLG_32G
    TRY .t3b
    RING3 r3_call_conf, 0x202
.t3b:
    ENDTRY
    CHECK "conforming-call: reached from ring 3", 0x7F, [exc_vec]
    CHECK "conforming-call: CS in target has RPL = CPL 3", SEL_CONF | 3, [exc_eax]
    CHECK "conforming-call: no stack switch", user_stack_top - 8, [exc_ebx]
    TRY .t3c
    RING3 r3_jmp_kcode, 0x202
.t3c:
    ENDTRY
    CHECK "jmp-nonconforming-dpl0-from-cpl3: #GP", 13, [exc_vec]
    CHECK "jmp-nonconforming-dpl0-from-cpl3: error code", SEL_KCODE, [exc_err]

    ; --- 4. INT n from ring 3 through a DPL3 interrupt gate (§6.12.1, Figure 6-4): stack switch
    ; to TSS.SS0:ESP0, frame SS, ESP, EFLAGS, CS, EIP; IF cleared by an interrupt gate.
    TRY .t4
    RING3 r3_int40, 0x202
.t4:
    ENDTRY
    CHECK "int-gate: vector", 0x40, [exc_vec]
    CHECK "int-gate: frame EIP = next instruction", r3_int40_after, [exc_eip]
    mov eax, [exc_cs]
    and eax, 0xFFFF
    CHECK "int-gate: frame CS", SEL_UCODE, eax
    mov eax, [exc_eflags]
    and eax, EFL_IF | EFL_IOPL3 | EFL_NT | EFL_TF
    CHECK "int-gate: frame EFLAGS has IF=1", EFL_IF, eax
    CHECK "int-gate: frame ESP", user_stack_top, [exc_esp]
    mov eax, [exc_ss]
    and eax, 0xFFFF
    CHECK "int-gate: frame SS", SEL_UDATA, eax
    CHECK "int-gate: handler ESP = TSS.ESP0 - 20", ring0_stack_top - 20, [exc_frame_addr]
    CHECK "int-gate: handler SS = TSS.SS0", SEL_KDATA, [exc_seen_ss]
    mov eax, [handler_eflags]
    and eax, EFL_IF
    CHECK "int-gate: IF cleared in handler", 0, eax

    ; --- 5. Same through a DPL3 trap gate: IF unchanged (§6.12.1.3).
    TRY .t5
    RING3 r3_int41, 0x202
.t5:
    ENDTRY
    CHECK "trap-gate: vector", 0x41, [exc_vec]
    mov eax, [handler_eflags]
    and eax, EFL_IF
    CHECK "trap-gate: IF still set in handler", EFL_IF, eax
    CHECK "trap-gate: handler ESP = TSS.ESP0 - 20", ring0_stack_top - 20, [exc_frame_addr]

    ; --- 6. INT n through a gate with DPL < CPL -> #GP(vector*8 + 2) (§6.12.1.1; IDT bit, §6.13).
    TRY .t6
    RING3 r3_int42, 0x202
.t6:
    ENDTRY
    CHECK "int-gate-dpl: #GP", 13, [exc_vec]
    CHECK "int-gate-dpl: error code = 0x42*8+2", 0x42 * 8 + 2, [exc_err]
    CHECK "int-gate-dpl: faulting EIP = the INT", r3_int42, [exc_eip]

    ; --- 7. INT n through a not-present gate -> #NP(vector*8 + 2).
    TRY .t7
    RING3 r3_int43, 0x202
.t7:
    ENDTRY
    CHECK "int-gate-np: #NP", 11, [exc_vec]
    CHECK "int-gate-np: error code = 0x43*8+2", 0x43 * 8 + 2, [exc_err]

    ; --- 8. Call gate with DPL < CPL -> #GP(gate selector) (§5.8.4).
    TRY .t8
    RING3 r3_call_low, 0x202
.t8:
    ENDTRY
    CHECK "callgate-dpl: #GP", 13, [exc_vec]
    CHECK "callgate-dpl: error code = gate selector", SEL_CGLOW & 0xFFFC, [exc_err]

    ; --- 9. Not-present call gate -> #NP(gate selector) (CALL, Vol. 2).
    TRY .t9
    RING3 r3_call_np, 0x202
.t9:
    ENDTRY
    CHECK "callgate-np: #NP", 11, [exc_vec]
    CHECK "callgate-np: error code = gate selector", SEL_CGNP & 0xFFFC, [exc_err]

    ; --- 10. Call gate to ring 1 with an invalid TSS.SS1 (RPL/DPL 3 != 1) -> #TS(SS selector)
    ; (CALL, Vol. 2: "IF new stack segment selector RPL != DPL of code segment THEN #TS(SS)").
    mov dword [main_tss + TSS_SS1], SEL_UDATA
    TRY .t10
    RING3 r3_cg1_call, 0x202
.t10:
    ENDTRY
    mov dword [main_tss + TSS_SS1], SEL_D1
    CHECK "callgate-ts: #TS", 10, [exc_vec]
    CHECK "callgate-ts: error code = TSS.SS1 selector", SEL_UDATA & 0xFFFC, [exc_err]
    CHECK "callgate-ts: faulting EIP = the CALL", r3_cg1_call, [exc_eip]

    ; --- 11. MOV Sreg faults (MOV, Vol. 2; §5.5-5.7).
    TRY .t11
    mov ax, 0x1000                  ; beyond the GDT limit
    mov ds, ax
.t11:
    ENDTRY
    CHECK "mov-ds-beyond-limit: #GP", 13, [exc_vec]
    CHECK "mov-ds-beyond-limit: error code", 0x1000, [exc_err]
    TRY .t12
    mov ax, SEL_XO                  ; execute-only code into a data segment register
.load_xo:
    mov ds, ax
.t12:
    ENDTRY
    CHECK "mov-ds-execute-only: #GP", 13, [exc_vec]
    CHECK "mov-ds-execute-only: error code", SEL_XO, [exc_err]
    CHECK "mov-ds-execute-only: faulting EIP", .load_xo, [exc_eip]
    TRY .t13
    mov ax, SEL_DNP
    mov es, ax
.t13:
    ENDTRY
    CHECK "mov-es-not-present: #NP", 11, [exc_vec]
    CHECK "mov-es-not-present: error code", SEL_DNP, [exc_err]
    TRY .t14
    mov ax, SEL_DNP
    mov ss, ax
.t14:
    ENDTRY
    CHECK "mov-ss-not-present: #SS", 12, [exc_vec]
    CHECK "mov-ss-not-present: error code", SEL_DNP, [exc_err]
    TRY .t15
    mov ax, SEL_UDATA               ; RPL 3 != CPL 0
    mov ss, ax
.t15:
    ENDTRY
    CHECK "mov-ss-rpl-mismatch: #GP", 13, [exc_vec]
    CHECK "mov-ss-rpl-mismatch: error code", SEL_UDATA & 0xFFFC, [exc_err]
    TRY .t16
    xor eax, eax                    ; null selector into SS at CPL 0 (32-bit mode)
    mov ss, ax
.t16:
    ENDTRY
    CHECK "mov-ss-null: #GP(0)", 13, [exc_vec]
    CHECK "mov-ss-null: error code", 0, [exc_err]
    TRY .t17
    xor eax, eax                    ; null into DS is legal; the use faults with #GP(0)
    mov ds, ax
    mov eax, [0x1000]
.t17:
    ENDTRY
    CHECK "null-ds-use: #GP", 13, [exc_vec]
    CHECK "null-ds-use: error code", 0, [exc_err]

    ; --- 12. Access rights and limits are checked on every access (§5.3 limit checking, §5.4.1;
    ; Vol. 2 MOV: "#GP(0) if the destination is located in a non-writable segment").
    GDT_DESC SEL_RO, 0, 0xFFFFF, 0x90, FLG_32G
    GDT_DESC SEL_LIM, 0, 0xFFF, ACC_DATA0, FLG_32
    mov ax, SEL_RO
    mov es, ax
    mov eax, [es:scratch]           ; reading is fine
    TRY .t18
    mov dword [es:scratch], 1
.t18:
    ENDTRY
    mov ax, SEL_KDATA
    mov es, ax
    CHECK "write-readonly-data-segment: #GP", 13, [exc_vec]
    CHECK "write-readonly-data-segment: error code 0", 0, [exc_err]
    CHECK "write-readonly-data-segment: memory unchanged", 0, [scratch]
    TRY .t19
    mov ax, SEL_RO
    mov ss, ax
.t19:
    ENDTRY
    CHECK "mov-ss-readonly: #GP(selector)", SEL_RO, [exc_err]
    mov ax, SEL_LIM
    mov fs, ax
    mov eax, [fs:0xFFC]             ; last dword inside the limit
    TRY .t20
    mov eax, [fs:0xFFD]             ; straddles the limit
.t20:
    ENDTRY
    mov ax, SEL_KDATA
    mov fs, ax
    CHECK "segment-limit-straddle: #GP", 13, [exc_vec]
    CHECK "segment-limit-straddle: error code 0", 0, [exc_err]
    ; Expand-down segment (§3.4.5.1): valid offsets are limit+1 .. 0xFFFFFFFF (B=1).
    GDT_DESC SEL_EXPDN, 0, 0xFFF, 0x96, FLG_32
    mov ax, SEL_EXPDN
    mov fs, ax
    mov eax, [fs:scratch]           ; far above the limit: valid
    TRY .t23
    mov eax, [fs:0x800]             ; at or below the limit: invalid
.t23:
    ENDTRY
    mov ax, SEL_KDATA
    mov fs, ax
    CHECK "expand-down: offset below the limit #GP", 13, [exc_vec]
    CHECK "expand-down: error code 0", 0, [exc_err]
    ; Loading a segment register sets the descriptor's accessed bit (§3.4.5, type field bit 0).
    GDT_DESC SEL_NOTACC, 0, 0xFFFFF, 0x92, FLG_32G
    mov byte [gdt + SEL_NOTACC + 5], 0x92
    mov ax, SEL_NOTACC
    mov gs, ax
    movzx eax, byte [gdt + SEL_NOTACC + 5]
    CHECK "descriptor-accessed-bit: set by the load", 0x93, eax
    xor eax, eax
    mov gs, ax
    ; a stack access beyond the SS limit -> #SS(0) (§6.15 Interrupt 12), taken at ring 3 so the
    ; handler gets the TSS stack
    GDT_DESC SEL_USMALL, 0, 0xFFF, ACC_DATA0 | DPL3, FLG_32
    TRY .t22
    RING3 r3_small_stack, 0x202
.t22:
    ENDTRY
    CHECK "stack-beyond-ss-limit: #SS", 12, [exc_vec]
    CHECK "stack-beyond-ss-limit: error code 0", 0, [exc_err]
    CHECK "stack-beyond-ss-limit: faulting EIP = the PUSH", r3_small_stack.push, [exc_eip]

    jmp finish


; ---- targets and ring-3 snippets -------------------------------------------------------------
cg_same_target:
    mov [cg_esp], esp
    mov eax, [esp]
    mov [cg_ret_eip], eax
    mov eax, [esp + 4]
    mov [cg_ret_cs], eax
    xor eax, eax
    mov ax, cs
    mov [cg_cs], eax
    retf

cg_inner_target:                    ; CPL 0, DS still the caller's (0x23)
    mov [cg_esp], esp
    push esi
    push edi
    push ecx
    lea esi, [esp + 12]
    mov edi, cg_frame
    mov ecx, 6
    rep movsd
    pop ecx
    pop edi
    pop esi
    xor eax, eax
    mov ax, ss
    mov [cg_ss], eax
    mov ax, cs
    mov [cg_cs], eax
    mov ax, SEL_KDATA
    mov ds, ax
    mov fs, ax
    mov ax, SEL_UDATA
    mov es, ax
    xor eax, eax
    mov gs, ax
    retf 8

cg_ring1_target:                    ; CPL 1
    xor eax, eax
    mov ax, cs
    xor ebx, ebx
    mov bx, ss
    mov ecx, esp
    int 0x7F

r3_cg_call:
    push dword 0x11111111
    push dword 0x22222222
    call SEL_CG3:0
r3_after_cg3:
    mov eax, esp
    xor ebx, ebx
    mov bx, ds
    xor ecx, ecx
    mov cx, es
    xor edx, edx
    mov dx, fs
    xor esi, esi
    mov si, gs
    xor edi, edi
    mov di, cs
    int 0x7F

r3_report_segs:
    xor eax, eax
    mov ax, ss
    xor ebx, ebx
    mov bx, ds
    xor ecx, ecx
    mov cx, es
    xor edx, edx
    mov dx, fs
    int 0x7F

r3_call_conf:
    call SEL_CONF:conf_target
    int 0x7F
conf_target:
    xor eax, eax
    mov ax, cs
    mov ebx, esp
    int 0x7F
r3_jmp_kcode:
    jmp SEL_KCODE:.wrongly_allowed
.wrongly_allowed:
    int 0x7F
r3_small_stack:
    mov ax, SEL_USMALL
    mov ss, ax
    mov esp, 0x2000                 ; beyond the 0xFFF limit
.push:
    push eax
    int 0x7F

r3_cg1_call:
    call SEL_CG1:0
    int 0x7F

r3_int40:
    int 0x40
r3_int40_after:
    int 0x7F
r3_int41:
    int 0x41
    int 0x7F
r3_int42:
    int 0x42
    int 0x7F
r3_int43:
    int 0x43
    int 0x7F
r3_call_low:
    call SEL_CGLOW:0
    int 0x7F
r3_call_np:
    call SEL_CGNP:0
    int 0x7F

int40_handler:
    push eax
    pushfd
    pop eax
    mov [ss:handler_eflags], eax
    pop eax
    jmp stub_64
int41_handler:
    push eax
    pushfd
    pop eax
    mov [ss:handler_eflags], eax
    pop eax
    jmp stub_65

section .bss
cg_esp:         resd 1
cg_ret_eip:     resd 1
cg_ret_cs:      resd 1
cg_cs:          resd 1
cg_ss:          resd 1
cg_frame:       resd 6
handler_eflags: resd 1
scratch:        resd 1
