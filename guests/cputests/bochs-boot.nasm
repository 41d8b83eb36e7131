; bochs-boot — a 512-byte floppy boot sector used only by run-bochs.sh (not a guest; built to a
; flat binary, not listed in build.sh's outputs). Bochs has no multiboot loader, so this stands
; in for one: it reads the guest's flat image (objcopy -O binary of the ELF, which starts at
; 1 MiB) from the following sectors to 0x10000, enables A20, enters 32-bit protected mode with
; flat segments, copies the image to 1 MiB and jumps to the ELF entry with EAX = 0x2BADB002 and
; EBX = 0 (no multiboot info; the guests do not read it).
; run-bochs.sh patches `sectors` and `entry` at offsets 0x1F0/0x1F4.
bits 16
org 0x7C00
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    mov [drive], dl
    mov ax, 0x1000
    mov es, ax
    mov si, 1                       ; LBA
.read:
    cmp si, [sectors]
    ja .loaded
    mov ax, si                      ; LBA -> CHS for a 1.44 MB floppy (18 sectors, 2 heads)
    xor dx, dx
    mov bx, 18
    div bx
    mov cl, dl
    inc cl                          ; sector
    xor dx, dx
    mov bx, 2
    div bx
    mov dh, dl                      ; head
    mov ch, al                      ; cylinder
    mov dl, [drive]
    xor bx, bx
    mov ax, 0x0201
    int 0x13
    jc .read                        ; retry
    mov ax, es
    add ax, 0x20
    mov es, ax
    inc si
    jmp .read
.loaded:
    in al, 0x92                     ; fast A20
    or al, 2
    out 0x92, al
    lgdt [gdtr]
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp 0x08:pm
bits 32
pm:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x7C00
    mov esi, 0x10000
    mov edi, 0x100000
    movzx ecx, word [sectors]
    shl ecx, 7                      ; dwords
    cld
    rep movsd
    mov eax, 0x2BADB002
    xor ebx, ebx
    jmp [entry]
align 8
gdt: dq 0
     dq 0x00CF9A000000FFFF
     dq 0x00CF92000000FFFF
gdtr: dw 23
      dd gdt
drive: db 0
times 0x1F0 - ($ - $$) db 0
sectors: dw 0
         dw 0
entry:   dd 0
times 510 - ($ - $$) db 0
dw 0xAA55
