; trapdemo — a tiny protected-mode kernel that performs, one step at a time, every kind of
; privileged operation a trap-and-emulate VMM has to catch, and prints what happened.
;
; Each step prints one line "[trapdemo] <step>: <result>", built only from values that are the
; same on every run (no timer counts, no TSC, no memory size), so the console is byte-identical
; under `native` and under `trap-and-emulate`. Under a VMM every line corresponds to one or more
; entries in the trap log.
;
; What it deliberately avoids: the instructions that are sensitive but do NOT trap when a guest
; kernel runs deprivileged (Robin & Irvine 2000): PUSHF/POPF, reading CS/SS (MOV/PUSH), SGDT,
; SIDT, SLDT, SMSW, STR, LAR, LSL, VERR, VERW, far CALL/JMP through gates, and RET/IRET to another
; privilege level. IRET is used only to return from its own interrupt and exception handlers to
; its own ring-0 code, which a VMM emulates (the frame it delivered carries the guest's CS).
;
; Optional probe (multiboot command line contains the word `probe`): after the normal run it tags
; the last word of each 4 MiB frame of its own RAM (size from multiboot mem_upper), then maps every
; 4 MiB physical frame of the 4 GiB address space in turn through one page-table entry, reads its
; last word and prints a range summary and a checksum. Natively it sees all RAM, ROM/MMIO and
; all-ones elsewhere; inside a VM it must see only its own slice. A tag of a frame it did not tag
; itself is reported as FOREIGN and makes it exit with status 1 (QEMU status 3).
;
; Exit: 0 (QEMU status 1) on success, 1 (status 3) on any failed check, via isa-debug-exit 0xF4.

bits 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00000003          ; page-align modules, provide memory info
COM1        equ 0x3F8
DEBUG_EXIT  equ 0xF4
PIC1        equ 0x20
PIC2        equ 0xA0
PIT_CH0     equ 0x40
PIT_CMD     equ 0x43
PIT_DIVISOR equ 11932               ; 1193182 Hz / 11932 = 100.0 Hz
KCODE       equ 0x08
KDATA       equ 0x10
TSS_SEL     equ 0x18
DEMAND_VA   equ 0x00400000          ; PDE 1: page table present, PTE 0 absent -> #PF
SWAP_VA     equ 0x00401000          ; PDE 1, PTE 1: switched between page_a and page_b
PROBE_VA    equ 0x00BFF000          ; PDE 2, PTE 1023: the probe window
TAG_BASE    equ 0xC0DE0000          ; probe tag = TAG_BASE | frame number (frame < 1024)

; ---- printing macros --------------------------------------------------------------------------
%macro PRINT 1+                     ; PRINT "text", ... : no newline
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
%macro HEX32 1                      ; print 0xXXXXXXXX
    push eax
    mov eax, %1
    call puthex32
    pop eax
%endmacro
%macro HEX8 1                       ; print 0xXX (low byte)
    push eax
    mov eax, %1
    call puthex8
    pop eax
%endmacro
%macro PUTDEC 1
    push eax
    mov eax, %1
    call putdec
    pop eax
%endmacro
%macro NEWLINE 0
    PRINT 13, 10
%endmacro
%macro EXPECT 3                     ; EXPECT actual, expected, "what": fail unless equal
    cmp %1, %2
    je %%ok
    PRINT "[trapdemo] FAIL: ", %3, 13, 10
    jmp fail
%%ok:
%endmacro

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .text
global start
start:
    mov esp, stack_top
    cmp eax, 0x2BADB002
    je .multiboot_ok
    PRINTLN "[trapdemo] FAIL: not started by a multiboot loader"
    jmp fail
.multiboot_ok:
    call read_multiboot_info        ; before paging: the info may live anywhere in RAM
    PRINTLN "[trapdemo] hello: 32-bit protected mode, started by a multiboot loader"

; ---- LGDT: our own descriptor table, then reload every segment register ----------------------
    mov eax, tss                    ; the TSS descriptor's base is only known at link time
    mov [gdt_tss + 2], ax
    shr eax, 16
    mov [gdt_tss + 4], al
    mov [gdt_tss + 7], ah
    lgdt [gdtr]
    jmp KCODE:.reload_cs            ; far jump: CS := our code descriptor
.reload_cs:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax                      ; RPL-0 SS load: a ring-compression fault under a VMM
    PRINTLN "[trapdemo] lgdt: loaded own GDT (code 0x08, data 0x10, TSS 0x18), segments reloaded"

; ---- LIDT: 48 gates, exceptions 0-31 and remapped IRQs 0x20-0x2F ------------------------------
    xor ecx, ecx
.idt_fill:
    mov eax, [handlers + ecx*4]
    mov [idt + ecx*8], ax           ; offset 15:0
    mov word [idt + ecx*8 + 2], KCODE
    mov word [idt + ecx*8 + 4], 0x8E00 ; present, DPL 0, 32-bit interrupt gate
    shr eax, 16
    mov [idt + ecx*8 + 6], ax       ; offset 31:16
    inc ecx
    cmp ecx, 48
    jb .idt_fill
    lidt [idtr]
    PRINTLN "[trapdemo] lidt: loaded own IDT (48 interrupt gates)"

; ---- LLDT / LTR ---------------------------------------------------------------------------
    xor eax, eax
    lldt ax                         ; a null LDT selector is legal
    mov ax, TSS_SEL
    ltr ax
    PRINTLN "[trapdemo] lldt/ltr: null LDT, task register 0x18"

; ---- CLI / STI ------------------------------------------------------------------------------
    cli
    sti
    cli
    PRINTLN "[trapdemo] cli/sti: ok"

; ---- 16550 UART: divisor latch, line control, interrupt enable, read back --------------------
    mov dx, COM1 + 1                ; IER: no UART interrupts, output is polled
    xor al, al
    out dx, al
    mov dx, COM1 + 3                ; LCR: DLAB=1 to reach the divisor latch
    mov al, 0x80
    out dx, al
    mov dx, COM1                    ; DLL = 1 -> 115200 baud
    mov al, 1
    out dx, al
    mov dx, COM1 + 1                ; DLM = 0
    xor al, al
    out dx, al
    mov dx, COM1 + 3                ; LCR: 8 data bits, no parity, 1 stop bit, DLAB=0
    mov al, 0x03
    out dx, al
    mov dx, COM1 + 2                ; FCR: enable and clear FIFOs
    mov al, 0x07
    out dx, al
    mov dx, COM1 + 4                ; MCR: DTR | RTS
    mov al, 0x03
    out dx, al
    mov dx, COM1 + 7                ; scratch register
    mov al, 0x5A
    out dx, al
    PRINT "[trapdemo] uart: programmed 115200 8N1; read back"
    mov dx, COM1 + 3
    in al, dx
    mov bl, al
    PRINT " LCR="
    HEX8 ebx
    EXPECT bl, 0x03, "uart LCR read back"
    mov dx, COM1 + 1
    in al, dx
    mov bl, al
    PRINT " IER="
    HEX8 ebx
    mov dx, COM1 + 3                ; DLAB=1 again to read the divisor back
    mov al, 0x83
    out dx, al
    mov dx, COM1
    in al, dx
    mov bl, al
    mov dx, COM1 + 1
    in al, dx
    mov bh, al
    mov dx, COM1 + 3
    mov al, 0x03
    out dx, al
    PRINT " DLL="
    HEX8 ebx
    PRINT " DLM="
    movzx eax, bh
    HEX8 eax
    EXPECT bx, 0x0001, "uart divisor read back"
    mov dx, COM1 + 7
    in al, dx
    mov bl, al
    PRINT " SCR="
    HEX8 ebx
    NEWLINE
    EXPECT bl, 0x5A, "uart scratch read back"

; ---- 8259A PICs: remap to 0x20/0x28, unmask only IRQ0 ---------------------------------------
    mov al, 0x11                    ; ICW1: edge, cascade, ICW4 follows
    out PIC1, al
    out PIC2, al
    mov al, 0x20                    ; ICW2: vector bases
    out PIC1 + 1, al
    mov al, 0x28
    out PIC2 + 1, al
    mov al, 0x04                    ; ICW3: slave on IRQ2
    out PIC1 + 1, al
    mov al, 0x02
    out PIC2 + 1, al
    mov al, 0x01                    ; ICW4: 8086 mode
    out PIC1 + 1, al
    out PIC2 + 1, al
    mov al, 0xFE                    ; OCW1: only IRQ0 (timer)
    out PIC1 + 1, al
    mov al, 0xFF
    out PIC2 + 1, al
    in al, PIC1 + 1
    movzx ebx, al
    in al, PIC2 + 1
    movzx ecx, al
    PRINT "[trapdemo] pic: remapped to vectors 0x20/0x28; read back IMR master="
    HEX8 ebx
    PRINT " slave="
    HEX8 ecx
    NEWLINE
    EXPECT bl, 0xFE, "master PIC mask read back"
    EXPECT cl, 0xFF, "slave PIC mask read back"

; ---- 8254 PIT: channel 0, mode 2, 100 Hz ---------------------------------------------------
    mov al, 0x34                    ; channel 0, lobyte/hibyte, mode 2 (rate generator), binary
    out PIT_CMD, al
    mov al, PIT_DIVISOR & 0xFF
    out PIT_CH0, al
    mov al, PIT_DIVISOR >> 8
    out PIT_CH0, al
    PRINTLN "[trapdemo] pit: channel 0 in mode 2, divisor 11932 (100 Hz)"

; ---- HLT until three timer interrupts have arrived -------------------------------------------
    mov dword [ticks], 0
    sti
.idle:
    hlt                             ; wakes on the next interrupt; the handler counts it
    cmp dword [ticks], 3
    jb .idle
    cli
    mov al, 0xFF                    ; mask the timer again: the rest runs without interrupts
    out PIC1 + 1, al
    PRINTLN "[trapdemo] hlt: halted until 3 timer interrupts (IRQ0 -> vector 0x20) had arrived"

; ---- MOV CR3 / MOV CR0: identity-map 0-4 MiB and turn paging on -----------------------------
    mov edi, pt_low
    mov eax, 0x003                  ; present | writable, supervisor
.fill_low:
    stosd
    add eax, 0x1000
    cmp edi, pt_low + 4096
    jb .fill_low
    mov dword [page_dir + 0*4], pt_low + 3
    mov dword [page_dir + 1*4], pt_demand + 3
    mov dword [page_dir + 2*4], pt_probe + 3
    mov dword [pt_demand + 1*4], page_a + 3 ; SWAP_VA -> page_a
    mov dword [page_a], 0x11111111
    mov dword [page_b], 0x22222222
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000              ; CR0.PG
    mov cr0, eax
    mov eax, cr0
    and eax, 0x80000001
    EXPECT eax, 0x80000001, "CR0 does not read back PG=1 PE=1"
    mov eax, cr3
    mov ebx, eax
    PRINT "[trapdemo] paging: CR3="
    HEX32 ebx
    PRINTLN " (identity map of 0-4 MiB), CR0 reads back PG=1 PE=1"
    EXPECT ebx, page_dir, "CR3 read back"

; ---- INVLPG after changing a PTE ------------------------------------------------------------
    mov ebx, [SWAP_VA]
    mov dword [pt_demand + 1*4], page_b + 3
    invlpg [SWAP_VA]
    mov ecx, [SWAP_VA]
    PRINT "[trapdemo] invlpg: 0x00401000 read "
    HEX32 ebx
    PRINT ", PTE pointed at another frame, after INVLPG reads "
    HEX32 ecx
    NEWLINE
    EXPECT ebx, 0x11111111, "first read through the PTE"
    EXPECT ecx, 0x22222222, "read after INVLPG"

; ---- MOV CR3 reload: flushes every non-global TLB entry --------------------------------------
    mov dword [pt_demand + 1*4], page_a + 3
    mov eax, cr3
    mov cr3, eax
    mov ebx, [SWAP_VA]
    PRINT "[trapdemo] cr3: PTE pointed back, CR3 reloaded (TLB flush), 0x00401000 reads "
    HEX32 ebx
    NEWLINE
    EXPECT ebx, 0x11111111, "read after CR3 reload"

; ---- A page fault the kernel handles: write to an unmapped page ------------------------------
    mov byte [expect_pf], 1
    mov dword [DEMAND_VA], 0x600DF00D ; PTE absent -> #PF; the handler maps scratch and returns
    mov byte [expect_pf], 0
    PRINT "[trapdemo] page fault: write to 0x00400000 faulted, CR2="
    HEX32 [pf_cr2]
    PRINT " error="
    HEX32 [pf_err]
    PRINT ", handler mapped frame "
    HEX32 scratch
    PRINTLN " and returned"
    EXPECT dword [pf_count], 1, "exactly one page fault"
    EXPECT dword [pf_cr2], DEMAND_VA, "CR2 in the page-fault handler"
    EXPECT dword [pf_err], 2, "page-fault error code (write, not present, supervisor)"
    mov ebx, [DEMAND_VA]
    mov ecx, [scratch]
    PRINT "[trapdemo] page fault: retried write landed, 0x00400000 reads "
    HEX32 ebx
    PRINT ", the frame itself reads "
    HEX32 ecx
    NEWLINE
    EXPECT ebx, 0x600DF00D, "value at the faulting address"
    EXPECT ecx, 0x600DF00D, "value in the frame mapped by the handler"

; ---- An exception reflected to the guest: divide by zero -------------------------------------
    mov eax, 100
    xor edx, edx
    xor ecx, ecx
..@de_site:
    div ecx                         ; #DE; the handler skips these 2 bytes (F7 F1)
    PRINT "[trapdemo] divide error: #DE at EIP="
    HEX32 [de_eip]
    PRINTLN ", handler skipped the DIV and returned"
    EXPECT dword [de_eip], ..@de_site, "EIP of the #DE frame"

; ---- Debug and control registers: MOV DRn, CLTS, WBINVD -------------------------------------
    mov eax, 0x00123450
    mov dr0, eax
    xor eax, eax
    mov dr7, eax                    ; breakpoints stay disabled
    mov eax, dr0
    mov ebx, eax
    clts
    wbinvd
    PRINT "[trapdemo] dr0/clts/wbinvd: DR0 reads back "
    HEX32 ebx
    NEWLINE
    EXPECT ebx, 0x00123450, "DR0 read back"

; ---- Optional: the memory probe ----------------------------------------------------------------
    cmp byte [probe_flag], 0
    je .finish
    call probe
    cmp dword [n_foreign], 0
    jne fail_quiet
.finish:
    PRINTLN "[trapdemo] done"
    xor eax, eax
    jmp exit

fail:
    PRINTLN "[trapdemo] failed"
fail_quiet:
    mov al, 1
exit:
    mov dx, DEBUG_EXIT
    out dx, al
.hang:                               ; only reached without a debug-exit device
    cli
    hlt
    jmp .hang

; ---- multiboot info: memory size and the `probe` word on the command line -----------------------
read_multiboot_info:
    mov eax, [ebx]                  ; flags (Multiboot 0.6.96, 3.3)
    test al, 1
    jz .no_mem
    mov ecx, [ebx + 8]              ; mem_upper, KiB above 1 MiB
    shl ecx, 10
    add ecx, 0x100000
    mov [ram_top], ecx
.no_mem:
    test al, 4
    jz .done
    mov esi, [ebx + 16]             ; cmdline: look for the whitespace-separated word "probe"
.word:
    lodsb
    test al, al
    jz .done
    cmp al, ' '
    je .word
    lea edi, [esi - 1]              ; start of a word
.scan:
    lodsb
    cmp al, ' '
    je .end_word
    test al, al
    jnz .scan
.end_word:
    lea ecx, [esi - 1]
    sub ecx, edi                    ; word length
    cmp ecx, 5
    jne .next
    cmp dword [edi], 'prob'
    jne .next
    cmp byte [edi + 4], 'e'
    jne .next
    mov byte [probe_flag], 1
.next:
    test al, al
    jnz .word
.done:
    ret

; ---- probe: what physical memory can this kernel name? ----------------------------------------
; map_frame: point PROBE_VA at the last page of 4 MiB frame ECX; returns EDI = address of its
; last word. Uses one PTE and INVLPG (a trap plus a shadow-table flush under a VMM).
map_frame:
    mov eax, ecx
    shl eax, 22
    or eax, 0x3FF000 | 3
    mov [pt_probe + 1023*4], eax
    invlpg [PROBE_VA]
    mov edi, PROBE_VA + 0xFFC
    ret

probe:
    PRINT "[trapdemo] probe: RAM per multiboot ends at "
    HEX32 [ram_top]
    PRINTLN "; tagging the last word of each own 4 MiB frame"
    xor ecx, ecx                    ; 1. tag own frames: those that lie wholly below ram_top
.tag:
    mov eax, ecx
    inc eax
    shl eax, 22
    cmp eax, [ram_top]
    ja .tag_done
    call map_frame
    mov eax, ecx
    or eax, TAG_BASE
    mov [edi], eax
    inc ecx
    cmp ecx, 1024
    jb .tag
.tag_done:
    mov [n_own_ram], ecx
    xor ecx, ecx                    ; 2. read every frame of the 4 GiB physical space
    mov dword [run_class], -1
.read:
    call map_frame
    mov byte [probe_fault], 0
    mov byte [probing], 1
..@probe_site:
    mov eax, [edi]                  ; 2 bytes (8B 07): a fault here is caught and skipped
    mov byte [probing], 0
    rol dword [checksum], 5
    xor [checksum], eax
    call classify                   ; EBX = class of frame ECX holding word EAX
    inc dword [n_class + ebx*4]
    cmp ebx, [run_class]
    je .same
    call end_run
    mov [run_class], ebx
    mov [run_start], ecx
.same:
    inc ecx
    cmp ecx, 1024
    jb .read
    call end_run
    mov ebx, [n_class + 0*4]        ; frames with content: own, other data and foreign
    add ebx, [n_class + 3*4]
    add ebx, [n_class + 4*4]
    PRINT "[trapdemo] probe: frames with data "
    PUTDEC ebx
    PRINT " of 1024 (own "
    PUTDEC [n_class + 0*4]
    PRINT ", foreign "
    PUTDEC [n_class + 4*4]
    PRINT ", other "
    PUTDEC [n_class + 3*4]
    PRINT "); zero "
    PUTDEC [n_class + 2*4]
    PRINT ", all-ones "
    PUTDEC [n_class + 1*4]
    PRINT ", faulted "
    PUTDEC [n_class + 5*4]
    NEWLINE
    PRINT "[trapdemo] probe: checksum "
    HEX32 [checksum]
    NEWLINE
    mov eax, [n_class + 4*4]
    mov [n_foreign], eax
    test eax, eax
    jnz .leak
    PRINTLN "[trapdemo] probe: isolation ok, no frame tagged by anyone else is visible"
    ret
.leak:
    PRINTLN "[trapdemo] probe: ISOLATION BROKEN, frames tagged by someone else are visible"
    ret

; classify: EAX = word read from frame ECX (or probe_fault set) -> EBX = class
;   0 own (our tag, frame below ram_top)  1 all-ones  2 zero  3 other data  4 foreign tag  5 faulted
classify:
    mov ebx, 5
    cmp byte [probe_fault], 0
    jne .done
    mov ebx, 1
    cmp eax, 0xFFFFFFFF
    je .done
    mov ebx, 2
    test eax, eax
    jz .done
    mov edx, eax
    and edx, 0xFFFFFC00
    mov ebx, 3
    cmp edx, TAG_BASE
    jne .done
    mov ebx, 4                      ; a tag: ours only if it names this frame and we wrote it
    mov edx, eax
    and edx, 0x3FF
    cmp edx, ecx
    jne .done
    cmp ecx, [n_own_ram]
    jae .done
    xor ebx, ebx
.done:
    ret

; end_run: print the finished run [run_start, ECX) of class run_class, if any
end_run:
    pushad
    mov ebx, [run_class]
    cmp ebx, -1
    je .none
    mov eax, [run_start]
    shl eax, 22
    PRINT "[trapdemo] probe: "
    HEX32 eax
    PRINT "-"
    mov eax, ecx
    shl eax, 22
    dec eax
    HEX32 eax
    PRINT " "
    mov esi, [class_names + ebx*4]
    call puts
    PRINT " ("
    mov eax, ecx
    sub eax, [run_start]
    PUTDEC eax
    PRINTLN " frames)"
.none:
    popad
    ret

; ---- interrupt and exception handlers ------------------------------------------------------------
timer_irq:
    push eax
    inc dword [ticks]
    mov al, 0x20                    ; non-specific EOI
    out PIC1, al
    pop eax
    iret

master_irq:                         ; IRQ1-7 (masked; IRQ7 may be spurious: no EOI then)
    iret

slave_irq:                          ; IRQ8-15 are masked; acknowledge both PICs if one slips through
    push eax
    mov al, 0x20
    out PIC2, al
    out PIC1, al
    pop eax
    iret

divide_error:                       ; #DE: no error code; [esp] = EIP
    cmp dword [esp], ..@de_site
    jne .unexpected
    mov dword [de_eip], ..@de_site
    add dword [esp], 2
    iret
.unexpected:
    push dword 0
    push dword 0
    jmp exception

page_fault:                         ; #PF: [esp] = error code, [esp+4] = EIP (SDM Vol. 3A 6.15)
    push eax
    cmp byte [probing], 0
    jne .probe
    cmp byte [expect_pf], 0
    je .unexpected
    mov eax, cr2                    ; faulting linear address
    mov [pf_cr2], eax
    mov eax, [esp + 4]
    mov [pf_err], eax
    inc dword [pf_count]
    cmp dword [pf_cr2], DEMAND_VA
    jne .unexpected
    mov dword [pt_demand + 0*4], scratch + 3 ; not-present entries are never cached: no INVLPG
    pop eax
    add esp, 4
    iret
.probe:                             ; a VMM may refuse a frame outside the VM: record and skip
    pop eax
    add esp, 4
    jmp probe_skip
.unexpected:
    pop eax
    push dword 14
    jmp exception

; generic: [esp] = vector, [esp+4] = error code (pushed as 0 by the stubs if the CPU pushes none)
exception:
    cmp byte [probing], 0
    je .fatal
    cmp dword [esp + 8], ..@probe_site
    jne .fatal
    add esp, 8
    jmp probe_skip
.fatal:
    mov ebx, [esp]
    mov ecx, [esp + 4]
    mov edx, [esp + 8]
    PRINT "[trapdemo] FAIL: unexpected exception, vector "
    HEX8 ebx
    PRINT " error "
    HEX32 ecx
    PRINT " at EIP "
    HEX32 edx
    NEWLINE
    jmp fail

probe_skip:                         ; stack: EIP, CS, EFLAGS of the faulting probe read
    mov byte [probe_fault], 1
    xor eax, eax                    ; the refused read "returns" 0
    add dword [esp], 2
    iret

%macro EXC_STUB 1
exc_stub_%1:
  %if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17
    push dword %1                   ; the CPU pushed an error code already
  %else
    push dword 0
    push dword %1
  %endif
    jmp exception
%endmacro
%assign i 0
%rep 32
    EXC_STUB i
%assign i i+1
%endrep

; ---- console output (polled 16550) -------------------------------------------------------------
putc:                               ; AL
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20                   ; THR empty
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

puthex32:                           ; EAX as 0xXXXXXXXX
    push ecx
    mov ecx, 8
    jmp puthex
puthex8:                            ; AL as 0xXX
    push ecx
    mov ecx, 2
    ror eax, 8
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
    loop .digit
    pop ecx
    ret

putdec:                             ; EAX unsigned decimal
    pushad
    mov ebx, 10
    xor ecx, ecx
.div:
    xor edx, edx
    div ebx
    push edx
    inc ecx
    test eax, eax
    jnz .div
.out:
    pop eax
    add al, '0'
    call putc
    loop .out
    popad
    ret

; ---- tables ---------------------------------------------------------------------------------------
section .rodata
align 4
handlers:
%assign i 0
%rep 32
  %if i == 0
    dd divide_error
  %elif i == 14
    dd page_fault
  %else
    dd exc_stub_ %+ i
  %endif
%assign i i+1
%endrep
    dd timer_irq
    times 7 dd master_irq
    times 8 dd slave_irq

class_names:
    dd cls_own, cls_ones, cls_zero, cls_other, cls_foreign, cls_fault
cls_own:     db "own RAM (our tags)", 0
cls_ones:    db "all-ones (nothing there)", 0
cls_zero:    db "zero (untagged RAM or nothing there)", 0
cls_other:   db "other data (ROM, MMIO or untagged RAM)", 0
cls_foreign: db "FOREIGN (tagged by someone else)", 0
cls_fault:   db "faulted (refused by the machine)", 0

section .data
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08: code, base 0, limit 4 GiB, DPL 0
    dq 0x00CF92000000FFFF           ; 0x10: data, base 0, limit 4 GiB, DPL 0
gdt_tss:
    dw 103, 0                       ; 0x18: 32-bit available TSS, base filled in at run time
    db 0, 0x89, 0x00, 0
gdt_end:
align 4
    dw 0
gdtr:
    dw gdt_end - gdt - 1
    dd gdt
    dw 0
idtr:
    dw 48*8 - 1
    dd idt
ram_top:    dd 0
run_class:  dd -1

section .bss
alignb 4096
page_dir:   resb 4096
pt_low:     resb 4096
pt_demand:  resb 4096
pt_probe:   resb 4096
page_a:     resb 4096
page_b:     resb 4096
scratch:    resb 4096
idt:        resb 48*8
tss:        resb 104
alignb 4
ticks:      resd 1
pf_cr2:     resd 1
pf_err:     resd 1
pf_count:   resd 1
de_eip:     resd 1
n_own_ram:  resd 1
n_foreign:  resd 1
run_start:  resd 1
checksum:   resd 1
n_class:    resd 6
expect_pf:  resb 1
probing:    resb 1
probe_fault: resb 1
probe_flag: resb 1
alignb 16
            resb 8192
stack_top:
