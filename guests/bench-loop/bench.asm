; bench-loop — a CPU-bound benchmark guest for `npm run bench`.
;
; Multiboot v1 kernel (loaded at 1 MiB). Turns paging on (identity map of 0..8 MiB with 4-KiB
; pages), then runs a fixed workload mixing integer ALU, loads/stores to a 4-KiB array, near
; calls/returns and data-dependent branches: OUTER passes over 1024 dwords, each element mixed
; into a running checksum by `mix` and written back. Prints "bench-loop checksum=XXXXXXXX" on COM1
; and exits with 0 through isa-debug-exit (port 0xF4). See README.md for the instruction count.

bits 32

MB_MAGIC    equ 0x1BADB002
MB_FLAGS    equ 0x00000003
COM1        equ 0x3F8
DEBUG_EXIT  equ 0xF4
ELEMS       equ 1024
OUTER       equ 18000

section .multiboot
align 4
    dd MB_MAGIC
    dd MB_FLAGS
    dd -(MB_MAGIC + MB_FLAGS)

section .text
global start
start:
    cli
    cld
    mov esp, stack_top
    ; identity-map 0..8 MiB with 4-KiB pages (supervisor, writable)
    mov edi, page_tables
    mov eax, 0x003
    mov ecx, 2 * 1024
.map:
    stosd
    add eax, 4096
    loop .map
    mov edi, page_dir
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [page_dir + 0], page_tables + 0x003
    mov dword [page_dir + 4], page_tables + 4096 + 0x003
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
    ; a[i] = (i * 0x01000193) ^ 0x811C9DC5
    xor ecx, ecx
.init:
    mov eax, ecx
    imul eax, eax, 0x01000193
    xor eax, 0x811C9DC5
    mov [array + ecx * 4], eax
    inc ecx
    cmp ecx, ELEMS
    jb .init

    xor ebx, ebx                    ; checksum
    mov ebp, OUTER
.outer:
    mov esi, array
    mov ecx, ELEMS
.inner:
    mov eax, [esi]
    call mix
    mov [esi], eax
    add esi, 4
    dec ecx
    jnz .inner
    dec ebp
    jnz .outer

    mov esi, msg
    call puts
    mov eax, ebx
    call puthex
    mov esi, crlf
    call puts
    xor eax, eax
    mov dx, DEBUG_EXIT
    out dx, al
.hang:
    hlt
    jmp .hang

; mix: EAX = element, EBX = checksum -> EAX = new element, EBX = new checksum
mix:
    xor eax, ebx
    rol eax, 5
    add eax, 0x9E3779B9
    test al, 1
    jz .even
    lea ebx, [ebx + eax * 2 + 1]
    jmp .done
.even:
    sub ebx, eax
.done:
    ret

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

puthex:
    mov ecx, 8
    mov edi, hexbuf
.digit:
    rol eax, 4
    mov edx, eax
    and edx, 0xF
    mov dl, [hexdigits + edx]
    mov [edi], dl
    inc edi
    loop .digit
    mov byte [edi], 0
    mov esi, hexbuf
    jmp puts

section .rodata
msg:        db "bench-loop checksum=", 0
crlf:       db 13, 10, 0
hexdigits:  db "0123456789ABCDEF"

section .bss
alignb 4096
page_dir:    resb 4096
page_tables: resb 2 * 4096
array:       resd ELEMS
hexbuf:      resb 12
alignb 16
             resb 4096
stack_top:
