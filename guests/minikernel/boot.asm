; minikernel: the assembly a C kernel cannot do without — multiboot entry, interrupt entry
; stubs, the context switch, GDT/TSS loading, and the nanobenchmark loops (written here so
; every iteration is exactly the instructions named, whatever the C compiler does).

bits 32

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00000003             ; page-align modules, provide memory info
%ifdef PV
KCODE    equ 0x09                   ; ring 1 under the hypervisor (kernel.h)
KDATA    equ 0x11
%else
KCODE    equ 0x08
KDATA    equ 0x10
%endif

section .multiboot
align 4
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

%ifdef PV
; The PV guest header: Xen ELF notes (xen/include/public/elfnote.h), in the first 8 KiB like the
; multiboot header. A hypervisor that finds no such header refuses to start the kernel.
%macro XEN_NOTE_STR 2
    dd 4, %%e - %%d, %1
    db "Xen", 0
%%d: db %2, 0
%%e: align 4, db 0
%endmacro
%macro XEN_NOTE_U32 2
    dd 4, 4, %1
    db "Xen", 0
    dd %2
%endmacro
section .note.Xen note alloc noexec nowrite align=4
    XEN_NOTE_STR 6, "minikernel"            ; XEN_ELFNOTE_GUEST_OS
    XEN_NOTE_STR 5, "xen-3.0"               ; XEN_ELFNOTE_XEN_VERSION
    XEN_NOTE_STR 8, "generic"               ; XEN_ELFNOTE_LOADER
    XEN_NOTE_U32 3, 0                       ; XEN_ELFNOTE_VIRT_BASE: virtual = pseudo-physical
    XEN_NOTE_U32 1, start                   ; XEN_ELFNOTE_ENTRY
    XEN_NOTE_U32 2, hypercall_page          ; XEN_ELFNOTE_HYPERCALL_PAGE
%endif

section .text
global start
extern kmain, trap
%ifdef PV
extern shared_info_page
%endif
start:
    mov esp, boot_stack_top         ; becomes the kernel stack of process 0 (idle)
%ifdef PV
    cmp eax, 0x2BADB002             ; a multiboot loader, not a hypervisor: this is bare metal
    je not_virtualized
    push esi                        ; start_info (the hypervisor's domain builder)
%else
    push ebx                        ; multiboot info
    push eax                        ; loader magic
%endif
    call kmain
.hang:
    cli
    hlt
    jmp .hang

%ifdef PV
; Started natively (ring 0, no hypervisor): say so on COM1, polled, and power off (status 2).
not_virtualized:
    mov esi, .msg
.next:
    mov dx, 0x3FD
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    mov dx, 0x3F8
    lodsb
    test al, al
    jz .off
    out dx, al
    jmp .next
.off:
    mov al, 2
    out 0xF4, al
    jmp start.hang
.msg: db 13, 10, "minikernel-pv is paravirtualized: it needs the paravirtual hypervisor (--technique pv)", 13, 10, 0
%endif

; ---- interrupt entry: every vector builds a struct regs and calls trap(regs) ------------------
%macro STUB 1
isr_%1:
  %if %1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17
    push dword %1                   ; the CPU pushed an error code (SDM Vol. 3A, 6.13)
  %else
    push dword 0
    push dword %1
  %endif
    jmp isr_common
%endmacro
%assign i 0
%rep 48
    STUB i
%assign i i+1
%endrep
    STUB 128

%ifdef PV
; Events arrive as upcalls to this callback (set_callbacks), on a frame like an interrupt's.
global hypervisor_callback, failsafe_callback
hypervisor_callback:
    push dword 0
    push dword 256                  ; VECTOR_EVENT (kernel.h)
    jmp isr_common
failsafe_callback:                  ; the hypervisor could not reload our segment registers
    push dword 0
    push dword 257
    jmp isr_common
%endif

isr_common:
    pushad
    push ds
    push es
    push fs
    push gs
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    push esp                        ; struct regs *
    call trap
    add esp, 4
global trapret
trapret:                            ; also where a new process's first switch_context returns to
    pop gs
    pop fs
    pop es
    pop ds
    popad
    add esp, 8                      ; vector, error code
%ifdef PV
    test byte [esp + 4], 2          ; back to ring 3? (CS RPL)
    jz .hypervisor_iret
    mov byte [shared_info_page + 1], 0 ; user mode always runs with events unmasked
    cmp byte [shared_info_page], 0  ; an event pending? let the hypervisor deliver it on the way
    jne .hypervisor_iret
    iretd                           ; ring 1 -> ring 3: a real IRET, no hypervisor involved
.hypervisor_iret:                   ; restores the event mask from the frame's IF atomically
    jmp hypercall_page + 23 * 32
%else
    iretd
%endif

section .rodata
global isr_table
isr_table:
%assign i 0
%rep 48
    dd isr_ %+ i
%assign i i+1
%endrep
    dd isr_128

section .text
; void switch_context(u32 *save_ksp, u32 new_ksp): save callee-saved registers on this kernel
; stack, park its ESP, adopt the other one. A new stack is laid out as edi, esi, ebx, ebp, eip.
global switch_context
switch_context:
    mov eax, [esp + 4]
    mov edx, [esp + 8]
    push ebp
    push ebx
    push esi
    push edi
    mov [eax], esp
    mov esp, edx
    pop edi
    pop esi
    pop ebx
    pop ebp
    ret

; void gdt_load(void *gdtr, u32 tss_sel)
global gdt_load
gdt_load:
%ifndef PV
    mov eax, [esp + 4]
    lgdt [eax]
%endif
    jmp KCODE:.reload
.reload:
    mov ax, KDATA
    mov ds, ax
    mov es, ax
    mov fs, ax
    mov gs, ax
    mov ss, ax
%ifndef PV
    mov eax, [esp + 8]
    ltr ax
%endif
    ret

; ---- nanobenchmarks (Adams & Agesen 2006, section 5.1) -----------------------------------------
; Each: u32 bench_x(u32 n, ...) -> TSC cycles for n iterations (low 32 bits of the difference).
; Called with interrupts disabled so no timer interrupt lands inside a measurement.
%macro TSC_START 0
    rdtsc
    mov [tsc0], eax
%endmacro
%macro TSC_END 0
    rdtsc
    sub eax, [tsc0]
%endmacro

%ifdef PV
global bench_in_site
bench_in_site equ ..@in_site
%endif
global bench_in
bench_in:                           ; IN from port 0x80 (the POST port): one I/O access
    mov ecx, [esp + 4]
    TSC_START
.loop:
%ifdef PV
..@in_site:                         ; #GP at ring 1: reflected, the handler skips the 2 bytes
%endif
    in al, 0x80
    dec ecx
    jnz .loop
    TSC_END
    ret

%ifdef PV
global bench_crwrite
bench_crwrite:                      ; CR0.TS through the fpu_taskswitch hypercall (Xen's stts/clts)
    push ebx
    mov ecx, [esp + 8]
    xor ebx, ebx
    TSC_START
.loop:
    xor ebx, 1                      ; set, clear, set, …
    call hypercall_page + 5 * 32
    dec ecx
    jnz .loop
    TSC_END
    push eax
    xor ebx, ebx                    ; leave TS clear
    call hypercall_page + 5 * 32
    pop eax
    pop ebx
    ret
%else
global bench_crwrite
bench_crwrite:                      ; MOV to CR0 toggling TS, as lazy-FPU context switches do
    push ebx
    mov ecx, [esp + 8]
    mov ebx, cr0
    TSC_START
.loop:
    xor ebx, 8                      ; CR0.TS
    mov cr0, ebx
    dec ecx
    jnz .loop
    TSC_END
    clts                            ; leave TS clear
    pop ebx
    ret

%endif

global bench_callret
bench_callret:                      ; a near CALL and its RET
    mov ecx, [esp + 4]
    TSC_START
.loop:
    call .leaf
    dec ecx
    jnz .loop
    TSC_END
    ret
.leaf:
    ret

%ifdef PV
global bench_pgfault
bench_pgfault:                      ; clear P with update_va_mapping(INVLPG), touch: #PF reflected
    push ebx
    push esi
    push edi
    push ebp
    mov ebp, [esp + 20]             ; n
    mov edi, [esp + 24]             ; pte
    TSC_START
.loop:
    mov ecx, [edi]
    and ecx, ~1
    mov ebx, [esp + 28]             ; va
    xor edx, edx
    mov esi, 2                      ; UVMF_INVLPG
    call hypercall_page + 14 * 32
    mov ebx, [esp + 28]
    mov eax, [ebx]                  ; faults; retried after the handler maps the page again
    dec ebp
    jnz .loop
    TSC_END
    pop ebp
    pop edi
    pop esi
    pop ebx
    ret
%else
global bench_pgfault
bench_pgfault:                      ; clear P in a PTE, INVLPG, touch: #PF, the handler sets P
    push ebx
    push esi
    mov ecx, [esp + 12]             ; n
    mov ebx, [esp + 16]             ; pte
    mov esi, [esp + 20]             ; va
    TSC_START
.loop:
    and dword [ebx], ~1
    invlpg [esi]
    mov eax, [esi]                  ; faults; retried after the handler maps the page again
    dec ecx
    jnz .loop
    TSC_END
    pop esi
    pop ebx
    ret

%endif

global bench_divzero, bench_div_site
bench_div_site equ ..@div_site
bench_divzero:                      ; DIV by zero: #DE, the handler skips the 2-byte DIV
    push ebx
    mov ecx, [esp + 8]
    xor ebx, ebx
    TSC_START
.loop:
    mov eax, 1
    xor edx, edx
..@div_site:
    div ebx                         ; F7 F3
    dec ecx
    jnz .loop
    TSC_END
    pop ebx
    ret

%ifdef PV
global bench_ptemod
bench_ptemod:                       ; a PTE update through update_va_mapping(INVLPG)
    push ebx
    push esi
    push edi
    push ebp
    mov ebp, [esp + 20]             ; n
    mov edi, [esp + 24]             ; pte
    TSC_START
.loop:
    mov ecx, [edi]
    xor ecx, 0x200                  ; PTE bit 9: available to software
    mov ebx, [esp + 28]
    xor edx, edx
    mov esi, 2                      ; UVMF_INVLPG
    call hypercall_page + 14 * 32
    dec ebp
    jnz .loop
    TSC_END
    push eax
    mov ecx, [edi]
    and ecx, ~0x200
    mov ebx, [esp + 32]
    xor edx, edx
    mov esi, 2
    call hypercall_page + 14 * 32
    pop eax
    pop ebp
    pop edi
    pop esi
    pop ebx
    ret
%else
global bench_ptemod
bench_ptemod:                       ; store to a live PTE (an OS-available bit) + INVLPG
    push ebx
    push esi
    mov ecx, [esp + 12]
    mov ebx, [esp + 16]
    mov esi, [esp + 20]
    TSC_START                       ; (clobbers EDX)
    mov edx, [ebx]
.loop:
    xor edx, 0x200                  ; PTE bit 9: available to software
    mov [ebx], edx
    invlpg [esi]
    dec ecx
    jnz .loop
    TSC_END
    and dword [ebx], ~0x200
    pop esi
    pop ebx
    ret

%endif

; ---- the user programs, linked at 0x40000000 and copied into each new address space ----------
section .rodata
align 16
global user_image, user_image_end
user_image:
    incbin "user.bin"
user_image_end:

%ifdef PV
; Filled by the hypervisor with 32-byte stubs: mov eax, nr; int 0x82; ret (iret: push eax first).
section .text
align 4096
global hypercall_page
hypercall_page:
    times 4096 db 0xCC
%endif

section .bss
alignb 4
tsc0: resd 1
alignb 16
global boot_stack, boot_stack_top
boot_stack:
    resb 8192
boot_stack_top:

section .note.GNU-stack noalloc noexec nowrite progbits
