#!/usr/bin/env bash
# Build minikernel into $1 (default: this folder): minikernel.elf, a multiboot kernel with its
# user programs embedded. Deterministic: same sources and toolchain -> same bytes (everything is
# compiled from this folder on relative paths, without debug info or a build id).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here"
CFLAGS=(-m32 -march=i486 -ffreestanding -fno-pie -fno-pic -nostdlib -fno-stack-protector -O2
  -fno-asynchronous-unwind-tables -fno-unwind-tables -Wall -Wextra -Werror)
LDFLAGS=(-m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib)

# User programs: linked at 0x40000000, flattened to a binary the kernel copies into each process.
uobjs=()
for f in user/shell.c user/workers.c user/ulib.c fmt.c; do
  o="$tmp/u_$(basename "${f%.c}").o"; gcc "${CFLAGS[@]}" -c "$f" -o "$o"; uobjs+=("$o")
done
nasm -f elf32 -o "$tmp/u_crt.o" user/crt.asm
ld "${LDFLAGS[@]}" -T user/user.ld -o "$tmp/user.elf" "$tmp/u_crt.o" "${uobjs[@]}"
objcopy -O binary "$tmp/user.elf" "$tmp/user.bin"

# Kernel, twice from one source tree: native, and paravirtual (-DPV selects the thin PV layer:
# pv.c, xen.h and the #ifdef PV blocks; see pv-diff.sh for how many lines that is).
for variant in native pv; do
  defs=(); srcs=(main.c cpu.c console.c mm.c proc.c bench.c lib.c fmt.c); name=minikernel
  if [ "$variant" = pv ]; then defs=(-DPV); srcs+=(pv.c); name=minikernel-pv; fi
  kobjs=()
  for f in "${srcs[@]}"; do
    o="$tmp/k_${variant}_${f%.c}.o"; gcc "${CFLAGS[@]}" "${defs[@]}" -c "$f" -o "$o"; kobjs+=("$o")
  done
  nasm -f elf32 "${defs[@]}" -i "$tmp/" -o "$tmp/k_${variant}_boot.o" boot.asm
  ld "${LDFLAGS[@]}" -T kernel.ld -o "$out/$name.elf" "$tmp/k_${variant}_boot.o" "${kobjs[@]}"
done
