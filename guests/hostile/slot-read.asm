; slot-read — self-checking guest: *reads* (and code fetches) in the top 4 MiB, where a
; trap-and-emulate VMM keeps its shadow GDT/LDT (issue 16, item 7). The page-table cases of
; slot.asm make the VMM's pages fault; these do not: natively they are the guest's own #PF or its
; own memory, and under the VMM the guest must not be able to tell.
;   1. paging off: a read at 0xFFC00000 and 0xFFC10000 (no RAM there) reads all ones
;   2. paging on, every 4 MiB mapped but the top one: reads at 0xFFC00000 (shadow GDT), 0xFFC10008
;      (shadow LDT), a read through SS, a dword read straddling 0xFFC00000, a REP LODSD and a
;      jump into the slot are each the guest's own #PF (error code 0, CR2, the faulting EIP)
;   3. the guest maps the top 4 MiB by writing its PDE, *without* reloading CR3 (a not-present
;      entry is never cached: SDM Vol.3 §4.10.2.3): reads see its own memory, a write and a
;      REP MOVSD there work, code it put there runs
;   4. it unmaps it again (PDE cleared, INVLPG): the read is its #PF again
; Output and exit as every lib.inc guest: "PASS …"/"FAIL …" lines, exit 0 when all passed.
%include "../cputests/lib.inc"

P           equ 1
RW          equ 2
PS          equ 0x80
PATTERN     equ 0x00800000          ; guest-physical 8 MiB: what the guest maps at 0xFFC00000

section .rodata
guest_banner: db "hostile slot-read", 13, 10, 0

section .text
main:
    ; ---- 1. paging off: nothing at 0xFFC00000 (all ones natively) ----
    TRY .s1
    mov eax, [0xFFC00000]
    mov ebx, [0xFFC10000]
.s1:
    ENDTRY
    CHECK "paging off, read at 0xFFC00000: no exception", 0xFFFFFFFF, [exc_vec]
    CHECK "paging off, read at 0xFFC00000: all ones", 0xFFFFFFFF, eax
    CHECK "paging off, read at 0xFFC10000: all ones", 0xFFFFFFFF, ebx

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
    mov eax, [0xFFC00000]
.s2:
    ENDTRY
    CHECK "read at 0xFFC00000, top PDE not present: #PF", 14, [exc_vec]
    CHECK "read at 0xFFC00000: error code 0 (read, supervisor, not present)", 0, [exc_err]
    CHECK "read at 0xFFC00000: CR2", 0xFFC00000, [exc_cr2]

    TRY .s3
    movzx eax, word [0xFFC10008]
.s3:
    ENDTRY
    CHECK "read at 0xFFC10008: #PF", 14, [exc_vec]
    CHECK "read at 0xFFC10008: CR2", 0xFFC10008, [exc_cr2]

    TRY .s4
    mov eax, [ss:0xFFC00010]
.s4:
    ENDTRY
    CHECK "read through SS at 0xFFC00010: #PF", 14, [exc_vec]
    CHECK "read through SS at 0xFFC00010: CR2", 0xFFC00010, [exc_cr2]

    TRY .s5
    mov eax, [0xFFBFFFFE]
.s5:
    ENDTRY
    CHECK "read straddling 0xFFC00000: #PF", 14, [exc_vec]
    CHECK "read straddling 0xFFC00000: error code 0", 0, [exc_err]
    mov eax, [exc_cr2]
    and eax, 0xFFFFF000
    CHECK "read straddling 0xFFC00000: CR2 in the unmapped page", 0xFFC00000, eax

    TRY .s6
    mov esi, 0xFFC00020
    mov ecx, 4
    rep lodsd
.s6:
    ENDTRY
    CHECK "REP LODSD at 0xFFC00020: #PF", 14, [exc_vec]
    CHECK "REP LODSD at 0xFFC00020: CR2", 0xFFC00020, [exc_cr2]

    TRY .s7
    mov eax, 0xFFC00040
    jmp eax
.s7:
    ENDTRY
    CHECK "jump to 0xFFC00040: #PF", 14, [exc_vec]
    CHECK "jump to 0xFFC00040: CR2", 0xFFC00040, [exc_cr2]
    CHECK "jump to 0xFFC00040: the faulting EIP", 0xFFC00040, [exc_eip]

    ; ---- 3. map the top 4 MiB (to PATTERN) by writing its PDE; no CR3 reload, no INVLPG ----
    mov dword [PATTERN], 0x600DF00D
    mov dword [PATTERN + 0x10000], 0xC0FFEE11
    mov byte [PATTERN + 0x40], 0xB8         ; mov eax, 0x5107C0DE
    mov dword [PATTERN + 0x41], 0x5107C0DE
    mov byte [PATTERN + 0x45], 0xC3         ; ret
    mov dword [page_dir + 1023 * 4], PATTERN | P | RW | PS
    TRY .s8
    mov ebp, [0xFFC00000]
    mov ebx, [0xFFC10000]
    mov dword [0xFFC00100], 0xFEEDFACE
    mov esi, 0xFFC00100
    mov edi, copy
    mov ecx, 1
    rep movsd
    mov ecx, 0xFFC00040
    call ecx
    mov edx, eax
.s8:
    ENDTRY
    CHECK "guest maps 0xFFC00000 (no flush): no exception", 0xFFFFFFFF, [exc_vec]
    CHECK "read at 0xFFC00000 sees the guest's memory", 0x600DF00D, ebp
    CHECK "read at 0xFFC10000 sees the guest's memory", 0xC0FFEE11, ebx
    CHECK "write at 0xFFC00100 lands in the guest's memory", 0xFEEDFACE, [PATTERN + 0x100]
    CHECK "REP MOVSD from 0xFFC00100", 0xFEEDFACE, [copy]
    CHECK "code at 0xFFC00040 runs", 0x5107C0DE, edx

    ; ---- 4. unmap it again (PDE cleared, INVLPG): the guest's #PF again ----
    mov dword [page_dir + 1023 * 4], 0
    invlpg [0xFFC00000]
    TRY .s9
    mov eax, [0xFFC00000]
.s9:
    ENDTRY
    CHECK "read after unmapping: #PF", 14, [exc_vec]
    CHECK "read after unmapping: CR2", 0xFFC00000, [exc_cr2]
    jmp finish

section .bss
alignb 4096
page_dir: resb 4096
copy: resd 1
