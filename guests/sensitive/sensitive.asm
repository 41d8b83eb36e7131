; sensitive — one demo per Robin & Irvine (USENIX Security 2000) sensitive-but-unprivileged IA-32
; instruction, plus IRET. The multiboot command line picks the demo (`test=sidt`); the kernel sets
; up its own GDT, IDT, TSS and LDT, runs the one sensitive instruction at a marked site and prints
; what it observed:
;
;   [sensitive] test sidt: SIDT stores the IDT register (base and limit)
;   [sensitive] site 0x0010xxxx-0x0010xxxx
;   [sensitive] result: SIDT base=0x00101234 limit=0x0187
;   [sensitive] done
;
; The kernel believes it runs at CPL 0. Natively it does; under trap-and-emulate it really runs at
; ring 1 (ring compression), so the result line shows what leaks (the VMM's IDT base, CPL 1 in CS,
; an IF that POPF/IRET silently kept at 0, ...). The `site` line is the address range of the
; sensitive instruction, so a tool can tell whether the hypervisor trapped on it (a trap-log record
; at that EIP). Every value printed is fixed by the program (link addresses, selectors, values it
; wrote), never by timing or memory size, so a correct virtualization prints the native bytes.
;
; Exit through isa-debug-exit (port 0xF4): 0 after a demo ran (whatever it observed), 1 when the
; command line names no known demo or an exception nobody expected arrived.

bits 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0
COM1        equ 0x3F8
DEBUG_EXIT  equ 0xF4
KCODE       equ 0x08                ; DPL-0 flat code
KDATA       equ 0x10                ; DPL-0 flat data
TSS_SEL     equ 0x18
LDT_SEL     equ 0x20
C1_SEL      equ 0x38                ; DPL-1 flat code (nothing runs there natively)
IDT_VECTORS equ 0x31
PIT_DIVISOR equ 119                 ; 1193182 Hz / 119 ≈ 10 kHz: a tick every ~10,000 instructions
SPIN_POLLS  equ 60000               ; ~180,000 instructions of waiting for a tick (~18 ticks natively)
EFL_IF      equ 0x200

%macro PRINT 1+
    [section .rodata]
%%s: db %1, 0
    __SECT__
    push esi
    mov esi, %%s
    call puts
    pop esi
%endmacro
%macro PRINTLN 1+
    PRINT %1, 13, 10
%endmacro
%macro HEX32 1
    push eax
    mov eax, %1
    call puthex32
    pop eax
%endmacro
%macro HEX16 1
    push eax
    mov eax, %1
    call puthex16
    pop eax
%endmacro
; SITE a, b: print the address range of the sensitive instruction(s), [a, b).
%macro SITE 2
    PRINT "[sensitive] site "
    HEX32 %1
    PRINT "-"
    HEX32 %2
    PRINT 13, 10
%endmacro
; TEST label, "name", "description": one entry of the demo table, then the demo's code label.
%macro TEST 3
    [section .rodata]
%%name: db %2, 0
%%desc: db %3, 0
    [section .tests]
    dd %%name, %%desc, %1
    __SECT__
%1:
%endmacro

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .tests
tests_start:

section .text
global start
start:
    mov esp, stack_top
    cmp eax, 0x2BADB002
    jne fail
    mov [mbi], ebx
    ; GDT: patch the TSS and LDT bases (known only at link time).
    mov eax, tss
    mov [gdt_tss + 2], ax
    shr eax, 16
    mov [gdt_tss + 4], al
    mov [gdt_tss + 7], ah
    mov eax, ldt
    mov [gdt_ldt + 2], ax
    shr eax, 16
    mov [gdt_ldt + 4], al
    mov [gdt_ldt + 7], ah
    lgdt [gdtr]
    jmp KCODE:.cs_reloaded
.cs_reloaded:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
    ; IDT: exceptions 0-31, IRQ0 at 0x20, the other IRQs 0x21-0x2F, the INT-n demo's gate 0x30.
    xor ecx, ecx
.gate:
    mov eax, [idt_handlers + ecx * 4]
    mov [idt + ecx * 8], ax
    mov word [idt + ecx * 8 + 2], KCODE
    mov word [idt + ecx * 8 + 4], 0x8E00      ; present, DPL 0, 32-bit interrupt gate
    shr eax, 16
    mov [idt + ecx * 8 + 6], ax
    inc ecx
    cmp ecx, IDT_VECTORS
    jb .gate
    lidt [idtr]
    mov dword [tss + 4], stack_top            ; ESP0
    mov dword [tss + 8], KDATA                ; SS0
    call init_pic_pit
    ; Find "test=NAME" on the multiboot command line.
    mov ebx, [mbi]
    test dword [ebx], 1 << 2
    jz .no_test
    mov esi, [ebx + 16]
    call find_test
    test eax, eax
    jz .no_test
    mov ebx, eax
    PRINT "[sensitive] test "
    mov esi, [ebx]
    call puts
    PRINT ": "
    mov esi, [ebx + 4]
    call puts
    PRINT 13, 10
    mov dword [exc_vec], -1
    call [ebx + 8]
    PRINTLN "[sensitive] done"
    mov al, 0
    out DEBUG_EXIT, al
    cli
    hlt
.no_test:
    PRINTLN "[sensitive] no demo chosen: boot with test=NAME, one of"
    mov ebx, tests_start
.list:
    cmp ebx, tests_end
    jae fail
    PRINT "[sensitive]   "
    mov esi, [ebx]
    call puts
    PRINT " - "
    mov esi, [ebx + 4]
    call puts
    PRINT 13, 10
    add ebx, 12
    jmp .list

fail:
    mov al, 1
    out DEBUG_EXIT, al
    cli
    hlt
    jmp fail

; ---- the demos: each runs its sensitive instruction between .s and .e, prints the site and one
; ---- result line, and returns. -----------------------------------------------------------------

; Sensitive-register instructions (Robin & Irvine §4.1).

TEST t_sgdt, "sgdt", "SGDT stores the GDT register at any CPL (only one real GDTR exists)"
.s: sgdt [buf]
.e: SITE .s, .e
    PRINT "[sensitive] result: SGDT base="
    HEX32 [buf + 2]
    PRINT " limit="
    movzx eax, word [buf]
    HEX16 eax
    PRINT 13, 10
    ret

TEST t_sidt, "sidt", "SIDT stores the IDT register at any CPL (the Red Pill check)"
.s: sidt [buf]
.e: SITE .s, .e
    PRINT "[sensitive] result: SIDT base="
    HEX32 [buf + 2]
    PRINT " limit="
    movzx eax, word [buf]
    HEX16 eax
    PRINT 13, 10
    ret

TEST t_sldt, "sldt", "SLDT stores the LDT selector at any CPL, after LLDT 0x0020"
    mov ax, LDT_SEL
    lldt ax
    mov dword [buf], 0
.s: sldt [buf]
.e: SITE .s, .e
    PRINT "[sensitive] result: SLDT selector="
    HEX16 [buf]
    PRINT 13, 10
    ret

TEST t_smsw, "smsw", "SMSW stores CR0 bits 15:0 at any CPL (PE, MP, EM, TS, ET, NE)"
    mov dword [buf], 0
.s: smsw [buf]
.e: SITE .s, .e
    PRINT "[sensitive] result: SMSW machine status word="
    HEX16 [buf]
    PRINT 13, 10
    ret

TEST t_pushf, "pushf", "PUSHF after CLI: does the pushed EFLAGS show IF=0?"
    cli
.s: pushfd
.e: pop eax
    mov [buf], eax
    SITE .s, .e
    PRINT "[sensitive] result: PUSHF after CLI: IF="
    mov eax, [buf]
    shr eax, 9
    and eax, 1
    add al, '0'
    call putc
    PRINT " IOPL="
    mov eax, [buf]
    shr eax, 12
    and eax, 3
    add al, '0'
    call putc
    PRINT 13, 10
    ret

TEST t_popf, "popf", "POPF of an image with IF=1 after CLI: are interrupts back on?"
    call timer_on
    push dword EFL_IF | 2
.s: popfd
.e: call wait_tick
    SITE .s, .e
    PRINT "[sensitive] result: POPF IF after="
    call print_tick_result
    ret

; Protection-system references (Robin & Irvine §4.2).

TEST t_lar, "lar", "LAR of the kernel code selector 0x0008: its access rights, DPL included"
    mov ecx, KCODE
    xor eax, eax
.s: lar eax, ecx
.e: setz bl
    mov [buf], eax
    SITE .s, .e
    PRINT "[sensitive] result: LAR 0x0008: ZF="
    call print_zf_bl
    test bl, bl
    jz .out
    PRINT " access rights="
    mov eax, [buf]
    HEX32 eax
    PRINT " DPL="
    shr eax, 13
    and eax, 3
    add al, '0'
    call putc
.out:
    PRINT 13, 10
    ret

TEST t_lsl, "lsl", "LSL of 0x0011 (kernel data, RPL 1): may a ring-1 caller's selector reach it?"
    mov ecx, KDATA | 1
    xor eax, eax
.s: lsl eax, ecx
.e: setz bl
    mov [buf], eax
    SITE .s, .e
    PRINT "[sensitive] result: LSL 0x0011: ZF="
    call print_zf_bl
    test bl, bl
    jz .out
    PRINT " limit="
    HEX32 [buf]
.out:
    PRINT 13, 10
    ret

TEST t_verr, "verr", "VERR of 0x0011 (kernel data, RPL 1): readable by a ring-1 caller?"
    mov ecx, KDATA | 1
.s: verr cx
.e: setz bl
    SITE .s, .e
    PRINT "[sensitive] result: VERR 0x0011: ZF="
    call print_zf_bl
    PRINT 13, 10
    ret

TEST t_verw, "verw", "VERW of 0x0011 (kernel data, RPL 1): writable by a ring-1 caller?"
    mov ecx, KDATA | 1
.s: verw cx
.e: setz bl
    SITE .s, .e
    PRINT "[sensitive] result: VERW 0x0011: ZF="
    call print_zf_bl
    PRINT 13, 10
    ret

TEST t_pop, "pop", "POP SS of the kernel's own stack selector 0x0010 (RPL 0)"
    mov dword [exc_vec], -1
    mov dword [recover], .fault
    push dword KDATA
.s: pop ss
.e: mov dword [recover], 0
    SITE .s, .e
    PRINTLN "[sensitive] result: POP SS 0x0010: loaded, no fault"
    ret
.fault:
    add esp, 4
    SITE .s, .e
    PRINT "[sensitive] result: POP SS 0x0010: "
    call print_exception
    PRINT 13, 10
    ret

TEST t_push, "push", "PUSH CS: the pushed selector's RPL is the CPL"
    xor eax, eax
.s: push cs
.e: pop eax
    and eax, 0xFFFF
    SITE .s, .e
    PRINT "[sensitive] result: PUSH CS pushed "
    HEX16 eax
    PRINT " (CPL "
    and al, 3
    add al, '0'
    call putc
    PRINT ")", 13, 10
    ret

TEST t_call, "call", "far CALL 0x0008:target: the CS it pushes carries the CPL"
    mov dword [buf], 0
.s: call KCODE:far_target
.e: SITE .s, .e
    PRINT "[sensitive] result: CALL FAR pushed CS="
    HEX16 [buf]
    PRINT 13, 10
    ret
far_target:
    mov eax, [esp + 4]
    mov [buf], eax
    retf

TEST t_jmp, "jmp", "far JMP from ring 0 to DPL-1 code 0x0038 (a ring-0 caller must get #GP)"
    mov dword [exc_vec], -1
    mov dword [landed], 0
    mov dword [recover], .after
.s: jmp C1_SEL:ring1_code
.e:
.after:
    mov dword [recover], 0
    SITE .s, .e
    PRINT "[sensitive] result: JMP FAR 0x0038: "
    cmp dword [landed], 0
    jne .ran
    call print_exception
    PRINT 13, 10
    ret
.ran:
    PRINTLN "no fault, ran the DPL-1 code"
    ret
ring1_code:
    mov dword [landed], 1
    jmp KCODE:t_jmp.after

TEST t_int, "int", "INT 0x30 through the kernel's own DPL-0 gate: the frame's CS"
    mov dword [int_ran], 0
.s: int 0x30
.e: SITE .s, .e
    PRINT "[sensitive] result: INT 0x30: "
    cmp dword [int_ran], 0
    je .none
    PRINT "handler ran, frame CS="
    HEX16 [int_cs]
    PRINT 13, 10
    ret
.none:
    PRINTLN "handler did not run"
    ret

TEST t_ret, "ret", "far RET to the kernel's own code selector 0x0008 (RPL 0)"
    mov dword [exc_vec], -1
    mov dword [recover], .fault
    push dword KCODE
    push dword .back
.s: retf
.e:
.back:
    mov dword [recover], 0
    SITE .s, .e
    PRINTLN "[sensitive] result: RET FAR to 0x0008: returned, no fault"
    ret
.fault:
    add esp, 8
    SITE .s, .e
    PRINT "[sensitive] result: RET FAR to 0x0008: "
    call print_exception
    PRINT 13, 10
    ret

TEST t_str, "str", "STR stores the task register's selector at any CPL, after LTR 0x0018"
    mov ax, TSS_SEL
    ltr ax
    mov dword [buf], 0
.s: str [buf]
.e: SITE .s, .e
    PRINT "[sensitive] result: STR selector="
    HEX16 [buf]
    PRINT 13, 10
    ret

TEST t_mov, "mov", "MOV from CS: the selector's RPL is the CPL"
    xor eax, eax
.s: mov ax, cs
.e: SITE .s, .e
    PRINT "[sensitive] result: MOV from CS = "
    HEX16 eax
    PRINT " (CPL "
    and al, 3
    add al, '0'
    call putc
    PRINT ")", 13, 10
    ret

; Not on Robin & Irvine's list, but it drops IF exactly as POPF does.
TEST t_iret, "iret", "IRET (pushfd-style frame built with PUSH CS) with IF=1 after CLI"
    call timer_on
    push dword EFL_IF | 2
    push cs
    push dword .e
.s: iretd
.e: call wait_tick
    SITE .s, .e
    PRINT "[sensitive] result: IRET IF after="
    call print_tick_result
    ret

section .tests
tests_end:

; ---- helpers -------------------------------------------------------------------------------------
section .text

; Timer demos: interrupts off, the PIT ticking and only IRQ0 unmasked, no tick counted yet.
timer_on:
    cli
    mov dword [ticks], 0
    mov al, 0xFE
    out 0x21, al
    ret
; Poll for a timer tick (the IRQ0 handler counts them), then interrupts off and IRQ0 masked.
wait_tick:
    mov ecx, SPIN_POLLS
.poll:
    cmp dword [ticks], 0
    jne .done
    dec ecx
    jnz .poll
.done:
    cli
    mov al, 0xFF
    out 0x21, al
    ret
print_tick_result:
    cmp dword [ticks], 0
    je .none
    PRINTLN "1 (a timer interrupt arrived)"
    ret
.none:
    PRINTLN "0 (no timer interrupt in 60000 polls)"
    ret

print_zf_bl:
    mov al, bl
    add al, '0'
    jmp putc

; "#GP error=0x0038" from the last exception the handler caught.
print_exception:
    cmp dword [exc_vec], 13
    jne .other
    PRINT "#GP error="
    HEX16 [exc_err]
    ret
.other:
    PRINT "exception "
    HEX32 [exc_vec]
    PRINT " error="
    HEX16 [exc_err]
    ret

; ESI: command line. Returns EAX = the demo table entry named by "test=NAME", or 0.
find_test:
    push ebx
    push esi
    push edi
.scan:
    cmp byte [esi], 0
    je .none
    cmp dword [esi], 'test'
    jne .next
    cmp byte [esi + 4], '='
    jne .next
    add esi, 5
    mov ebx, tests_start
.entry:
    cmp ebx, tests_end
    jae .none
    mov edi, [ebx]
    xor ecx, ecx
.cmp:
    mov al, [edi + ecx]
    mov dl, [esi + ecx]
    test al, al
    jz .end_of_name
    cmp al, dl
    jne .skip
    inc ecx
    jmp .cmp
.end_of_name:
    test dl, dl
    jz .found
    cmp dl, ' '
    je .found
.skip:
    add ebx, 12
    jmp .entry
.found:
    mov eax, ebx
    jmp .out
.next:
    inc esi
    jmp .scan
.none:
    xor eax, eax
.out:
    pop edi
    pop esi
    pop ebx
    ret

; 8259A pair at vectors 0x20/0x28, everything masked; 8254 channel 0 in mode 2.
init_pic_pit:
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, 0x20
    out 0x21, al
    mov al, 0x28
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFF
    out 0x21, al
    out 0xA1, al
    mov al, 0x34
    out 0x43, al
    mov al, PIT_DIVISOR & 0xFF
    out 0x40, al
    mov al, PIT_DIVISOR >> 8
    out 0x40, al
    ret

; ---- interrupt and exception handlers ------------------------------------------------------------
%macro EXC 1
exc_%1:
%if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17
%else
    push dword 0
%endif
    push dword %1
    jmp exc_common
%endmacro
%assign v 0
%rep 32
EXC v
%assign v v + 1
%endrep

; [esp] vector, [esp+4] error code, [esp+8] EIP, [esp+12] CS, [esp+16] EFLAGS.
exc_common:
    cmp dword [recover], 0
    je .fatal
    push eax
    mov eax, [esp + 4]
    mov [exc_vec], eax
    mov eax, [esp + 8]
    mov [exc_err], eax
    mov eax, [recover]
    mov [esp + 12], eax
    mov dword [recover], 0
    pop eax
    add esp, 8
    iretd
.fatal:
    PRINT "[sensitive] unexpected exception "
    HEX32 [esp]
    PRINT " error="
    HEX32 [esp + 4]
    PRINT " at EIP="
    HEX32 [esp + 8]
    PRINT 13, 10
    jmp fail

irq0:
    push eax
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd
irq_other:
    push eax
    mov al, 0x20
    out 0xA0, al
    out 0x20, al
    pop eax
    iretd
int30:
    push eax
    mov eax, [esp + 8]
    mov [int_cs], eax
    inc dword [int_ran]
    pop eax
    iretd

; ---- output ----------------------------------------------------------------------------------------
putc:                               ; AL
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret
puts:                               ; ESI: NUL-terminated
    push eax
    push esi
.next:
    lodsb
    test al, al
    jz .done
    call putc
    jmp .next
.done:
    pop esi
    pop eax
    ret
puthex16:                           ; AX as 0xXXXX
    push ecx
    mov ecx, 4
    shl eax, 16
    jmp puthex
puthex32:                           ; EAX as 0xXXXXXXXX
    push ecx
    mov ecx, 8
puthex:
    push eax
    mov al, '0'
    call putc
    mov al, 'x'
    call putc
    pop eax
.digit:
    rol eax, 4
    push eax
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .emit
    add al, 'A' - '9' - 1
.emit:
    call putc
    pop eax
    dec ecx
    jnz .digit
    pop ecx
    ret

; ---- tables ----------------------------------------------------------------------------------------
section .rodata
align 4
idt_handlers:
%assign v 0
%rep 32
    dd exc_ %+ v
%assign v v + 1
%endrep
    dd irq0
    times 15 dd irq_other
    dd int30

section .data
align 8
; Accessed bits preset, so the CPU never writes the table (natively or through a shadow).
gdt:
    dq 0
    dq 0x00CF9B000000FFFF               ; 0x08 kernel code, DPL 0, flat
    dq 0x00CF93000000FFFF               ; 0x10 kernel data, DPL 0, flat
gdt_tss:
    dq 0x0000890000000067               ; 0x18 32-bit TSS (base patched)
gdt_ldt:
    dq 0x000082000000000F               ; 0x20 LDT, 2 entries (base patched)
    dq 0x00CFFB000000FFFF               ; 0x28 user code, DPL 3
    dq 0x00CFF3000000FFFF               ; 0x30 user data, DPL 3
    dq 0x00CFBB000000FFFF               ; 0x38 code, DPL 1
gdt_end:
gdtr:
    dw gdt_end - gdt - 1
    dd gdt
align 8
ldt:
    dq 0
    dq 0x00CF93000000FFFF               ; an LDT data segment (unused; the LDT only has to exist)
align 4
idtr:
    dw IDT_VECTORS * 8 - 1
    dd idt

section .bss
align 16
idt:        resb IDT_VECTORS * 8
tss:        resb 104
mbi:        resd 1
buf:        resd 4
exc_vec:    resd 1
exc_err:    resd 1
recover:    resd 1
landed:     resd 1
ticks:      resd 1
int_ran:    resd 1
int_cs:     resd 1
            resb 8192
stack_top:
