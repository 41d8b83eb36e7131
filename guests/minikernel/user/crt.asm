; minikernel user runtime: the image header, process entry stubs and system-call gates.
bits 32

section .entry
    dd 0x494E494D                   ; "MINI"
%ifdef HOST
    dd 2
    dd start_shell, start_vmapp
%else
    dd 4
    dd start_shell, start_primes, start_pager, start_counter
%endif

section .text
extern shell_main, primes_main, pager_main, counter_main
%ifdef HOST
extern vmapp_main
%endif
%macro START 1
start_%1:
    call %1_main
    push eax
    push eax
    call exit
%endmacro
    START shell
    START primes
    START pager
    START counter
%ifdef HOST
    START vmapp
%endif

; int syscall3(int n, u32 a, u32 b, u32 c)
global syscall3
syscall3:
    push ebx
    mov eax, [esp + 8]
    mov ebx, [esp + 12]
    mov ecx, [esp + 16]
    mov edx, [esp + 20]
    int 0x80
    pop ebx
    ret

; void exit(int code)
global exit
exit:
    mov eax, 0                      ; SYS_EXIT
    mov ebx, [esp + 4]
    int 0x80
.never:
    jmp .never

; u32 bench_syscall(u32 n): TSC cycles for n getpid system calls
global bench_syscall
bench_syscall:
    push esi
    push edi
    mov esi, [esp + 12]
    rdtsc
    mov edi, eax
.loop:
    mov eax, 5                      ; SYS_GETPID
    int 0x80
    dec esi
    jnz .loop
    rdtsc
    sub eax, edi
    pop edi
    pop esi
    ret

section .note.GNU-stack noalloc noexec nowrite progbits
