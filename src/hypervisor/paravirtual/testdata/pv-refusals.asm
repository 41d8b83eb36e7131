; pv-refusals: a tiny paravirtual guest that asks the hypervisor for what it must refuse, prints
; each result (Xen's −errno), executes one privileged instruction (CLI: #GP reflected to its own
; handler) and then powers off — proving the guest survives every refusal. Assembled by the test.
bits 32
org 0x100000

    jmp start
align 4
%macro NOTE 3
    dd 4, %%e - %%d, %1
    db "Xen", 0
%%d: %2 %3
%%e: align 4, db 0
%endmacro
    NOTE 6, db, "pv-refusals"
    NOTE 5, db, "xen-3.0"
    NOTE 2, dd, hcpage
    NOTE 1, dd, start

%define HC(n) (hcpage + (n) * 32)

; print the zero-terminated string at %1, then EAX as a signed decimal and a newline
%macro REPORT 1
    push eax
    mov esi, %1
    call puts
    pop eax
    call putdec
%endmacro

start:
    mov esp, stack_top
    mov [si_ptr], esi
    mov eax, [esi + 68]                 ; start_info.mfn_list (virtual)
    mov [mfns], eax
    mov eax, [esi + 60]                 ; start_info.pt_base (virtual)
    mov [pt_base], eax
    ; a trap table with a #GP handler in ring 1 (Xen's flat ring-1 code selector)
    mov ebx, traps
    call HC(0)
    REPORT msg_traps

    ; 1. map a machine frame we do not own (frame 0: the hypervisor's)
    mov ebx, scratch
    mov ecx, 0x00000003
    xor edx, edx
    mov esi, 2                          ; UVMF_INVLPG
    call HC(14)
    REPORT msg_foreign

    ; 2. make our own page directory writable
    mov ebx, [pt_base]
    call machine                        ; EAX = machine address of EBX
    lea ecx, [eax + 3]
    mov ebx, [pt_base]
    xor edx, edx
    mov esi, 2
    call HC(14)
    REPORT msg_writable

    ; 3. a ring-0 trap handler (selector 0x0008: RPL 0)
    mov ebx, bad_traps
    call HC(0)
    REPORT msg_ring0

    ; 4. a hypercall that does not exist
    mov eax, 99
    int 0x82
    REPORT msg_unknown

    ; 5. write into the hypervisor's slots of our page directory (mmu_update, slot 1020)
    mov ebx, [pt_base]
    call machine
    add eax, 1020 * 4
    mov [req], eax
    mov ebx, scratch
    call machine
    or eax, 3
    mov [req + 8], eax
    mov ebx, req
    mov ecx, 1
    xor edx, edx
    mov esi, 0x7FF0                     ; DOMID_SELF
    call HC(1)
    REPORT msg_hypslot

    ; 6. pin a page that is still mapped writable as a page table (MMUEXT_PIN_L1_TABLE)
    mov ebx, scratch
    call machine
    shr eax, 12
    mov [ext + 4], eax
    mov dword [ext], 0                  ; MMUEXT_PIN_L1_TABLE
    mov ebx, ext
    mov ecx, 1
    xor edx, edx
    mov esi, 0x7FF0
    call HC(26)
    REPORT msg_pinrw

    ; 7. an allowed request still works: our own data page, writable
    mov ebx, scratch
    call machine
    lea ecx, [eax + 3]
    mov ebx, scratch
    xor edx, edx
    mov esi, 2
    call HC(14)
    REPORT msg_own

    ; 8. a privileged instruction: #GP, reflected to our handler, which skips it
    cli
    mov eax, [gp_count]
    REPORT msg_gp

    mov esi, msg_done
    call puts
    mov dword [reason], 0               ; SHUTDOWN_poweroff
    mov ebx, 2                          ; SCHEDOP_shutdown
    mov ecx, reason
    call HC(29)
    jmp $

gp_handler:                             ; frame: error code, EIP, CS, EFLAGS
    inc dword [gp_count]
    add dword [esp + 4], 1              ; CLI is one byte
    add esp, 4
    jmp HC(23)                          ; the iret hypercall (pops EAX, EIP, CS, EFLAGS)

; EAX = machine address of the pseudo-physical address in EBX (start_info.mfn_list)
machine:
    mov eax, ebx
    shr eax, 12
    mov edx, [mfns]
    mov eax, [edx + eax * 4]
    shl eax, 12
    mov edx, ebx
    and edx, 0xFFF
    or eax, edx
    ret

puts:                                   ; ESI = zero-terminated string
    push ebx
    mov ebx, esi
    xor ecx, ecx
.len:
    cmp byte [esi + ecx], 0
    je .out
    inc ecx
    jmp .len
.out:
    mov edx, ebx                        ; console_io(CONSOLEIO_write, count ECX, buffer EDX)
    xor ebx, ebx
    call HC(18)
    pop ebx
    ret

putdec:                                 ; EAX signed, then "\n"
    mov edi, numbuf + 15
    mov byte [edi], 0
    dec edi
    mov byte [edi], 10
    mov ebx, eax
    test eax, eax
    jns .pos
    neg eax
.pos:
    mov ecx, 10
.digit:
    xor edx, edx
    div ecx
    add dl, '0'
    dec edi
    mov [edi], dl
    test eax, eax
    jnz .digit
    test ebx, ebx
    jns .print
    dec edi
    mov byte [edi], '-'
.print:
    mov esi, edi
    jmp puts

msg_traps:    db "set_trap_table: ", 0
msg_foreign:  db "map a foreign frame: ", 0
msg_writable: db "map our page directory writable: ", 0
msg_ring0:    db "ring-0 trap handler: ", 0
msg_unknown:  db "hypercall 99: ", 0
msg_hypslot:  db "page directory slot 1020: ", 0
msg_pinrw:    db "pin a writable page as a page table: ", 0
msg_own:      db "map our own page writable: ", 0
msg_gp:       db "cli reflected as #GP, times: ", 0
msg_done:     db "survived every refusal", 10, 0

align 8
traps:        db 13, 0
              dw 0xe019
              dd gp_handler
              dd 0, 0
bad_traps:    db 3, 0
              dw 0x0008
              dd gp_handler
              dd 0, 0
align 8
req:          dd 0, 0, 0, 0
ext:          dd 0, 0, 0
si_ptr:       dd 0
mfns:         dd 0
pt_base:      dd 0
gp_count:     dd 0
reason:       dd 0
numbuf:       times 16 db 0

align 4096
hcpage:       times 4096 db 0xCC
scratch:      times 4096 db 0
              times 4096 db 0
stack_top:
