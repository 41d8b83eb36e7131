export const MAIN_HELP = `traplab — an IA-32 PC emulator and hypervisor you can watch trap by trap

Usage:
  traplab run GUEST [options]
                            boot a guest headless (see 'traplab run --help')
  traplab list [--json]     list the guests in guests/manifest.json
  traplab compare --guest ID --techniques A,B[,C,D] [--input TEXT] [--json]
                            the same guest and input under several techniques, side by side
  traplab popek-goldberg [--json]
                            Robin & Irvine's sensitive instructions under every technique
  traplab --help            this text
  traplab --version

Examples:
  npx traplab run hello
  npx traplab run --kernel bzImage --initrd initrd.cpio --append "console=ttyS0"
  npx traplab run --guest trapdemo --technique trap-and-emulate --trace t.jsonl --stats
`;

export const RUN_HELP = `Usage: traplab run GUEST [options]
       traplab run --kernel FILE [options]   (or --bios, --raw: see below)

Guest (exactly one):
  GUEST                     a guest id ('traplab list'), same as --guest GUEST; a path
                            with a '/' (./my.elf) is taken as --kernel FILE
  --guest ID                a guest from guests/manifest.json ('traplab list')
  --kernel FILE             multiboot ELF or Linux bzImage (detected from the file)
    --initrd FILE           initial ramdisk (with --kernel)
    --append STR            kernel command line (with --kernel or --guest)
  --bios FILE               BIOS-style ROM image, entered at the reset vector
  --raw FILE@ADDR           raw image loaded at physical ADDR (0x… hex or decimal)
    --entry ADDR            where the CPU starts (32-bit flat protected mode)

Machine:
  --technique T             native (default), trap-and-emulate, binary-translation (short: bt),
                            paravirtual (short: pv), hardware-assisted (short: vtx)
  --paging ept|shadow       hardware-assisted: EPT (default) or shadow page tables
  --vms N                   number of VMs (needs a hypervisor technique)
  --mem MiB                 guest RAM (default 64, at most 2048; under a hypervisor
                            16 + VMs × MiB must not exceed 2048)
  --machine NAME            the PC model: pc (default: no FPU, no APIC), pc-fpu (an x87),
                            pc-apic (a local APIC), pc-fpu-apic (both)
  --no-reboot               end the run when the guest resets the machine

Input and output:
  --serial stdio|none|file:PATH
                            COM1 (default stdio). On a terminal stdin is raw: keys go to
                            the guest; Ctrl-A X quits, Ctrl-A H helps, Ctrl-A 0-9 types
                            into that VM. Piped stdin is fed to VM 0's receive FIFO as
                            it has room. With several VMs each line shows [vmN].
  --wait-for TEXT --send TEXT
                            once TEXT has appeared on (VM 0's) serial output, type TEXT;
                            pairs apply in order; escapes \\n \\r \\t \\e \\xHH are understood
  --debugcon stdio|stderr|file:PATH
                            port 0xE9 debug console (default: discarded)
  --post-log FILE           port 0x80 POST codes, one hex byte per line
  --trace FILE              the trap log as JSON Lines
  --stats                   instructions, traps by kind, wall time and MIPS on stderr at exit
  --max-instructions N      stop after N instructions (k/M/G suffixes: 500M); each
                            exception or interrupt delivered counts as one

Exit status:
  (V << 1) | 1              the guest wrote V to the debug-exit port 0xF4
  0                         power-off: natively, HLT with interrupts off (how a kernel
                            without ACPI powers off, e.g. Linux's poweroff -f); a guest
                            idle with no input left; reset with --no-reboot; Ctrl-A X
  2                         triple fault (the reason is printed on stderr)
  4                         hung under a hypervisor: HLT with the VM's virtual interrupt
                            flag off, so nothing can ever wake it — the failure theory
                            predicts for pure trap-and-emulate (a POPF that re-enabled
                            interrupts did not trap); stderr names the silent event
  6                         the hypervisor stopped a VM that did something it does not
                            virtualize (real mode, virtual-8086 mode, task gates, …)
  64                        bad arguments or guest image
  74                        an output could not be written (disk full, I/O error, a
                            file that refuses writes): --serial/--debugcon file,
                            --trace, --post-log or stdout; one line on stderr
  124                       --max-instructions reached
  130                       interrupted (SIGINT)
`;
