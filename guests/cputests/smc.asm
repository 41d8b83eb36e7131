; smc — self-modifying code (SDM Vol. 3A §8.1.3 "Handling Self- and Cross-Modifying Code" and
; §11.6 "Self-Modifying Code"). A store to an instruction takes effect for the instructions that
; execute after it; the Pentium and the P6 family snoop their prefetch queue, so even the
; instruction immediately after the store sees the new bytes when it is patched through the same
; linear address. A patch through a *different* linear address (an alias of the same physical
; page) is detected by the physical check on the code cache only: §11.6 tells software to execute
; a jump or a serializing instruction (CPUID) before running it, and that is what the alias checks
; here do (or the loop's backward branch, on the next iteration). Nothing model-specific is checked.
;
; Emulators with a translation/decoded-block cache (TrapLab's blocks.ts, QEMU's TBs, bochs' iCache)
; must invalidate on such stores: each check runs code that a cache would already hold where it
; can (loops patch code that ran on an earlier iteration).
%include "lib.inc"

ALIAS       equ 0x00800000          ; PDE 2 -> pt_alias: two pages aliasing the patched code
P           equ 1
RW          equ 2

section .rodata
guest_banner: db "cputest smc", 13, 10, 0
movsb_src:  db 0xBA                 ; mov edx, 0x5A5A5A5A
            dd 0x5A5A5A5A

section .text
main:
    ; --- same linear address, straight-line code --------------------------------------------
    mov dword [.imm_jmp + 1], 0x12345678
    jmp .imm_jmp
.imm_jmp:
    mov eax, strict dword 0
    CHECK "imm-jmp: patched immediate executed after a JMP", 0x12345678, eax

    mov dword [.imm_next + 1], 0xCAFEBABE
.imm_next:
    mov eax, strict dword 0
    CHECK "imm-next: patched immediate of the very next instruction", 0xCAFEBABE, eax

    xor eax, eax
    mov byte [.op_next], 0x48       ; INC EAX -> DEC EAX
.op_next:
    inc eax
    CHECK "opcode-next: INC patched to DEC right before it runs", 0xFFFFFFFF, eax

    xor eax, eax
    mov byte [.jmp_next + 1], 5     ; JMP +0 -> JMP +5 (over the MOV)
.jmp_next:
    db 0xEB, 0x00
    mov eax, strict dword 1
    CHECK "jmp-disp-next: patched branch displacement taken", 0, eax

    ; --- loops: the patched code already ran on an earlier iteration --------------------------
    mov ecx, 4
    xor ebx, ebx
.loop1:
.loop1_add:
    add ebx, strict dword 1         ; 81 C3 imm32
    cmp ecx, 3
    jne .loop1_skip
    mov dword [.loop1_add + 2], 100
.loop1_skip:
    loop .loop1
    CHECK "loop-later-iteration: body patched on iteration 2 (1+1+100+100)", 202, ebx

    mov ecx, 3
    xor eax, eax
.loop2:
    mov [.loop2_add + 1], ecx
.loop2_add:
    db 0x05                         ; add eax, imm32
    dd 0
    loop .loop2
    CHECK "loop-next-each-iteration: next instruction patched every time (3+2+1)", 6, eax

    ; --- string stores -------------------------------------------------------------------------
    mov edi, .stos_mov + 1
    mov al, 0x11
    mov ecx, 4
    rep stosb
.stos_mov:
    mov eax, strict dword 0
    CHECK "rep-stosb: immediate of the next instruction patched by REP STOSB", 0x11111111, eax

    xor edx, edx
    mov esi, movsb_src
    mov edi, .movs_dst
    mov ecx, 5
    rep movsb
.movs_dst:
    times 5 nop
    CHECK "rep-movsb: instruction copied over NOPs by REP MOVSB", 0x5A5A5A5A, edx

    ; --- data sharing a page with code ----------------------------------------------------------
    mov dword [code_data], 0x600DDA7A
    add dword [code_data], 1
    mov eax, [code_data]
    CHECK "data-in-code-page: store, add, reload", 0x600DDA7B, eax

    ; --- paging on: patch through a second linear address of the same physical page -----------
    mov edi, pt_id
    mov eax, P | RW
    mov ecx, 1024
.fill:
    stosd
    add eax, 4096
    loop .fill
    mov dword [page_dir + 0 * 4], pt_id + (P | RW)
    mov dword [page_dir + 2 * 4], pt_alias + (P | RW)
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
    mov eax, cr0
    shr eax, 31
    CHECK "alias: paging on", 1, eax

    mov eax, .al_jmp + 1
    call map_alias
    mov dword [edx], 0x0A11A5ED
    jmp .al_jmp
.al_jmp:
    mov eax, strict dword 0
    CHECK "alias-jmp: patched through the alias, then JMP", 0x0A11A5ED, eax

    mov eax, .al_ser + 1
    call map_alias
    mov dword [edx], 0x5E121A1E
    xor eax, eax
    cpuid                           ; serializing (§11.6), not a jump
    mov esi, [.al_ser + 1]          ; the original linear address sees the new bytes too
.al_ser:
    mov eax, strict dword 0
    CHECK "alias-serialize: patched through the alias, then CPUID (no jump)", 0x5E121A1E, eax
    CHECK "alias: the original linear address reads the patched bytes", 0x5E121A1E, esi

    mov eax, .al_loop_add + 2
    call map_alias
    mov ecx, 3
    xor ebx, ebx
.al_loop:
.al_loop_add:
    add ebx, strict dword 1         ; 81 C3 imm32
    mov dword [edx], 10
    loop .al_loop
    CHECK "alias-loop: body patched through the alias (1+10+10)", 21, ebx

    jmp finish

; map_alias: EAX = linear address of code → EDX = its alias in ALIAS (the code's page and the
; next one are mapped there, so a patch may straddle a page boundary). Clobbers EAX.
map_alias:
    mov edx, eax
    and edx, 0xFFF
    add edx, ALIAS
    and eax, ~0xFFF
    or eax, P | RW
    mov [pt_alias], eax
    add eax, 4096
    mov [pt_alias + 4], eax
    mov eax, cr3                    ; flush the TLB (new PTEs)
    mov cr3, eax
    ret

align 4
code_data:  dd 0                    ; data in .text, next to code that has run

section .bss
alignb 4096
page_dir:   resb 4096
pt_id:      resb 4096
pt_alias:   resb 4096
