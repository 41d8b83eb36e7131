; paging — 32-bit paging (SDM Vol. 3A chapter 4): #PF error codes and CR2 (§4.7), U/S and R/W
; with CR0.WP (§4.6), accessed/dirty flags (§4.8), PSE 4-MiB pages (§4.3), INVLPG and CR3 reload
; (§4.10.4). TLB staleness (using an old translation after a PTE change without INVLPG) is
; implementation-dependent and deliberately NOT tested; only "after INVLPG / CR3 load the new
; mapping is used" is.
; Also not tested: whether the PDE's accessed flag gets set when the walk then finds a not-present
; PTE (the SDM does not pin this down; QEMU 7.2 sets it).
%include "lib.inc"

VBASE       equ 0x02000000          ; PDE 8 -> test_pt; page k at VBASE + k*4096
V4M         equ 0x02400000          ; PDE 9 -> a 4-MiB page
FRAMES      equ 0x00400000          ; frame k at FRAMES + k*4096 (identity-mapped too)
P           equ 1
RW          equ 2
US          equ 4
PTE_A       equ 0x20
PTE_D       equ 0x40
PS          equ 0x80

%define V(k) (VBASE + (k) * 4096)
%define F(k) (FRAMES + (k) * 4096)

; SETPTE k, flags: test_pt[k] = F(k) | flags (or 0), then INVLPG.
%macro SETPTE 2
%if (%2) == 0
    mov dword [test_pt + (%1) * 4], 0
%else
    mov dword [test_pt + (%1) * 4], F(%1) | (%2)
%endif
    invlpg [V(%1)]
%endmacro

%macro R3 1
    TRY %%back
    RING3 %1, 0x202
%%back:
    ENDTRY
%endmacro

section .rodata
guest_banner: db "cputest paging", 13, 10, 0

section .text
main:
    ; identity-map 0..16 MiB with 4-KiB pages, user + writable
    mov edi, pt_id
    mov eax, P | RW | US
    mov ecx, 4 * 1024
.fill:
    stosd
    add eax, 4096
    loop .fill
    mov dword [page_dir + 0 * 4], pt_id + 0 * 4096 + (P | RW | US)
    mov dword [page_dir + 1 * 4], pt_id + 1 * 4096 + (P | RW | US)
    mov dword [page_dir + 2 * 4], pt_id + 2 * 4096 + (P | RW | US)
    mov dword [page_dir + 3 * 4], pt_id + 3 * 4096 + (P | RW | US)
    mov dword [page_dir + 8 * 4], test_pt + (P | RW | US)
    ; distinct contents in each test frame: F(k) holds k * 0x11111111
    xor ecx, ecx
.frames:
    mov eax, ecx
    imul eax, eax, 0x11111111
    mov edx, ecx
    shl edx, 12
    mov [FRAMES + edx], eax
    inc ecx
    cmp ecx, 16
    jb .frames
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000              ; PG (WP stays 0)
    and eax, ~0x00010000
    mov cr0, eax
    jmp .paged
.paged:
    mov eax, cr0
    shr eax, 31
    CHECK "paging enabled", 1, eax

    ; --- #PF error codes (§4.7, Figure 4-12): bit0 P, bit1 W/R, bit2 U/S; CR2 = linear address.
    SETPTE 0, 0
    TRY .t1
.t1_insn:
    mov eax, [V(0) + 0x123]
.t1:
    ENDTRY
    CHECK "pf-notpresent-read-cpl0: vector", 14, [exc_vec]
    CHECK "pf-notpresent-read-cpl0: error code 0", 0, [exc_err]
    CHECK "pf-notpresent-read-cpl0: CR2", V(0) + 0x123, [exc_cr2]
    CHECK "pf-notpresent-read-cpl0: faulting EIP", .t1_insn, [exc_eip]
    mov eax, 0x12345678
    TRY .t2
    mov dword [V(0) + 0x456], 1
.t2:
    ENDTRY
    CHECK "pf-notpresent-write-cpl0: error code 2", 2, [exc_err]
    CHECK "pf-notpresent-write-cpl0: CR2", V(0) + 0x456, [exc_cr2]
    CHECK "pf: registers untouched by the faulting access", 0x12345678, [exc_eax]
    mov esi, V(0) + 0x10
    R3 r3_read
    CHECK "pf-notpresent-read-cpl3: error code 4", 4, [exc_err]
    CHECK "pf-notpresent-read-cpl3: CR2", V(0) + 0x10, [exc_cr2]
    mov esi, V(0) + 0x20
    R3 r3_write
    CHECK "pf-notpresent-write-cpl3: error code 6", 6, [exc_err]

    SETPTE 1, P | RW                ; supervisor page
    mov esi, V(1) + 4
    R3 r3_read
    CHECK "pf-supervisor-read-cpl3: error code 5", 5, [exc_err]
    CHECK "pf-supervisor-read-cpl3: CR2", V(1) + 4, [exc_cr2]
    mov esi, V(1) + 8
    R3 r3_write
    CHECK "pf-supervisor-write-cpl3: error code 7", 7, [exc_err]

    SETPTE 2, P | US                ; user read-only page
    mov esi, V(2)
    R3 r3_read
    CHECK "user-readonly-read-cpl3: no fault", 0x7F, [exc_vec]
    CHECK "user-readonly-read-cpl3: value", 0x22222222, [exc_eax]
    mov esi, V(2) + 12
    R3 r3_write
    CHECK "pf-readonly-write-cpl3: error code 7", 7, [exc_err]
    mov eax, [test_pt + 2 * 4]
    and eax, PTE_D
    CHECK "pf-readonly-write-cpl3: D not set by the refused write", 0, eax

    ; U/S in the PDE combines with the PTE (§4.6: user access needs U/S=1 at both levels).
    mov dword [page_dir + 8 * 4], test_pt + (P | RW)
    SETPTE 3, P | RW | US
    mov eax, cr3
    mov cr3, eax
    mov esi, V(3)
    R3 r3_read
    CHECK "pf-pde-supervisor-read-cpl3: error code 5", 5, [exc_err]
    mov dword [page_dir + 8 * 4], test_pt + (P | RW | US)
    mov eax, cr3
    mov cr3, eax

    ; --- CR0.WP (§4.6): WP=0 lets CPL 0 write read-only pages; WP=1 does not.
    mov dword [V(2) + 16], 0xABCD0000
    mov eax, [F(2) + 16]
    CHECK "wp0-cpl0-write-readonly: write lands", 0xABCD0000, eax
    mov eax, cr0
    or eax, 0x00010000
    mov cr0, eax
    TRY .t3
    mov dword [V(2) + 20], 0xABCD0001
.t3:
    ENDTRY
    CHECK "wp1-cpl0-write-readonly: #PF", 14, [exc_vec]
    CHECK "wp1-cpl0-write-readonly: error code 3", 3, [exc_err]
    mov eax, [F(2) + 20]
    CHECK "wp1-cpl0-write-readonly: memory unchanged", 0, eax
    mov eax, cr0
    and eax, ~0x00010000
    mov cr0, eax

    ; --- Accessed / dirty (§4.8): A in PDE and PTE on any access; D only in the PTE (4 KiB),
    ; only on writes.
    and dword [page_dir + 8 * 4], ~(PTE_A | PTE_D)
    SETPTE 4, P | RW | US
    mov eax, cr3
    mov cr3, eax
    mov eax, [V(4)]
    mov eax, [test_pt + 4 * 4]
    and eax, PTE_A | PTE_D
    CHECK "ad-4k-read: PTE A=1 D=0", PTE_A, eax
    mov eax, [page_dir + 8 * 4]
    and eax, PTE_A | PTE_D
    CHECK "ad-4k-read: PDE A=1", PTE_A, eax
    mov dword [V(4) + 4], 5
    mov eax, [test_pt + 4 * 4]
    and eax, PTE_A | PTE_D
    CHECK "ad-4k-write: PTE A=1 D=1", PTE_A | PTE_D, eax
    mov eax, [page_dir + 8 * 4]
    and eax, PTE_A | PTE_D
    CHECK "ad-4k-write: PDE D untouched (not a leaf)", PTE_A, eax
    SETPTE 5, P | RW | US
    mov dword [V(5)], 5
    mov eax, [test_pt + 5 * 4]
    and eax, PTE_A | PTE_D
    CHECK "ad-4k-first-access-write: PTE A=1 D=1", PTE_A | PTE_D, eax
    SETPTE 7, P | RW | US
    mov esi, V(7)
    R3 r3_read
    mov eax, [test_pt + 7 * 4]
    and eax, PTE_A | PTE_D
    CHECK "ad-4k-read-cpl3: PTE A=1 D=0", PTE_A, eax

    ; --- PSE 4-MiB pages (§4.3, CR4.PSE): PDE.PS=1 maps 4 MiB; A and D live in the PDE.
    mov eax, cr4
    or eax, 0x10
    mov cr4, eax
    mov dword [0x00800000 + 0x1234], 0xCAFEBABE
    mov dword [0x00800000 + 0x3FF000], 0x5EED5EED
    mov dword [page_dir + 9 * 4], 0x00800000 | PS | P | RW | US
    mov eax, cr3
    mov cr3, eax
    mov eax, [V4M + 0x1234]
    CHECK "pse-4m: read through the large page", 0xCAFEBABE, eax
    mov eax, [V4M + 0x3FF000]
    CHECK "pse-4m: offset uses 22 bits", 0x5EED5EED, eax
    mov eax, [page_dir + 9 * 4]
    and eax, PTE_A | PTE_D
    CHECK "pse-4m-read: PDE A=1 D=0", PTE_A, eax
    mov dword [V4M + 0x2000], 7
    mov eax, [page_dir + 9 * 4]
    and eax, PTE_A | PTE_D
    CHECK "pse-4m-write: PDE A=1 D=1", PTE_A | PTE_D, eax
    mov eax, [0x00800000 + 0x2000]
    CHECK "pse-4m-write: lands in the physical frame", 7, eax
    mov dword [page_dir + 9 * 4], 0x00800000 | PS | P | US
    invlpg [V4M]
    mov esi, V4M + 0x10
    R3 r3_write
    CHECK "pse-4m-readonly-write-cpl3: error code 7", 7, [exc_err]
    CHECK "pse-4m-readonly-write-cpl3: CR2", V4M + 0x10, [exc_cr2]

    ; --- INVLPG and CR3 reload (§4.10.4): afterwards the new mapping must be used.
    SETPTE 6, P | RW | US
    mov eax, [V(6)]
    CHECK "invlpg: old mapping", 0x66666666, eax
    mov dword [test_pt + 6 * 4], F(9) | P | RW | US
    invlpg [V(6)]
    mov eax, [V(6)]
    CHECK "invlpg: new mapping used after INVLPG", 0x99999999, eax
    mov dword [test_pt + 6 * 4], F(10) | P | RW | US
    mov eax, cr3
    mov cr3, eax
    mov eax, [V(6)]
    CHECK "cr3-reload: new mapping used after MOV CR3", 0xAAAAAAAA, eax
    mov dword [test_pt + 6 * 4], 0
    invlpg [V(6)]
    TRY .t4
    mov eax, [V(6)]
.t4:
    ENDTRY
    CHECK "invlpg: unmapped page faults after INVLPG", 14, [exc_vec]

    ; Not a check (see the header): report whether this CPU set the PDE's accessed flag when the
    ; walk ended at a not-present PTE.
    mov dword [page_dir + 10 * 4], test_pt2 + (P | RW | US)
    mov eax, cr3
    mov cr3, eax
    TRY .t5
    mov eax, [0x02800000]
.t5:
    ENDTRY
    PRINT "INFO pde-accessed-after-notpresent-pte (not checked; implementation-specific):"
    mov eax, [page_dir + 10 * 4]
    and eax, PTE_A
    call puthex
    PRINT ""
    jmp finish

r3_read:
    mov eax, [esi]
    int 0x7F
r3_write:
    mov dword [esi], 0x0BADF00D
    int 0x7F

section .bss
alignb 4096
page_dir:   resb 4096
pt_id:      resb 4 * 4096
test_pt:    resb 4096
test_pt2:   resb 4096
