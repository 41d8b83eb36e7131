; slot — self-checking guest for the 4 MiB where a trap-and-emulate VMM keeps its shadow GDT/LDT
; (address-space compression; the VMM starts at 0xFFC00000). Run natively it is the oracle: every
; check passes on the bare machine; under the VMM the guest must not be able to tell.
;   1. paging off, a dword store straddling 0xFFC00000 completes (the VMM once moved its region
;      back and forth between the two slots forever)
;   2. paging on, the guest maps every 4 MiB but the top one: a write at 0xFFC00000 is the guest's
;      own #PF (error code 2, CR2 = 0xFFC00000) — not "no 4 MiB left for the VMM"
;   3. the guest maps the top 4 MiB too (then CR3 reload): reads at 0xFFC00000 and 0xFFC10000
;      (where the shadow GDT and LDT sit) see the guest's own memory
;   4. a store straddling 0x80000000 into a slot the guest does not map: the guest's #PF
; Output and exit as every lib.inc guest: "PASS …"/"FAIL …" lines, exit 0 when all passed.
%include "../cputests/lib.inc"

P           equ 1
RW          equ 2
PS          equ 0x80
PATTERN     equ 0x00800000          ; guest-physical 8 MiB: what the guest maps at 0xFFC00000

section .rodata
guest_banner: db "hostile slot", 13, 10, 0

section .text
main:
    ; ---- 1. paging off: a store across 0xFFC00000 (no RAM there: natively the bytes are lost) ----
    TRY .s1
    mov dword [0xFFBFFFFE], 0x12345678
    mov eax, [0xFFBFFFFE]
.s1:
    ENDTRY
    CHECK "store across 0xFFC00000, paging off: no exception", 0xFFFFFFFF, [exc_vec]

    ; ---- 2. paging on (4 MiB pages); every PDE present except 1023 ----
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
    mov dword [page_dir + 1023 * 4], 0
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    jmp .paged
.paged:
    TRY .s2
    mov dword [0xFFC00000], 0x5A5A5A5A
.s2:
    ENDTRY
    CHECK "write at 0xFFC00000, top PDE not present: #PF", 14, [exc_vec]
    CHECK "write at 0xFFC00000: error code W", 2, [exc_err]
    CHECK "write at 0xFFC00000: CR2", 0xFFC00000, [exc_cr2]

    ; ---- 3. map the top 4 MiB (to PATTERN) and free PDE 512; reload CR3 ----
    mov dword [PATTERN], 0x600DF00D
    mov dword [PATTERN + 0x10000], 0xC0FFEE11
    mov dword [page_dir + 1023 * 4], PATTERN | P | RW | PS
    mov dword [page_dir + 512 * 4], 0
    mov eax, page_dir
    mov cr3, eax
    TRY .s3
    mov eax, [0xFFC00000]
    mov ebx, [0xFFC10000]
.s3:
    ENDTRY
    CHECK "read at 0xFFC00000, guest maps it: no exception", 0xFFFFFFFF, [exc_vec]
    CHECK "read at 0xFFC00000 sees the guest's memory", 0x600DF00D, eax
    CHECK "read at 0xFFC10000 sees the guest's memory", 0xC0FFEE11, ebx

    ; ---- 4. a store straddling 0x80000000 (PDE 511 present, PDE 512 not) ----
    TRY .s4
    mov dword [0x7FFFFFFE], 0x11223344
.s4:
    ENDTRY
    CHECK "store across 0x80000000 into an unmapped slot: #PF", 14, [exc_vec]
    CHECK "store across 0x80000000: error code W", 2, [exc_err]
    mov eax, [exc_cr2]
    and eax, 0xFFFFF000             ; (which byte of the second page CR2 names is not pinned here)
    CHECK "store across 0x80000000: CR2 in the unmapped page", 0x80000000, eax
    jmp finish

section .bss
alignb 4096
page_dir: resb 4096
