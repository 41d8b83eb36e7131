; storm — a hostile guest that never retires another instruction once it starts its storm.
;
; Every IDT gate points at one handler whose first instruction raises the event again, so the CPU
; delivers event after event (each pushes a frame; the stack wraps through the 4 GiB address
; space) and no instruction ever completes. Built twice (build.sh):
;   storm-ud.elf    the handler is UD2: an exception storm (#UD, a fault, SDM Vol.3 §6.15)
;   storm-int3.elf  the handler is INT3: a software-trap storm (under a VMM each is a trap
;                   reflected to the guest's IDT, so this is the "trap storm")
; Before the storm it prints "storm: go" on COM1, so a test knows the storm has begun.
; Nothing must hang the host: a budget, --max-instructions and a signal must all still stop it.

bits 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00000003
COM1        equ 0x3F8

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .text
global start
start:
    mov esp, 0x90000                ; below the kernel: the storm's frames grow away from it
    lgdt [gdt_desc]
    jmp 0x08:.cs_ok
.cs_ok:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    ; 256 interrupt gates (type 0xE, DPL 3 so INT3 from any ring passes) → handler
    mov edi, idt
    mov ecx, 256
    mov eax, handler
.gate:
    mov word [edi], ax
    mov word [edi + 2], 0x08
    mov word [edi + 4], 0xEE00
    mov ebx, eax
    shr ebx, 16
    mov word [edi + 6], bx
    add edi, 8
    loop .gate
    lidt [idt_desc]
    mov esi, msg_go
    call puts
handler:
%ifdef INT3
    int3
%else
    ud2
%endif

; puts: write the NUL-terminated string at ESI to COM1.
puts:
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    lodsb
    test al, al
    jz .done
    mov dx, COM1
    out dx, al
    jmp puts
.done:
    ret

section .rodata
msg_go: db "storm: go", 13, 10, 0
align 8
gdt:
    dq 0
    dq 0x00CF9A000000FFFF           ; 0x08: flat 32-bit code, DPL 0
    dq 0x00CF92000000FFFF           ; 0x10: flat 32-bit data, DPL 0
gdt_end:
gdt_desc:
    dw gdt_end - gdt - 1
    dd gdt
idt_desc:
    dw 256 * 8 - 1
    dd idt

section .bss
alignb 4096                         ; not on the GDT's page (a VMM write-protects that one)
idt: resb 256 * 8
