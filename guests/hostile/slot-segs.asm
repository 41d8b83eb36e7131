; slot-segs — self-checking guest: the guest kernel's segments as it set them, although a binary-
; translating VMM cuts its data segments below its hidden slot and keeps GS for itself while the
; translated code runs (src/hypervisor/binary-translation/vmm-gs.ts). Natively it is its own oracle.
;   1. LSL/LAR report the guest's own limits (flat DS: 4 GiB, not the VMM's cut)
;   2. GS loaded, read (MOV r32/r16/m16,GS; PUSH GS, 32- and 16-bit: the forms binary translation
;      performs inline from its own copy of the selector), used for reads and writes, beyond its
;      own limit (#GP), LGS; FS loaded from a pushed GS
;   3. a read through a CS override
;   4. paging on, the top 4 MiB mapped by the guest: reads and writes there through DS, SS, GS
;      and a string instruction all reach the guest's own memory
; Output and exit as every lib.inc guest: "PASS …"/"FAIL …" lines, exit 0 when all passed.
%include "../cputests/lib.inc"

P           equ 1
RW          equ 2
PS          equ 0x80
PATTERN     equ 0x00800000          ; guest-physical 8 MiB: what the guest maps at 0xFFC00000
SMALL       equ SEL_FREE            ; data, base 2 MiB, limit 64 KiB - 1
SMALL_BASE  equ 0x00200000

section .rodata
guest_banner: db "hostile slot-segs", 13, 10, 0
cs_value:     dd 0x0C0DEC5

section .data
far_ptr:      dd 0x1234
              dw SEL_KDATA

section .text
main:
    GDT_DESC SMALL, SMALL_BASE, 0xFFFF, ACC_DATA0, FLG_32

    ; ---- 1. the guest's own limits ----
    mov ebx, SEL_KDATA
    lsl eax, ebx
    CHECK "LSL flat kernel data: 4 GiB - 1", 0xFFFFFFFF, eax
    mov ebx, SMALL
    lsl eax, ebx
    CHECK "LSL small data segment", 0xFFFF, eax
    mov ebx, SEL_KDATA
    lar eax, ebx
    and eax, 0x00F0FF00
    CHECK "LAR flat kernel data", 0x00C09300, eax

    ; ---- 2. GS ----
    mov dword [SMALL_BASE + 0x10], 0xCAFEBABE
    mov ax, SMALL
    mov gs, ax
    mov eax, 0xFFFFFFFF
    mov eax, gs
    CHECK "MOV r32, GS", SMALL, eax
    mov eax, [gs:0x10]
    CHECK "read through GS", 0xCAFEBABE, eax
    mov dword [gs:0x20], 0x12345678
    CHECK "write through GS", 0x12345678, [SMALL_BASE + 0x20]
    mov eax, 0xABCD5555
    mov ax, gs
    CHECK "MOV r16, GS keeps the upper half", 0xABCD0000 | SMALL, eax
    mov dword [SMALL_BASE + 0x30], 0x77777777
    mov [SMALL_BASE + 0x30], gs
    CHECK "MOV m16, GS stores a word", 0x77770000 | SMALL, [SMALL_BASE + 0x30]
    push dword 0xFFFFFFFF
    pop eax                             ; the slot below ESP now holds all ones
    push gs
    mov eax, [esp]
    add esp, 4
    CHECK "PUSH GS (32-bit) writes the selector zero-extended", SMALL, eax
    mov ecx, esp
    o16 push gs
    sub ecx, esp
    pop ax
    CHECK "o16 PUSH GS moves ESP by 2", 2, ecx
    push gs
    pop fs
    mov eax, fs
    CHECK "PUSH GS; POP FS", SMALL, eax
    mov eax, [fs:0x10]
    CHECK "read through FS", 0xCAFEBABE, eax
    TRY .g1
    mov eax, [gs:0x10000]
.g1:
    ENDTRY
    CHECK "read through GS beyond its limit: #GP", 13, [exc_vec]
    CHECK "read through GS beyond its limit: error code 0", 0, [exc_err]
    lgs eax, [far_ptr]
    CHECK "LGS offset", 0x1234, eax
    mov eax, gs
    CHECK "LGS selector", SEL_KDATA, eax

    ; ---- 3. CS override ----
    mov eax, [cs:cs_value]
    CHECK "read through CS", 0x0C0DEC5, eax

    ; ---- 4. paging on, the guest maps the top 4 MiB ----
    mov eax, cr4
    or eax, 0x10                    ; PSE
    mov cr4, eax
    mov edi, page_dir
    xor ecx, ecx
.pde:
    mov eax, ecx
    and eax, 3                      ; PDE i → 4 MiB frame (i mod 4): aliases of the low 16 MiB
    shl eax, 22
    or eax, P | RW | PS
    mov [edi + ecx * 4], eax
    inc ecx
    cmp ecx, 1023
    jb .pde
    mov dword [page_dir + 1023 * 4], PATTERN | P | RW | PS
    mov dword [PATTERN], 0x600DF00D
    mov dword [PATTERN + 4], 0x600DF004
    mov dword [PATTERN + 8], 0x600DF008
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
    mov eax, [0xFFC00000]
    CHECK "read at 0xFFC00000 through DS", 0x600DF00D, eax
    mov eax, [ss:0xFFC00004]
    CHECK "read at 0xFFC00004 through SS", 0x600DF004, eax
    mov eax, [gs:0xFFC00008]
    CHECK "read at 0xFFC00008 through GS", 0x600DF008, eax
    mov dword [0xFFC00200], 0xFEEDFACE
    CHECK "write at 0xFFC00200 lands in the guest's memory", 0xFEEDFACE, [PATTERN + 0x200]
    mov esi, 0xFFC00000
    mov edi, copy
    mov ecx, 3
    rep movsd
    CHECK "REP MOVSD from 0xFFC00000", 0x600DF008, [copy + 8]
    mov eax, [0xFFFFFFFC]
    mov ebx, [PATTERN + 0x3FFFFC]
    CHECK "read at 0xFFFFFFFC", ebx, eax
    jmp finish

section .bss
alignb 4096
page_dir: resb 4096
copy: resd 4
