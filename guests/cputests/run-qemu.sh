#!/usr/bin/env bash
# Run one cputests guest under QEMU: ./run-qemu.sh NAME [extra qemu args]. Prints the serial
# output and "exit=N" where N is QEMU's exit status ((v << 1) | 1 for a write of v to port 0xF4;
# 0 for a shutdown with -no-reboot, e.g. a triple fault).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=$1; shift
# A guest may ask for another CPU model with a "; qemu-cpu: MODEL" line (x87: pentium3).
model=$(sed -n 's/^; qemu-cpu: *\([a-z0-9_-]*\).*/\1/p' "$here/$name.asm" | head -1)
timeout 20 qemu-system-i386 -cpu "${model:-pentium}" -m 64 -kernel "$here/$name.elf" \
  -device isa-debug-exit,iobase=0xf4,iosize=0x04 -serial stdio -display none -monitor none \
  -no-reboot "$@"
echo "exit=$?"
