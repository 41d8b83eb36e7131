; adaptive — a kernel whose data shares a 4 KiB page with its code (common in small kernels, and in
; Linux wherever .data follows .text on a page). Natively nothing special happens. Under binary
; translation the page holds translated code, so the VMM write-protects it (coherence), and every
; store to `data` faults into the VMM and drops the page's translations. Adams & Agesen's adaptive
; translation (ASPLOS 2006 §4.2): after a few such faults the store `poke` is retranslated into a
; callout pair that opens the page around the store — no more faults, and translations survive
; unless the store really hits translated bytes (the last check: the same store patches code).
%include "../cputests/lib.inc"

section .rodata
guest_banner: db "bt-adaptive", 13, 10, 0

section .text
align 4096
main:
    mov ecx, 64
.loop:
    mov ebx, data
    mov eax, ecx
    call poke                       ; 64 stores next to the code
    dec ecx
    jnz .loop
    mov eax, [data]
    CHECK "data-store: 64 stores into a code page landed (the last wrote 1)", 1, eax
    call patched                    ; run once, so it is translated: EAX = 0
    CHECK "patched-before: the immediate is 0", 0, eax
    mov ebx, patched + 1
    mov eax, 0x5EED
    call poke                       ; the same store now writes an instruction's immediate
    call patched
    CHECK "code-store: the store into translated code took effect", 0x5EED, eax
    jmp finish
patched:
    mov eax, strict dword 0
    ret
poke:
    mov [ebx], eax                  ; the store that keeps faulting under BT
    ret
align 4
data: dd 0
align 4096                          ; the GDT, IDT and stacks live on other pages
