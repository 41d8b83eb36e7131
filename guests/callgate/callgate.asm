; callgate — far CALL/JMP through call gates, as a kernel and its user programs use them, checked
; against the SDM (Vol. 3A §5.8.4–5.8.6; Vol. 2 CALL, JMP, RET). Natively the CPU does it all.
; Under trap-and-emulate and binary translation the real GDT is a shadow without gates, so every
; gate use faults (or is a callout) and the VMM must perform it on the guest's own descriptors:
; the gate and target checks, the TSS stack switch with the parameters copied, the frame with the
; guest's own selectors (RPL 0, not the real ring 1), and the far RET back.
; A task gate is not here: a hardware task switch stops the VM under both techniques (tested).
%include "../cputests/lib.inc"

SEL_CG0     equ 0x40            ; call gate DPL0 -> kernel code (same privilege), 3 params (ignored)
SEL_CG3     equ 0x4B            ; call gate DPL3 -> kernel code, 2 dword parameters (RPL 3)
SEL_CGLOW   equ 0x53            ; call gate DPL0: a CPL-3 caller fails the gate DPL check
SEL_CGNP    equ 0x5B            ; call gate DPL3, not present

section .rodata
guest_banner: db "callgate", 13, 10, 0

section .text
main:
    GDT_GATE SEL_CG0, cg_same_target, SEL_KCODE, GATE_CALL, 3
    GDT_GATE SEL_CG3, cg_inner_target, SEL_KCODE, GATE_CALL | DPL3, 2
    GDT_GATE SEL_CGLOW, cg_inner_target, SEL_KCODE, GATE_CALL, 0
    GDT_GATE SEL_CGNP, cg_inner_target, SEL_KCODE, (GATE_CALL | DPL3) & 0x7F, 0

    ; --- 1. CALL through a gate to the same privilege (§5.8.5): no stack switch, parameter
    ; count ignored, the caller's CS (RPL 0) and EIP pushed; RETF comes back.
    mov ebp, esp
    call SEL_CG0:0
after_cg0:
    CHECK "same: return EIP pushed", after_cg0, [cg_ret_eip]
    mov eax, [cg_ret_cs]
    and eax, 0xFFFF
    CHECK "same: caller CS pushed (RPL 0)", SEL_KCODE, eax
    lea eax, [ebp - 8]
    CHECK "same: no stack switch, 8 bytes pushed", eax, [cg_esp]
    CHECK "same: RETF restored ESP", ebp, esp

    ; --- 2. JMP through the same gate: nothing pushed, execution continues at the gate's target.
    mov dword [jmp_mode], 1
    mov ebp, esp
    jmp SEL_CG0:0x1234          ; the offset in the instruction is ignored (§5.8.4)
after_jmp:
    CHECK "jmp: reached the gate's target", 1, [jmp_hit]
    CHECK "jmp: nothing pushed", ebp, [cg_esp]

    ; --- 3. Ring 3 -> ring 0 through a DPL-3 gate with 2 parameters (§5.8.5, Figure 5-13): the
    ; stack from TSS.SS0:ESP0, then the caller's SS, ESP, the parameters copied, CS, EIP.
    TRY .t3
    RING3 r3_call, 0x202
.t3:
    ENDTRY
    CHECK "inner: ring-3 code came back through int 0x7F", 0x7F, [exc_vec]
    CHECK "inner: new ESP = TSS.ESP0 - 24", ring0_stack_top - 24, [cg_esp]
    CHECK "inner: frame EIP", r3_after, [cg_frame]
    mov eax, [cg_frame + 4]
    and eax, 0xFFFF
    CHECK "inner: frame CS", SEL_UCODE, eax
    CHECK "inner: frame parameter 2 (pushed last)", 0x22222222, [cg_frame + 8]
    CHECK "inner: frame parameter 1", 0x11111111, [cg_frame + 12]
    CHECK "inner: frame caller ESP", user_stack_top - 8, [cg_frame + 16]
    mov eax, [cg_frame + 20]
    and eax, 0xFFFF
    CHECK "inner: frame caller SS", SEL_UDATA, eax
    CHECK "inner: RETF 8 back at ring 3 popped the parameters", user_stack_top, [r3_esp]
    CHECK "inner: RETF 8 back at ring 3 (CPL 3)", 3, [r3_cpl]

    ; --- 4. A CPL-3 caller and a DPL-0 gate: #GP(gate selector) (§5.8.4).
    TRY .t4
    RING3 r3_low, 0x202
.t4:
    ENDTRY
    CHECK "gate DPL < CPL: #GP", 13, [exc_vec]
    CHECK "gate DPL < CPL: error code = gate selector", SEL_CGLOW & 0xFFF8, [exc_err]

    ; --- 5. A not-present gate: #NP(gate selector).
    TRY .t5
    RING3 r3_np, 0x202
.t5:
    ENDTRY
    CHECK "gate not present: #NP", 11, [exc_vec]
    CHECK "gate not present: error code = gate selector", SEL_CGNP & 0xFFF8, [exc_err]
    jmp finish

cg_same_target:
    cmp dword [jmp_mode], 0     ; set only for the JMP of part 2
    jne .jmp
    mov [cg_esp], esp
    mov eax, [esp]
    mov [cg_ret_eip], eax
    mov eax, [esp + 4]
    mov [cg_ret_cs], eax
    retf
.jmp:
    mov [cg_esp], esp
    mov dword [jmp_hit], 1
    jmp after_jmp

cg_inner_target:                ; CPL 0 on the TSS stack; DS is still the caller's (DPL 3)
    mov [cg_esp], esp
    mov eax, [esp]
    mov [cg_frame], eax
    mov eax, [esp + 4]
    mov [cg_frame + 4], eax
    mov eax, [esp + 8]
    mov [cg_frame + 8], eax
    mov eax, [esp + 12]
    mov [cg_frame + 12], eax
    mov eax, [esp + 16]
    mov [cg_frame + 16], eax
    mov eax, [esp + 20]
    mov [cg_frame + 20], eax
    retf 8

r3_call:
    push dword 0x11111111
    push dword 0x22222222
    call SEL_CG3:0
r3_after:
    mov [r3_esp], esp
    mov eax, cs                 ; CS.RPL is the CPL: a read at ring 3 is the same real or virtual
    and eax, 3
    mov [r3_cpl], eax
    int 0x7F

r3_low:
    call SEL_CGLOW:0
    int 0x7F

r3_np:
    call SEL_CGNP:0
    int 0x7F

section .bss
cg_esp:     resd 1
cg_ret_eip: resd 1
cg_ret_cs:  resd 1
cg_frame:   resd 6
jmp_hit:    resd 1
jmp_mode:   resd 1
r3_esp:     resd 1
r3_cpl:     resd 1
