#!/usr/bin/env bash
# Run one cputests guest under bochs: ./run-bochs.sh NAME. Bochs cannot load multiboot kernels,
# so this builds a floppy: bochs-boot.nasm (a stand-in loader) + the guest's flat image. Bochs has
# no isa-debug-exit device either: the guest's serial output (COM1 -> file) is watched until the
# "DONE ..." summary (or the triplefault marker followed by bochs' shutdown) and bochs is stopped.
# Prints the serial output and "exit=N": 0 all checks passed, 1 some failed, 2 no summary (timeout),
# for triplefault 0 if bochs reported the triple fault / shutdown after the marker.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=$1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
nasm -f bin -o "$work/boot.bin" "$here/bochs-boot.nasm"
objcopy -O binary "$here/$name.elf" "$work/image.bin"
size=$(stat -c %s "$work/image.bin")
sectors=$(( (size + 511) / 512 ))
entry=$(readelf -h "$here/$name.elf" | awk '/Entry point/ {print $4}')
python3 - "$work/boot.bin" "$sectors" "$entry" <<'PY'
import struct, sys
p, n, e = sys.argv[1], int(sys.argv[2]), int(sys.argv[3], 16)
b = bytearray(open(p, 'rb').read())
b[0x1F0:0x1F2] = struct.pack('<H', n)
b[0x1F4:0x1F8] = struct.pack('<I', e)
open(p, 'wb').write(b)
PY
dd if=/dev/zero of="$work/floppy.img" bs=512 count=2880 status=none
dd if="$work/boot.bin" of="$work/floppy.img" conv=notrunc status=none
dd if="$work/image.bin" of="$work/floppy.img" bs=512 seek=1 conv=notrunc status=none
# Debian's bochs expects the vgabios package; QEMU's SeaBIOS VGA BIOS for the Bochs VBE
# interface works as well.
vgabios=/usr/share/bochs/VGABIOS-lgpl-latest
[ -e "$vgabios" ] || vgabios=/usr/share/seabios/vgabios-stdvga.bin
# A guest may ask for another bochs CPU model with a "; bochs-cpu: MODEL" line (x87 needs the
# P6's FCOMI/FCMOV and FXSAVE: p3_katmai). Default: pentium.
model=$(sed -n 's/^; bochs-cpu: *\([a-z0-9_]*\).*/\1/p' "$here/$name.asm" | head -1)
model=${model:-pentium}
cat > "$work/bochsrc" <<RC
megs: 64
cpu: model=$model, reset_on_triple_fault=0
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=$vgabios
floppya: 1_44=$work/floppy.img, status=inserted
boot: floppy
com1: enabled=1, mode=file, dev=$work/serial.txt
display_library: term
log: $work/bochs.log
panic: action=fatal
error: action=report
clock: sync=none
speaker: enabled=0
RC
: > "$work/serial.txt"
echo c > "$work/debugger.rc"              # Debian builds bochs with its debugger: just continue
(cd "$work" && TERM=dumb exec script -qfec "bochs -q -f bochsrc -rc debugger.rc" /dev/null </dev/null >"$work/stdout.txt" 2>&1) &
pid=$!
rc=2
for _ in $(seq 1 300); do
  sleep 0.1
  if grep -q '^DONE ' "$work/serial.txt"; then
    grep -q 'failed=0' "$work/serial.txt" && rc=0 || rc=1
    break
  fi
  if ! kill -0 "$pid" 2>/dev/null; then
    if grep -q 'expecting shutdown' "$work/serial.txt" && grep -qi 'triple fault\|shutdown' "$work/bochs.log" "$work/stdout.txt"; then rc=0; fi
    break
  fi
done
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
[ -n "${KEEP:-}" ] && cp -r "$work" /tmp/bochs-last
tr -d '\r' < "$work/serial.txt"
[ -z "$(tail -c 1 "$work/serial.txt")" ] || echo   # a shutdown may cut the last line short
if [ "$rc" = 2 ]; then tail -5 "$work/bochs.log"; fi
echo "exit=$rc"
