#!/usr/bin/env bash
# Counts the instructions QEMU executes while booting the Linux guest to its shell prompt, per boot
# phase, and lists the functions that executed the most instructions. Needs the build tree in
# guests/linux/work/ (run build-linux.sh first) for System.map and the unstripped BusyBox.
#
# Usage: guests/linux/insn-count.sh [--cpu 486|486,-fpu] [--append "console=ttyS0 lpj=..."] [--top N]
# QEMU counts every iteration of a REP string instruction as one instruction, so REP-heavy code
# (memset, memcpy, the LZ4 decompressor's copies) counts higher here than in an emulator that
# counts a REP instruction once.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
W="$HERE/work"
CPU=486
APPEND="console=ttyS0 lpj=500000"
TOP=25
while (($#)); do
  case "$1" in
    --cpu) CPU="$2"; shift 2 ;;
    --append) APPEND="$2"; shift 2 ;;
    --top) TOP="$2"; shift 2 ;;
    *) echo "usage: $0 [--cpu CPU] [--append CMDLINE] [--top N]" >&2; exit 2 ;;
  esac
done
MAP="$W/linux-source-6.1/System.map"
BB="$W/busybox/busybox_unstripped"
[ -f "$MAP" ] && [ -f "$BB" ] || { echo "run build-linux.sh first (no $MAP or $BB)" >&2; exit 1; }

gcc -shared -fPIC -O2 -Wall -Wextra -fvisibility=hidden -o "$W/insncount.so" "$HERE/qemu-insn-count.c"
ksym() { printf '0x%s' "$(awk -v s="$1" '$3 == s && $2 ~ /^[tT]$/ { print $1; exit }' "$MAP")"; }
usym() { printf '0x%s' "$(nm "$BB" | awk -v s="$1" '$3 == s { print $1; exit }')"; }
# The bzImage's 32-bit entry is code32_start (1 MiB); the decompressed kernel starts at its
# physical load address (16 MiB) before paging is on; read_line_input is BusyBox ash's prompt.
MARKS="mark=bzImage_32bit_entry@0x100000,mark=vmlinux_startup_32@0x1000000"
for s in start_kernel calibrate_delay kernel_init do_populate_rootfs serial8250_init free_initmem run_init_process; do
  MARKS="$MARKS,mark=$s@$(ksym "$s")"
done
PROF="$W/insn-profile.txt"
LOG="$W/insn-count.log"
rm -f "$PROF" "$LOG"
MARKS="$MARKS,profile=$PROF,mark=!prompt@$(usym read_line_input)"

# QEMU's wrapper script in /usr/bin does not pass -plugin through reliably; call the binary.
QEMU=/usr/libexec/qemu-system-i386
[ -x "$QEMU" ] || QEMU=qemu-system-i386
"$QEMU" -plugin "$W/insncount.so,$MARKS" -d plugin -D "$LOG" \
  -M isapc -cpu "$CPU" -m 32 -display none -serial "file:$W/insn-count.serial" -monitor none -no-reboot \
  -kernel "$HERE/bzImage" -initrd "$HERE/initramfs.cpio" -append "$APPEND" &
QPID=$!
for _ in $(seq 1 300); do
  [ -s "$PROF" ] && break
  sleep 0.1
done
kill "$QPID" 2>/dev/null || true
wait "$QPID" 2>/dev/null || true
[ -s "$PROF" ] || { echo "no prompt within 30 s; see $W/insn-count.serial" >&2; exit 1; }

python3 - "$LOG" "$PROF" "$MAP" "$BB" "$TOP" <<'EOF'
import bisect, collections, subprocess, sys
log, prof, kmap, bb, top = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
marks = [(l.split()[1], int(l.split()[2])) for l in open(log) if l.startswith("insns:") and "total" not in l]
print(f"{'reached':28} {'instructions':>12} {'phase (since previous)':>24}")
prev = 0
for name, n in marks:
    print(f"{name:28} {n:12,} {n - prev:24,}")
    prev = n
def table(lines):
    s = sorted((int(p[0], 16), p[2]) for p in (l.split() for l in lines) if len(p) >= 3 and p[1] in "tTwW")
    return [a for a, _ in s], [n for _, n in s]
kk, kn = table(open(kmap))
uk, un = table(subprocess.run(["nm", bb], capture_output=True, text=True).stdout.splitlines())
def where(a):
    if a >= 0xC0000000:
        return kn[bisect.bisect_right(kk, a) - 1]
    if 0x08000000 <= a < 0x0A000000:
        return "user: " + un[bisect.bisect_right(uk, a) - 1]
    if a < 0x100000:
        return "(BIOS, option ROMs, real-mode setup)"
    if a < 0x1000000:
        return "(bzImage 32-bit entry, before relocation)"
    return "(decompressor, relocated above 16 MiB)"
c = collections.Counter()
for l in open(prof):
    a, n = l.split()
    c[where(int(a, 16))] += int(n)
total = sum(c.values())
print(f"\ntop {top} of {total:,} instructions to the prompt:")
for name, n in c.most_common(top):
    print(f"{n:12,} {100 * n / total:5.1f}%  {name}")
EOF
