; apic — the local APIC in xAPIC mode (issue 17; SDM Vol. 3A ch. 11): CPUID.APIC and
; IA32_APIC_BASE, the version register, software enable through the spurious-vector register,
; self-IPIs through the ICR (IRR, delivery by priority class, ISR while in service, EOI), TPR
; masking, the timer in one-shot and periodic mode (equal periods measured with RDTSC), the I/O
; APIC (version, reset masks, the PIT routed from pin 2 to a vector), and LVT entries forced
; masked while the APIC is software-disabled. Needs a machine with a local APIC and an I/O APIC.
; bochs-cpu: p3_katmai
; qemu-cpu: pentium3
%include "lib.inc"

LAPIC       equ 0xFEE00000
IOAPIC      equ 0xFEC00000
R_VER       equ 0x30
R_TPR       equ 0x80
R_EOI       equ 0xB0
R_SVR       equ 0xF0
R_ISR       equ 0x100
R_IRR       equ 0x200
R_ICRLO     equ 0x300
R_LVTT      equ 0x320
R_INIT      equ 0x380
R_CUR       equ 0x390
R_DIV       equ 0x3E0
ICR_SELF    equ 0x40000         ; destination shorthand 01b: self, fixed delivery

section .rodata
guest_banner: db "cputest apic", 13, 10, 0

section .text
%macro APIC_W 2
    mov dword [LAPIC + %1], %2
%endmacro
%macro VEC_STUB 1
vec_%1:
    push eax
    mov eax, %1
    jmp vec_common
%endmacro

main:
    mov eax, 1
    cpuid
    shr edx, 9
    and edx, 1
    CHECK "cpuid.1: EDX.APIC", 1, edx
    mov ecx, 0x1B
    rdmsr
    and eax, 0xFFFFF900
    CHECK "IA32_APIC_BASE: FEE00000, global enable, BSP", 0xFEE00900, eax
    mov eax, [LAPIC + R_VER]
    and eax, 0xF0
    CHECK "version register: an xAPIC (1xh)", 0x10, eax
    IDT_GATE 0x40, vec_0x40, SEL_KCODE, GATE_INT
    IDT_GATE 0x50, vec_0x50, SEL_KCODE, GATE_INT
    IDT_GATE 0x60, vec_0x60, SEL_KCODE, GATE_INT
    IDT_GATE 0xFF, vec_0xFF, SEL_KCODE, GATE_INT
    APIC_W R_SVR, 0x1FF             ; software enable, spurious vector FF
    mov eax, [LAPIC + R_SVR]
    and eax, 0x1FF
    CHECK "SVR: software enabled, spurious vector FF", 0x1FF, eax
    APIC_W R_TPR, 0

    ; ---- self-IPI: pending in IRR while IF = 0, then delivered
    APIC_W R_ICRLO, ICR_SELF | 0x40
    mov eax, [LAPIC + R_IRR + 0x20]     ; IRR bits 64-95
    and eax, 1
    CHECK "self-IPI 40h: IRR bit set while IF = 0", 1, eax
    sti
    nop
    cli
    CHECK "self-IPI 40h delivered once", 1, [count_40]
    CHECK "in service during the handler (ISR bit 40h)", 1, [isr_seen]
    mov eax, [LAPIC + R_ISR + 0x20]
    CHECK "EOI cleared the ISR", 0, eax

    ; ---- TPR: class 4 is held back while TPR = 50h, delivered when TPR drops
    APIC_W R_TPR, 0x50
    APIC_W R_ICRLO, ICR_SELF | 0x40
    sti
    nop
    nop
    cli
    CHECK "TPR 50h holds back vector 40h", 1, [count_40]
    mov eax, [LAPIC + 0xA0]
    CHECK "PPR = TPR (nothing in service)", 0x50, eax
    APIC_W R_TPR, 0
    sti
    nop
    cli
    CHECK "TPR 0: vector 40h delivered", 2, [count_40]

    ; ---- priority: 40h and 60h pending together: 60h first
    mov dword [order_n], 0
    APIC_W R_ICRLO, ICR_SELF | 0x40
    APIC_W R_ICRLO, ICR_SELF | 0x60
    sti
    nop
    nop
    cli
    CHECK "two pending: 60h delivered first", 0x60, [order]
    CHECK "then 40h", 0x40, [order + 4]

    ; ---- timer, one-shot, divide by 1
    APIC_W R_DIV, 0xB
    APIC_W R_LVTT, 0x50
    mov dword [count_50], 0
    APIC_W R_INIT, 20000
    mov eax, [LAPIC + R_CUR]
    mov ebx, 0
    cmp eax, 20000
    ja .cur_bad
    test eax, eax
    jz .cur_bad
    mov ebx, 1
.cur_bad:
    CHECK "one-shot: current count counting down from 20000", 1, ebx
    sti
    mov ecx, 50000000
.wait1:
    cmp dword [count_50], 0
    jne .got1
    loop .wait1
.got1:
    cli
    CHECK "one-shot: one timer interrupt", 1, [count_50]
    mov eax, [LAPIC + R_CUR]
    CHECK "one-shot: current count 0 afterwards", 0, eax

    ; ---- timer, periodic: five interrupts at equal intervals (RDTSC)
    mov dword [count_50], 0
    APIC_W R_LVTT, 0x20050
    APIC_W R_INIT, 20000
    sti
    mov ecx, 100000000
.wait5:
    cmp dword [count_50], 5
    jae .got5
    loop .wait5
.got5:
    cli
    APIC_W R_LVTT, 0x10050          ; mask
    APIC_W R_INIT, 0
    mov eax, [count_50]
    cmp eax, 5
    setae al
    movzx eax, al
    CHECK "periodic: at least five timer interrupts", 1, eax
    ; intervals 2..4 each within 1/16 of interval 1
    mov esi, [tsc_log + 4]
    sub esi, [tsc_log]
    mov edi, esi
    shr edi, 4
    mov ebx, 1
    mov ecx, 1
.iv:
    mov eax, [tsc_log + ecx * 4 + 4]
    sub eax, [tsc_log + ecx * 4]
    sub eax, esi
    jns .pos
    neg eax
.pos:
    cmp eax, edi
    jbe .ok
    xor ebx, ebx
.ok:
    inc ecx
    cmp ecx, 4
    jb .iv
    CHECK "periodic: equal intervals (within 1/16)", 1, ebx

    ; ---- I/O APIC (82093AA): version, reset state, the PIT (IRQ 0, pin 2) routed to vector 70h
    mov dword [IOAPIC], 1
    mov eax, [IOAPIC + 0x10]
    CHECK "I/O APIC version: 24 entries, version 11h", 0x00170011, eax
    mov dword [IOAPIC], 0x10 + 2 * 2
    mov eax, [IOAPIC + 0x10]
    and eax, 0x10000
    CHECK "I/O APIC pin 2: masked after reset", 0x10000, eax
    IDT_GATE 0x70, vec_0x70, SEL_KCODE, GATE_INT
    mov dword [IOAPIC], 0x10 + 2 * 2 + 1
    mov dword [IOAPIC + 0x10], 0        ; destination APIC ID 0
    mov dword [IOAPIC], 0x10 + 2 * 2
    mov dword [IOAPIC + 0x10], 0x70     ; fixed, physical, edge, unmasked, vector 70h
    mov al, 0x34                        ; PIT channel 0, mode 2, lo/hi
    out 0x43, al
    mov al, 0xA9                        ; 1193 (about 1 ms)
    out 0x40, al
    mov al, 0x04
    out 0x40, al
    mov dword [count_70], 0
    sti
    mov ecx, 100000000
.wait70:
    cmp dword [count_70], 3
    jae .got70
    loop .wait70
.got70:
    cli
    mov dword [IOAPIC], 0x10 + 2 * 2
    mov dword [IOAPIC + 0x10], 0x10070  ; mask again
    mov eax, [count_70]
    cmp eax, 3
    setae al
    movzx eax, al
    CHECK "PIT ticks arrive through the I/O APIC (pin 2 -> vector 70h)", 1, eax

    ; ---- software disable: LVT entries read back masked, writes stay masked
    APIC_W R_SVR, 0xFF
    APIC_W R_LVTT, 0x50
    mov eax, [LAPIC + R_LVTT]
    and eax, 0x10000
    CHECK "software-disabled: LVT timer stays masked", 0x10000, eax
    CHECK "no spurious interrupts", 0, [count_ff]
    jmp finish

VEC_STUB 0x40
VEC_STUB 0x50
VEC_STUB 0x60
vec_0x70:
    inc dword [count_70]
    mov dword [LAPIC + R_EOI], 0
    iretd
vec_0xFF:
    inc dword [count_ff]
    iretd                           ; spurious: no EOI (SDM §11.9)

vec_common:
    push ebx
    mov ebx, [order_n]
    cmp ebx, 8
    jae .no_order
    mov [order + ebx * 4], eax
    inc dword [order_n]
.no_order:
    cmp eax, 0x40
    jne .not40
    inc dword [count_40]
    mov ebx, [LAPIC + R_ISR + 0x20]
    and ebx, 1
    mov [isr_seen], ebx
.not40:
    cmp eax, 0x50
    jne .not50
    push edx
    push eax
    rdtsc
    mov ebx, [count_50]
    cmp ebx, 8
    jae .no_tsc
    mov [tsc_log + ebx * 4], eax
.no_tsc:
    inc dword [count_50]
    pop eax
    pop edx
.not50:
    mov dword [LAPIC + R_EOI], 0
    pop ebx
    pop eax
    iretd

section .bss
count_40:   resd 1
count_50:   resd 1
count_ff:   resd 1
count_70:   resd 1
isr_seen:   resd 1
order_n:    resd 1
order:      resd 8
tsc_log:    resd 8
