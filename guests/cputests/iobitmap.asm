; iobitmap — the TSS I/O permission bit map (SDM Vol. 1 §19.5 "I/O permission bit map" (§18.5 in
; older editions), Vol. 2 IN/OUT/INS/OUTS "IF (CPL > IOPL) or VM: IF any I/O permission bit for
; the port(s) = 1 THEN #GP(0)"). Runs at CPL 3 with IOPL 0 unless noted.
; The bitmap is consulted for every byte of a multi-byte access; the processor always reads two
; bitmap bytes, and any bitmap byte beyond the TSS limit counts as "denied".
; Ports used (harmless): 0x80/0x81 (POST/DMA page), 0x3FE/0x3FF (COM1 MSR / scratch), 0x400.
%include "lib.inc"

SEL_IOTSS   equ 0x40
IOMAP       equ TSS_SIZE                ; bitmap right after the 104-byte TSS
FULL_LIMIT  equ IOMAP + 0x81            ; bitmap bytes 0..0x80 (ports 0..0x407) + 0xFF terminator

section .rodata
guest_banner: db "cputest iobitmap", 13, 10, 0
outs_byte:    db 0xC3

section .data
align 128
io_tss:     times TSS_SIZE db 0
io_bitmap:  times 0x81 db 0xFF
            db 0xFF

section .text
; load_io_tss(limit in ECX, iomap base in EDX): (re)describe the TSS and LTR it.
load_io_tss:
    mov [io_tss + TSS_IOMAP], dx
    push dword FLG_32
    push dword ACC_TSS32                ; available (LTR marks it busy)
    push ecx
    push dword io_tss
    push dword SEL_IOTSS
    call set_desc
    add esp, 20
    mov ax, SEL_IOTSS
    ltr ax
    ret

; R3 snippet, eflags: run a ring-3 snippet under the current TSS
%macro R3 2
    TRY %%back
    RING3 %1, %2
%%back:
    ENDTRY
%endmacro

main:
    mov dword [io_tss + TSS_ESP0], ring0_stack_top
    mov dword [io_tss + TSS_SS0], SEL_KDATA
    and byte [io_bitmap + 0x80 / 8], ~0x03          ; allow 0x80, 0x81
    and byte [io_bitmap + 0x3FF / 8], ~0x80         ; allow 0x3FF (0x3FE and 0x400 stay denied)
    mov ecx, FULL_LIMIT
    mov edx, IOMAP
    call load_io_tss

    R3 r3_in80, 0x202
    CHECK "allowed-port-byte: no fault", 0x7F, [exc_vec]
    R3 r3_scratch, 0x202
    CHECK "allowed-port-out-in: no fault", 0x7F, [exc_vec]
    CHECK "allowed-port-out-in: scratch register read back", 0xA5, [exc_eax]
    R3 r3_outsb, 0x202
    CHECK "allowed-port-outsb: no fault", 0x7F, [exc_vec]
    CHECK "allowed-port-outsb: byte written", 0xC3, [exc_eax]
    R3 r3_in_word80, 0x202
    CHECK "allowed-word-0x80-0x81: no fault", 0x7F, [exc_vec]

    R3 r3_in3fe, 0x202
    CHECK "denied-port: #GP", 13, [exc_vec]
    CHECK "denied-port: error code 0", 0, [exc_err]
    CHECK "denied-port: faulting EIP = IN", r3_in3fe.insn, [exc_eip]
    R3 r3_insb3fe, 0x202
    CHECK "denied-port-insb: #GP(0)", 13, [exc_vec]
    CHECK "denied-port-insb: EDI unchanged", 0x00200000, [exc_edi]
    R3 r3_word3ff, 0x202
    CHECK "word-allowed+denied (0x3FF,0x400): #GP", 13, [exc_vec]
    CHECK "word-allowed+denied: error code 0", 0, [exc_err]
    R3 r3_word3fe, 0x202
    CHECK "word-denied+allowed (0x3FE,0x3FF): #GP", 13, [exc_vec]
    R3 r3_dword80, 0x202
    CHECK "dword 0x80-0x83 (0x82 denied): #GP", 13, [exc_vec]

    ; IOPL 3 at CPL 3: the bitmap is not consulted.
    R3 r3_in3fe, 0x3202
    CHECK "iopl3-ignores-bitmap: no fault", 0x7F, [exc_vec]

    ; Bitmap partly beyond the TSS limit: byte 0x7F (port 0x3FF) lies beyond -> denied.
    mov ecx, IOMAP + 0x20
    mov edx, IOMAP
    call load_io_tss
    R3 r3_in80, 0x202
    CHECK "limit-short: port 0x80 still allowed", 0x7F, [exc_vec]
    R3 r3_scratch, 0x202
    CHECK "limit-short: port beyond the limit #GP", 13, [exc_vec]
    CHECK "limit-short: error code 0", 0, [exc_err]
    ; The last bitmap byte inside the limit holds port 0x80's bit, but the processor reads two
    ; bytes and the second lies beyond the limit -> #GP.
    mov ecx, IOMAP + 0x80 / 8
    mov edx, IOMAP
    call load_io_tss
    R3 r3_in80, 0x202
    CHECK "two-byte-read-crosses-limit: #GP", 13, [exc_vec]
    ; I/O map base >= limit: no bitmap at all.
    mov ecx, FULL_LIMIT
    mov edx, FULL_LIMIT + 1
    call load_io_tss
    R3 r3_in80, 0x202
    CHECK "no-bitmap (base beyond limit): #GP", 13, [exc_vec]

    mov ax, SEL_TSS                 ; back to the library TSS (mark it available first)
    and byte [gdt + SEL_TSS + 5], ~0x02
    ltr ax
    jmp finish

r3_in80:
    in al, 0x80
    out 0x80, al
    int 0x7F
r3_scratch:
    mov dx, 0x3FF
    mov al, 0xA5
    out dx, al
    xor eax, eax
    in al, dx
    int 0x7F
r3_outsb:
    mov dx, 0x3FF
    mov esi, outs_byte
    outsb
    xor eax, eax
    in al, dx
    int 0x7F
r3_in_word80:
    in ax, 0x80
    int 0x7F
r3_in3fe:
    mov dx, 0x3FE
.insn:
    in al, dx
    int 0x7F
r3_insb3fe:
    mov dx, 0x3FE
    mov edi, 0x00200000
    insb
    int 0x7F
r3_word3ff:
    mov dx, 0x3FF
    in ax, dx
    int 0x7F
r3_word3fe:
    mov dx, 0x3FE
    in ax, dx
    int 0x7F
r3_dword80:
    in eax, 0x80
    int 0x7F
