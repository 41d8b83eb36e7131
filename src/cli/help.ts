export const MAIN_HELP = `traplab — an IA-32 PC emulator and hypervisor you can watch trap by trap

Usage:
  traplab run GUEST [options]
                            boot a guest headless (see 'traplab run --help')
  traplab list [--json]     list the guests in guests/manifest.json
  traplab compare --guest ID --techniques A,B[,C,D] [--input TEXT] [--json]
                            the same guest and input under several techniques, side by side
  traplab popek-goldberg [--json]
                            Robin & Irvine's sensitive instructions under every technique
  traplab aa [--cpu-model P] [--json]
                            Adams & Agesen's nanobenchmarks under every technique, beside
                            the paper's numbers (see 'traplab aa --help')
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
  --hosting type1|type2|both
                            who owns the PC: type1 (default) the VMM boots first and owns
                            the devices; type2 a host OS (minikernel-host) boots first and
                            the VMM runs through its driver, guest I/O through its VMApp
                            (one VM); both: run Type 1 then Type 2 and print the table
  --host-send TEXT          type2: typed into the host OS's console at its first prompt
                            (escapes as --send)
  --host-serial stdio|stderr|file:PATH
                            type2: the host OS's console, COM1 (default: discarded)
  --cpu-model p4|nehalem|modern
                            a CPU generation for the cost model: the trap log's cycles
                            for that part, and the guest's RDTSC reads modelled cycles
                            (instructions + every modelled cost so far); without it the
                            log uses the Pentium 4 figures and the TSC counts instructions

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
  --until-exit N            (vtx) stop right after the first VM exit with basic exit
                            reason N (SDM App. C: 10 CPUID, 12 HLT, 28 CR access, 30 I/O,
                            48 EPT violation…); stderr names it; exit status 0

Exit status:
  (V << 1) | 1              the guest wrote V to the debug-exit port 0xF4
  0                         power-off: HLT with interrupts off (how a kernel without
                            ACPI powers off, e.g. Linux's poweroff -f), natively and
                            under a VMM; a guest idle with no input left; reset with
                            --no-reboot; Ctrl-A X
  2                         triple fault (the reason is printed on stderr)
  4                         hung under a hypervisor: HLT with the VM's virtual interrupt
                            flag off while the guest believes it on (a POPF/IRET that
                            re-enabled interrupts did not trap), so nothing can ever
                            wake it — the failure theory predicts for pure
                            trap-and-emulate; stderr names the silent event
  6                         the hypervisor stopped a VM that did something it does not
                            virtualize (real mode, virtual-8086 mode, task gates, …)
  64                        bad arguments or guest image
  74                        an output could not be written (disk full, I/O error, a
                            file that refuses writes): --serial/--debugcon file,
                            --trace, --post-log or stdout; one line on stderr
  124                       --max-instructions reached
  130                       interrupted (SIGINT)
`;

export const AA_HELP = `Usage: traplab aa [--cpu-model p4|nehalem|modern|all] [--only NAMES] [--json]

Adams & Agesen (ASPLOS 2006) reproduced: boots minikernel under native, trap-and-emulate,
binary-translation, hardware-assisted (shadow paging and EPT) and minikernel-pv under
paravirtual, with a CPU-generation preset, and types 'bench NAME' for each nanobenchmark
(syscall, in, cr-write, call/ret, pgfault, divzero, ptemod). The guest measures each with its
own RDTSC, which reads modelled cycles; the table shows them beside the paper's numbers, then
the trap-log records (VM exits) each operation cost. Trap-and-emulate cannot boot minikernel
(its POPF re-enables interrupts without a trap) and is shown as failed.

  --cpu-model P             p4 (default: the paper's Pentium 4), nehalem (2009, EPT),
                            modern (2020s), or all three
  --only NAMES              a comma-separated subset of the benchmarks
  --json                    one JSON document (what the ?view=adams-agesen page shows;
                            src/ui/adams-agesen/aa-data.json is --cpu-model all --json)
`;
