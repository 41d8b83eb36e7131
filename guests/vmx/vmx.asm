; vmx — a self-checking VMX (VT-x) conformance guest: discovery, the VMX instructions with their
; VMsucceed / VMfailInvalid / VMfailValid results and VM-instruction error numbers, VM-entry
; checks, a VMLAUNCH of a tiny guest, VM exits with their reasons, qualifications and lengths,
; VMRESUME, the preemption timer, event injection and EPT violations / misconfigurations.
; Every expected value cites the Intel SDM Vol. 3C section it comes from. Runs at CPL 0 in
; protected mode with paging (4 MiB pages) as lib.inc leaves it plus what VMXON requires.
; Exits through isa-debug-exit (0xF4): 0 when every check passed.
%include "lib.inc"

; VMCS field encodings (SDM Vol. 3C Appendix B).
VM_INSTR_ERROR  equ 0x4400
EXIT_REASON     equ 0x4402
EXIT_INTR_INFO  equ 0x4404
EXIT_INSTR_LEN  equ 0x440C
EXIT_QUAL       equ 0x6400
GUEST_LINEAR    equ 0x640A
GUEST_PHYS      equ 0x2400
PIN_CTLS        equ 0x4000
PROC_CTLS       equ 0x4002
PROC_CTLS2      equ 0x401E
EXC_BITMAP      equ 0x4004
EXIT_CTLS       equ 0x400C
ENTRY_CTLS      equ 0x4012
ENTRY_INTR_INFO equ 0x4016
CR0_MASK        equ 0x6000
CR0_SHADOW      equ 0x6004
EPTP            equ 0x201A
EPTP_HI         equ 0x201B
LINK_PTR        equ 0x2800
LINK_PTR_HI     equ 0x2801
PREEMPT_TIMER   equ 0x482E
GUEST_CS_SEL    equ 0x0802
GUEST_RIP       equ 0x681E
GUEST_RSP       equ 0x681C
GUEST_RFLAGS    equ 0x6820
HOST_CS_SEL     equ 0x0C02

CF_ZF           equ 0x41

; VMW field, value — VMWRITE (value through EBX).
%macro VMW 2
    push dword %2
    mov eax, %1
    pop ebx
    vmwrite eax, ebx
%endmacro
; VMR field — VMREAD into EAX.
%macro VMR 1
    mov ebx, %1
    vmread eax, ebx
%endmacro
; FLAGS — EAX := CF|ZF of the last instruction (VMsucceed 0, VMfailInvalid 1, VMfailValid 0x40).
%macro FLAGS 0
    pushfd
    pop eax
    and eax, CF_ZF
%endmacro
; VMENTER instr, label — VMLAUNCH/VMRESUME; a VM exit continues at label (host RIP = vm_exit).
%macro VMENTER 2
    mov dword [exit_cont], %2
    mov dword [entry_failed], 0
    %1
    FLAGS
    mov [entry_flags], eax
    mov dword [entry_failed], 1
    jmp %2
%endmacro

section .rodata
guest_banner: db "cputest vmx", 13, 10, 0

section .text
main:
    ; --- Discovery (SDM 23.6, SDM 23.7, App. A.1) ---
    mov eax, 1
    cpuid
    and ecx, 0x20
    CHECK "cpuid.1:ecx.vmx = 1 (SDM 23.6)", 0x20, ecx
    mov ecx, 0x3A
    rdmsr
    and eax, 5
    CHECK "ia32_feature_control: locked, vmx outside smx (SDM 23.7)", 5, eax
    mov ecx, 0x480
    rdmsr
    mov [revision], eax
    and edx, 0x1FFF
    CHECK "ia32_vmx_basic[44:32]: vmcs region 4096 bytes (App. A.1)", 0x1000, edx
    mov ecx, 0x480
    rdmsr
    and edx, 0x800000
    CHECK "ia32_vmx_basic[55]: true controls (App. A.1)", 0x800000, edx

    ; --- VMXON's #UD and #GP (SDM 30.3 VMXON pseudocode) ---
    mov eax, [revision]
    mov [vmxon_region], eax
    TRY .u1
    vmxon [vmxon_ptr]
.u1:
    ENDTRY
    CHECK "vmxon with cr4.vmxe = 0: #UD (SDM 30.3)", 6, [exc_vec]
    mov eax, cr4
    or eax, 0x2000 | 0x10           ; VMXE, PSE
    mov cr4, eax
    TRY .u2
    vmxon [vmxon_ptr]
.u2:
    ENDTRY
    CHECK "vmxon with cr0.pg = 0 (fixed-1, App. A.7): #GP (SDM 30.3)", 13, [exc_vec]
    CHECK "vmxon #GP error code 0", 0, [exc_err]
    ; Paging on: identity map of 4 GiB in 4 MiB pages; CR0.NE too (IA32_VMX_CR0_FIXED0 = PE NE PG).
    mov edi, page_dir
    xor ecx, ecx
.pd:
    mov eax, ecx
    shl eax, 22
    or eax, 0x83                    ; P, RW, PS
    mov [edi + ecx * 4], eax
    inc ecx
    cmp ecx, 1024
    jb .pd
    mov cr3, edi
    mov eax, cr0
    or eax, 0x80000020
    mov cr0, eax

    ; --- VMXON (SDM 30.3): wrong revision → VMfailInvalid; right → VMsucceed ---
    mov dword [vmxon_region], 0
    vmxon [vmxon_ptr]
    FLAGS
    CHECK "vmxon, wrong revision: VMfailInvalid (CF=1)", 1, eax
    mov eax, [revision]
    mov [vmxon_region], eax
    vmxon [vmxon_ptr]
    FLAGS
    CHECK "vmxon: VMsucceed", 0, eax
    vmxon [vmxon_ptr]
    FLAGS
    CHECK "vmxon in root, no current vmcs: VMfailInvalid (SDM 30.2 VMfail)", 1, eax
    vmptrst [tmp64]
    CHECK "vmptrst without a current vmcs: FFFFFFFF_FFFFFFFFh (SDM 24.1)", 0xFFFFFFFF, [tmp64]
    CHECK "vmptrst high dword", 0xFFFFFFFF, [tmp64 + 4]
    VMR GUEST_RIP
    FLAGS
    CHECK "vmread without a current vmcs: VMfailInvalid", 1, eax

    ; --- A current VMCS; VMfailValid with error numbers (SDM 30.4, Table 30-1) ---
    mov eax, [revision]
    mov [vmcs_a], eax
    vmclear [vmcs_a_ptr]
    FLAGS
    CHECK "vmclear: VMsucceed", 0, eax
    vmptrld [vmcs_a_ptr]
    FLAGS
    CHECK "vmptrld: VMsucceed", 0, eax
    vmptrst [tmp64]
    CHECK "vmptrst: the current-vmcs pointer", vmcs_a, [tmp64]
    vmclear [vmxon_ptr]
    FLAGS
    CHECK "vmclear vmxon pointer: VMfailValid (ZF=1)", 0x40, eax
    VMR VM_INSTR_ERROR
    CHECK "  error 3: vmclear with vmxon pointer", 3, eax
    vmptrld [vmxon_ptr]
    VMR VM_INSTR_ERROR
    CHECK "vmptrld vmxon pointer: error 10", 10, eax
    vmptrld [bad_ptr]
    VMR VM_INSTR_ERROR
    CHECK "vmptrld misaligned address: error 9", 9, eax
    mov dword [vmcs_b], 0
    vmptrld [vmcs_b_ptr]
    VMR VM_INSTR_ERROR
    CHECK "vmptrld wrong revision: error 11", 11, eax
    vmptrst [tmp64]
    CHECK "a failed vmptrld keeps the current vmcs", vmcs_a, [tmp64]
    VMR 0x7FFE
    FLAGS
    CHECK "vmread unsupported field: VMfailValid", 0x40, eax
    VMR VM_INSTR_ERROR
    CHECK "  error 12", 12, eax
    VMW EXIT_REASON, 1
    VMR VM_INSTR_ERROR
    CHECK "vmwrite read-only exit-reason field: error 13", 13, eax
    vmxon [vmxon_ptr]
    VMR VM_INSTR_ERROR
    CHECK "vmxon in root with a current vmcs: error 15", 15, eax
    vmresume
    VMR VM_INSTR_ERROR
    CHECK "vmresume of a clear vmcs: error 5", 5, eax
    vmcall
    VMR VM_INSTR_ERROR
    CHECK "vmcall in root: error 1", 1, eax
    mov dword [invept_desc], 0
    xor eax, eax
    invept eax, [invept_desc]
    VMR VM_INSTR_ERROR
    CHECK "invept type 0: error 28", 28, eax

    ; --- VMREAD/VMWRITE widths (SDM 24.11.2) ---
    VMW GUEST_RIP, 0x12345678
    VMR GUEST_RIP
    CHECK "vmwrite/vmread natural-width field", 0x12345678, eax
    VMW LINK_PTR_HI, 0xFFFFFFFF
    VMR LINK_PTR_HI
    CHECK "high half of a 64-bit field (odd encoding)", 0xFFFFFFFF, eax
    VMW GUEST_CS_SEL, 0x12345
    VMR GUEST_CS_SEL
    CHECK "16-bit field keeps 16 bits", 0x2345, eax

    ; --- A complete VMCS: controls from the true capability MSRs (App. A.3–A.5) ---
    call setup_vmcs

    ; VM-entry checks on controls (SDM 26.2.1): VMfailValid 7.
    VMW PIN_CTLS, 0
    VMENTER vmlaunch, .c1
.c1:
    CHECK "vmlaunch with reserved pin controls cleared: no entry", 1, [entry_failed]
    CHECK "  VMfailValid", 0x40, [entry_flags]
    VMR VM_INSTR_ERROR
    CHECK "  error 7 (SDM 26.2.1)", 7, eax
    mov ecx, 0x48D
    rdmsr
    VMW PIN_CTLS, eax
    ; Host-state checks (SDM 26.2.3): host CS selector 0 → VMfailValid 8.
    VMW HOST_CS_SEL, 0
    VMENTER vmlaunch, .c2
.c2:
    VMR VM_INSTR_ERROR
    CHECK "vmlaunch with host cs = 0: error 8 (SDM 26.2.3)", 8, eax
    VMW HOST_CS_SEL, SEL_KCODE
    ; Guest-state checks (SDM 26.3.1.5): VMCS link pointer not all ones → VM-entry failure exit.
    VMW LINK_PTR, 0
    VMENTER vmlaunch, .c3
.c3:
    CHECK "invalid guest state: entry fails as a VM exit", 0, [entry_failed]
    VMR EXIT_REASON
    CHECK "  exit reason 33 | bit 31 (SDM 26.8, App. C)", 0x80000021, eax
    VMW LINK_PTR, 0xFFFFFFFF

    ; --- VMLAUNCH of the tiny guest, exits one by one ---
    VMW GUEST_RIP, guest_code
    VMENTER vmlaunch, .e1
.e1:
    CHECK "vmlaunch: entered (no VMfail)", 0, [entry_failed]
    VMR EXIT_REASON
    CHECK "cpuid exits unconditionally: reason 10 (SDM 25.1.2)", 10, eax
    VMR EXIT_INSTR_LEN
    CHECK "  instruction length 2 (SDM 27.2.5)", 2, eax
    VMR GUEST_RIP
    CHECK "  guest rip = the cpuid (SDM 27.3.3)", guest_cpuid, eax
    call skip
    VMENTER vmresume, .e2
.e2:
    VMR EXIT_REASON
    CHECK "out 0x80 with unconditional i/o exiting: reason 30", 30, eax
    VMR EXIT_QUAL
    CHECK "  qualification: size 1, out, immediate, port 80h (Table 27-5)", 0x00800040, eax
    call skip
    VMENTER vmresume, .e3
.e3:
    VMR EXIT_REASON
    CHECK "mov cr3, eax with cr3-load exiting: reason 28", 28, eax
    VMR EXIT_QUAL
    CHECK "  qualification: cr3, mov to cr, eax (Table 27-3)", 3, eax
    VMR EXIT_INSTR_LEN
    CHECK "  instruction length 3", 3, eax
    call skip
    VMENTER vmresume, .e4
.e4:
    mov [guest_ecx], ecx
    VMR EXIT_REASON
    CHECK "vmcall in non-root: reason 18 (SDM 25.1.2)", 18, eax
    mov ecx, [guest_ecx]
    and ecx, 8
    CHECK "mov from cr0 read the cr0 read shadow's TS (SDM 25.3)", 8, ecx
    call skip
    VMENTER vmresume, .e5
.e5:
    VMR EXIT_REASON
    CHECK "ud2 with exception bitmap bit 6: reason 0", 0, eax
    VMR EXIT_INTR_INFO
    CHECK "  interruption info: valid, hardware exception, #UD (SDM 24.9.2)", 0x80000306, eax
    VMR GUEST_RIP
    CHECK "  guest rip = the ud2 (a fault: not executed)", guest_ud2, eax
    mov ebx, GUEST_RIP
    vmread eax, ebx
    add eax, 2
    vmwrite ebx, eax
    VMENTER vmresume, .e6
.e6:
    VMR EXIT_REASON
    CHECK "hlt with hlt exiting: reason 12", 12, eax
    VMENTER vmlaunch, .e7
.e7:
    VMR VM_INSTR_ERROR
    CHECK "vmlaunch of a launched vmcs: error 4", 4, eax

    ; --- Event injection (SDM 26.6): external interrupt 0x40 through the guest's IDT ---
    IDT_GATE 0x40, guest_isr, SEL_KCODE, GATE_INT
    VMW GUEST_RIP, guest_spin
    VMW GUEST_RFLAGS, 0x202
    VMW ENTRY_INTR_INFO, 0x80000040
    VMENTER vmresume, .i1
.i1:
    VMR EXIT_REASON
    CHECK "injected interrupt ran the guest's handler, which did vmcall", 18, eax
    CHECK "  handler saw the event", 1, [isr_hit]
    VMR ENTRY_INTR_INFO
    and eax, 0x80000000
    CHECK "  entry interruption info: valid bit cleared by the exit (SDM 24.8.3)", 0, eax
    VMW GUEST_RFLAGS, 0x2

    ; --- The VMX-preemption timer (SDM 25.5.1) ---
    mov ecx, 0x48D
    rdmsr
    or eax, 0x40
    VMW PIN_CTLS, eax
    VMW PREEMPT_TIMER, 500
    VMW GUEST_RIP, guest_spin
    VMENTER vmresume, .t1
.t1:
    VMR EXIT_REASON
    CHECK "preemption timer expired: reason 52", 52, eax
    mov ecx, 0x48D
    rdmsr
    VMW PIN_CTLS, eax

    ; --- The monitor trap flag (SDM 25.5.2; primary processor-based control bit 27, SDM 24.6.2
    ;     Table 24-6; exit reason 37, App. C). Cited from the 2016 edition (325462-060) ---
    VMR PROC_CTLS
    mov [saved_proc], eax
    or eax, 1 << 27
    VMW PROC_CTLS, eax
    VMW GUEST_RIP, guest_mtf
    VMENTER vmresume, .mt1
.mt1:
    VMR EXIT_REASON
    CHECK "mtf: exit after one guest instruction, reason 37 (SDM 25.5.2, App. C)", 37, eax
    VMR GUEST_RIP
    CHECK "  guest rip = the next instruction (after a 1-byte nop)", guest_mtf + 1, eax
    VMR EXIT_QUAL
    CHECK "  exit qualification 0 (SDM 27.2.1: not used by MTF exits)", 0, eax
    VMENTER vmresume, .mt2
.mt2:
    mov [guest_eax], eax                      ; VM exits keep the guest's GPRs (SDM 27.3)
    VMR EXIT_REASON
    CHECK "mtf: each vmresume runs one instruction: reason 37 (SDM 25.5.2)", 37, eax
    VMR GUEST_RIP
    CHECK "  guest rip past mov eax, imm32 (5 bytes)", guest_mtf + 6, eax
    CHECK "  the instruction really executed (guest eax)", 0x12345678, [guest_eax]
    VMENTER vmresume, .mt3
.mt3:
    VMR EXIT_REASON
    CHECK "mtf: cpuid's own fault-like exit, no mtf exit (SDM 25.1.2, 25.5.2)", 10, eax
    VMR GUEST_RIP
    CHECK "  guest rip = the cpuid (not executed)", guest_mtf + 6, eax
    ; Injection with MTF: the exit is pending before the first instruction after VM entry, i.e.
    ; the handler's (SDM 25.5.2, first item); the event itself was delivered.
    mov dword [isr_hit], 0
    VMW GUEST_RSP, guest_stack_top
    VMW GUEST_RFLAGS, 0x202
    VMW ENTRY_INTR_INFO, 0x80000040
    VMENTER vmresume, .mt4
.mt4:
    VMR EXIT_REASON
    CHECK "mtf with event injection: reason 37 before any instruction (SDM 25.5.2)", 37, eax
    VMR GUEST_RIP
    CHECK "  guest rip = the handler's first instruction", guest_isr, eax
    CHECK "  the handler has not run", 0, [isr_hit]
    VMR GUEST_RSP
    CHECK "  the event's frame is on the guest stack (eflags, cs, eip)", guest_stack_top - 12, eax
    VMW GUEST_RSP, guest_stack_top
    VMW GUEST_RFLAGS, 0x2
    ; HLT without HLT exiting: the MTF exit follows it, in the HLT activity state (SDM 25.5.2, 24.4.2).
    mov eax, [saved_proc]
    and eax, ~(1 << 7)
    or eax, 1 << 27
    VMW PROC_CTLS, eax
    VMW GUEST_RIP, guest_mtf_hlt
    VMENTER vmresume, .mt5
.mt5:
    VMR EXIT_REASON
    CHECK "mtf after hlt (hlt exiting off): reason 37 (SDM 25.5.2)", 37, eax
    VMR 0x4826
    CHECK "  guest activity state: hlt (1) (SDM 24.4.2)", 1, eax
    VMR GUEST_RIP
    CHECK "  guest rip past the hlt", guest_mtf_hlt + 1, eax
    VMW 0x4826, 0
    ; MTF off again: no exit until the guest's own hlt (HLT exiting back on).
    VMW PROC_CTLS, [saved_proc]
    VMW GUEST_RIP, guest_mtf
    VMENTER vmresume, .mt6
.mt6:
    VMR EXIT_REASON
    CHECK "mtf cleared: the guest runs on to its cpuid exit, reason 10", 10, eax
    ; A REP-prefixed string instruction under MTF: "If the first iteration of the instruction does
    ; not cause a fault, an MTF VM exit is pending on the instruction boundary after that
    ; iteration" (SDM 25.5.2). The instruction is not complete: RIP stays on it, ECX and EDI have
    ; moved by one element (SDM Vol. 1 7.3.9.1 / Vol. 2 REP: the count is decremented per
    ; iteration); VM exits leave the GPRs as the guest had them (SDM 27.3). The last iteration
    ; completes it: RIP moves past it (2 bytes, F3 AA).
    mov eax, [saved_proc]
    or eax, 1 << 27
    VMW PROC_CTLS, eax
    VMW GUEST_RIP, guest_mtf_rep
    mov dword [rep_buf], 0
    mov dword [guest_ecx], 3
    mov dword [guest_edi], rep_buf
    mov dword [rep_round], 0
.mr_loop:
    mov ecx, [guest_ecx]
    mov edi, [guest_edi]
    mov eax, 0xAB                             ; AL: the byte rep stosb stores
    VMENTER vmresume, .mr_exit
.mr_exit:
    mov [guest_ecx], ecx
    mov [guest_edi], edi
    inc dword [rep_round]
    VMR EXIT_REASON
    CHECK "mtf with rep stosb: an exit after each iteration, reason 37 (SDM 25.5.2)", 37, eax
    mov eax, 3
    sub eax, [rep_round]
    CHECK "  ecx counted down by one per iteration", eax, [guest_ecx]
    mov eax, rep_buf
    add eax, [rep_round]
    CHECK "  edi advanced by one byte per iteration", eax, [guest_edi]
    VMR GUEST_RIP
    cmp dword [rep_round], 3
    je .mr_done
    CHECK "  guest rip = the rep stosb: the instruction is not complete", guest_mtf_rep, eax
    jmp .mr_loop
.mr_done:
    CHECK "  after the last iteration: rip past rep stosb (2 bytes)", guest_mtf_rep + 2, eax
    CHECK "  three bytes stored, the fourth untouched", 0x00ABABAB, [rep_buf]
    ; ECX = 0 at the start: no iteration, the instruction completes; one MTF exit after it.
    mov dword [rep_buf], 0
    mov ecx, 0
    mov edi, rep_buf
    VMW GUEST_RIP, guest_mtf_rep
    VMENTER vmresume, .mr_zero
.mr_zero:
    mov [guest_ecx], ecx
    VMR EXIT_REASON
    CHECK "mtf with rep stosb, ecx = 0: one exit, reason 37 (SDM 25.5.2)", 37, eax
    VMR GUEST_RIP
    CHECK "  rip past rep stosb (no iteration)", guest_mtf_rep + 2, eax
    CHECK "  nothing stored", 0, [rep_buf]
    VMW PROC_CTLS, [saved_proc]

    ; --- EPT (SDM 28.2): identity map 0–4 MiB in 2 MiB pages; the guest touches 12 MiB ---
    mov dword [ept_pml4], ept_pdpt + 7
    mov dword [ept_pdpt], ept_pd + 7
    mov dword [ept_pd], 0x000000B7           ; 2 MiB page, WB (6 << 3), RWX
    mov dword [ept_pd + 8], 0x002000B7
    VMR PROC_CTLS
    or eax, 0x80000000                       ; activate secondary controls
    VMW PROC_CTLS, eax
    VMW PROC_CTLS2, 2                        ; enable EPT
    VMW EPTP, ept_pml4 + 0x1E                ; WB, 4-level walk (SDM 24.6.11)
    VMW EPTP_HI, 0
    VMW GUEST_RIP, guest_ept
    VMENTER vmresume, .p1
.p1:
    VMR EXIT_REASON
    CHECK "read of unmapped guest-physical 12 MiB: ept violation, reason 48", 48, eax
    VMR EXIT_QUAL
    CHECK "  qualification: read, not present, linear valid, final (Table 27-7)", 0x181, eax
    VMR GUEST_PHYS
    CHECK "  guest-physical address", 0x00C00000, eax
    VMR GUEST_LINEAR
    CHECK "  guest-linear address", 0x00C00000, eax
    mov dword [ept_pd + 6 * 8], 0x00C00082   ; write without read: a misconfiguration
    mov dword [invept_desc], ept_pml4 + 0x1E
    mov eax, 1
    invept eax, [invept_desc]
    FLAGS
    CHECK "invept single-context: VMsucceed", 0, eax
    VMENTER vmresume, .p2
.p2:
    VMR EXIT_REASON
    CHECK "write-only ept entry: ept misconfiguration, reason 49 (SDM 28.2.3.1)", 49, eax
    mov dword [ept_pd + 6 * 8], 0x00C000B1   ; read-only
    VMENTER vmresume, .p3
.p3:
    VMR EXIT_REASON
    CHECK "write to a read-only ept page: reason 48", 48, eax
    VMR EXIT_QUAL
    CHECK "  qualification: write, readable, linear valid, final", 0x18A, eax
    mov dword [ept_pd + 6 * 8], 0x00C000B7
    mov eax, 2
    invept eax, [invept_desc]
    VMENTER vmresume, .p4
.p4:
    VMR EXIT_REASON
    CHECK "after the fix the guest reaches its hlt", 12, eax
    cmp dword [0x00C00000], 0xC0FFEE
    sete al
    movzx eax, al
    CHECK "  its write landed through ept", 1, eax

    ; --- EPT execute permission (SDM 28.2.3.2: an instruction fetch needs bit 2 of every EPT
    ;     entry used) and execute-only translations (SDM 28.2.3.1, App. A.10) ---
    mov ecx, 0x48C
    rdmsr
    and eax, 1
    CHECK "ia32_vmx_ept_vpid_cap[0]: execute-only translations (App. A.10)", 1, eax
    mov byte [0x00C00000], 0xF4              ; hlt at guest-physical 12 MiB
    mov dword [ept_pd + 6 * 8], 0x00C000B3   ; read/write, not executable
    mov eax, 2
    invept eax, [invept_desc]
    VMW GUEST_RIP, 0x00C00000
    VMENTER vmresume, .ex1
.ex1:
    VMR EXIT_REASON
    CHECK "fetch from a non-executable ept page: reason 48 (SDM 28.2.3.2)", 48, eax
    VMR EXIT_QUAL
    CHECK "  qualification: fetch, readable, writable, linear valid, final (Table 27-7)", 0x19C, eax
    VMR GUEST_PHYS
    CHECK "  guest-physical address", 0x00C00000, eax
    VMR GUEST_RIP
    CHECK "  guest rip = the fetched instruction (a fault-like exit)", 0x00C00000, eax
    mov dword [ept_pd + 6 * 8], 0x00C000B4   ; execute-only
    mov eax, 2
    invept eax, [invept_desc]
    VMENTER vmresume, .ex2
.ex2:
    VMR EXIT_REASON
    CHECK "execute-only ept page: the fetch succeeds, the guest's hlt exits (12)", 12, eax
    VMR GUEST_RIP
    CHECK "  at 12 MiB", 0x00C00000, eax
    VMW GUEST_RIP, guest_ept
    VMENTER vmresume, .ex3
.ex3:
    VMR EXIT_REASON
    CHECK "read of an execute-only ept page: reason 48 (SDM 28.2.3.2)", 48, eax
    VMR EXIT_QUAL
    CHECK "  qualification: read, executable only, linear valid, final (Table 27-7)", 0x1A1, eax
    mov dword [ept_pd + 6 * 8], 0x00C000B7
    mov eax, 2
    invept eax, [invept_desc]

    ; --- VMCLEAR of the current VMCS, VMXOFF (SDM 30.3) ---
    vmclear [vmcs_a_ptr]
    vmptrst [tmp64]
    CHECK "vmclear of the current vmcs makes it invalid", 0xFFFFFFFF, [tmp64]
    vmxoff
    FLAGS
    CHECK "vmxoff: VMsucceed", 0, eax
    TRY .x1
    VMR GUEST_RIP
.x1:
    ENDTRY
    CHECK "vmread after vmxoff: #UD", 6, [exc_vec]
    jmp finish

; Advance the guest's RIP past the instruction that exited.
skip:
    mov ebx, EXIT_INSTR_LEN
    vmread ecx, ebx
    mov ebx, GUEST_RIP
    vmread eax, ebx
    add eax, ecx
    vmwrite ebx, eax
    ret

; Host RIP: every VM exit lands here with the host state (SDM 27.5), then goes on where asked.
vm_exit:
    jmp [exit_cont]

setup_vmcs:
    mov ecx, 0x48D
    rdmsr
    VMW PIN_CTLS, eax
    mov ecx, 0x48E
    rdmsr
    or eax, (1 << 7) | (1 << 15) | (1 << 24)  ; HLT, CR3-load, unconditional I/O exiting
    VMW PROC_CTLS, eax
    mov ecx, 0x48F
    rdmsr
    VMW EXIT_CTLS, eax
    mov ecx, 0x490
    rdmsr
    VMW ENTRY_CTLS, eax
    VMW EXC_BITMAP, 1 << 6
    VMW CR0_MASK, 8                          ; the host owns CR0.TS…
    VMW CR0_SHADOW, 8                        ; …and the guest reads TS = 1
    VMW LINK_PTR, 0xFFFFFFFF
    VMW LINK_PTR_HI, 0xFFFFFFFF
    ; Host state (SDM 24.5): this program's own.
    mov eax, cr0
    VMW 0x6C00, eax
    mov eax, cr3
    VMW 0x6C02, eax
    mov eax, cr4
    VMW 0x6C04, eax
    VMW 0x0C00, SEL_KDATA
    VMW 0x0C02, SEL_KCODE
    VMW 0x0C04, SEL_KDATA
    VMW 0x0C06, SEL_KDATA
    VMW 0x0C08, SEL_KDATA
    VMW 0x0C0A, SEL_KDATA
    VMW 0x0C0C, SEL_TSS
    VMW 0x6C0A, main_tss
    VMW 0x6C0C, gdt
    VMW 0x6C0E, idt
    VMW 0x6C14, host_stack_top
    VMW 0x6C16, vm_exit
    ; Guest state (SDM 24.4): the same flat ring-0 world, its own stack.
    mov eax, cr0
    and eax, ~8
    VMW 0x6800, eax
    mov eax, cr3
    VMW 0x6802, eax
    mov eax, cr4
    VMW 0x6804, eax
    mov esi, 0
.seg:
    mov eax, 0x0800
    add eax, esi
    mov ebx, SEL_KDATA
    cmp esi, 2
    jne .notcs
    mov ebx, SEL_KCODE
.notcs:
    vmwrite eax, ebx
    mov eax, 0x6806
    add eax, esi
    xor ebx, ebx
    vmwrite eax, ebx                          ; base 0
    mov eax, 0x4800
    add eax, esi
    mov ebx, 0xFFFFFFFF
    vmwrite eax, ebx                          ; limit 4 GiB - 1
    mov eax, 0x4814
    add eax, esi
    mov ebx, 0xC093
    cmp esi, 2
    jne .notcs2
    mov ebx, 0xC09B
.notcs2:
    vmwrite eax, ebx                          ; access rights (Table 24-2)
    add esi, 2
    cmp esi, 12
    jb .seg
    VMW 0x080C, 0
    VMW 0x4820, 0x10000                       ; LDTR unusable
    VMW 0x080E, SEL_TSS
    VMW 0x6814, main_tss
    VMW 0x480E, TSS_SIZE - 1
    VMW 0x4822, 0x8B                          ; busy 32-bit TSS
    VMW 0x6816, gdt
    VMW 0x4810, GDT_ENTRIES * 8 - 1
    VMW 0x6818, idt
    VMW 0x4812, 256 * 8 - 1
    VMW 0x681A, 0x400                         ; DR7
    VMW GUEST_RSP, guest_stack_top
    VMW GUEST_RFLAGS, 2
    VMW 0x4824, 0                             ; interruptibility
    VMW 0x4826, 0                             ; active
    ret

; ---- the guest (runs at CPL 0 in VMX non-root operation) ----
guest_code:
    xor eax, eax
guest_cpuid:
    cpuid
    out 0x80, al
    mov eax, cr3
    mov cr3, eax
    mov eax, cr0
    mov ecx, eax
    vmcall
guest_ud2:
    ud2
    hlt
guest_spin:
    jmp guest_spin
guest_isr:
    mov dword [isr_hit], 1
    vmcall
guest_mtf:
    nop
    mov eax, 0x12345678
    cpuid
    hlt
guest_mtf_hlt:
    hlt
    hlt
guest_mtf_rep:
    rep stosb
    hlt
guest_ept:
    mov eax, [0x00C00000]
    mov dword [0x00C00000], 0xC0FFEE
    hlt

section .data
align 8
vmxon_ptr:      dd vmxon_region, 0
vmcs_a_ptr:     dd vmcs_a, 0
vmcs_b_ptr:     dd vmcs_b, 0
bad_ptr:        dd vmcs_a + 8, 0

section .bss
alignb 4096
vmxon_region:   resb 4096
vmcs_a:         resb 4096
vmcs_b:         resb 4096
page_dir:       resb 4096
ept_pml4:       resb 4096
ept_pdpt:       resb 4096
ept_pd:         resb 4096
                resb 4096
host_stack_top:
                resb 4096
guest_stack_top:
alignb 16
invept_desc:    resd 4
tmp64:          resd 2
revision:       resd 1
exit_cont:      resd 1
entry_failed:   resd 1
entry_flags:    resd 1
isr_hit:        resd 1
guest_ecx:      resd 1
guest_eax:      resd 1
saved_proc:     resd 1
guest_edi:      resd 1
rep_round:      resd 1
rep_buf:        resd 1
