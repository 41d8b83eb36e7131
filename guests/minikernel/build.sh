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
# Built twice: $tmp/user.bin for the native and PV kernels, $tmp/host/user.bin (-DHOST, with
# VMApp) for the host OS of a Type 2 hypervisor.
user_image() { # dir extra-defs...
  local dir=$1; shift
  local uobjs=()
  mkdir -p "$dir"
  for f in user/shell.c user/workers.c user/ulib.c fmt.c "${@:+user/vmapp.c}"; do
    [ -n "$f" ] || continue
    o="$dir/u_$(basename "${f%.c}").o"; gcc "${CFLAGS[@]}" "$@" -c "$f" -o "$o"; uobjs+=("$o")
  done
  nasm -f elf32 "$@" -o "$dir/u_crt.o" user/crt.asm
  ld "${LDFLAGS[@]}" -T user/user.ld -o "$dir/user.elf" "$dir/u_crt.o" "${uobjs[@]}"
  objcopy -O binary "$dir/user.elf" "$dir/user.bin"
}
user_image "$tmp"
user_image "$tmp/host" -DHOST

# Kernel, three times from one source tree: native; paravirtual (-DPV selects the thin PV layer:
# pv.c, xen.h and the #ifdef PV blocks; see pv-diff.sh for how many lines that is); and the host
# OS of a Type 2 hypervisor (-DHOST: host.c, host.h, user/vmapp.c and the #ifdef HOST blocks; see
# src/hypervisor/hosting/README.md).
for variant in native pv host; do
  defs=(); srcs=(main.c cpu.c console.c mm.c proc.c bench.c lib.c fmt.c); name=minikernel; inc="$tmp/"
  if [ "$variant" = pv ]; then defs=(-DPV); srcs+=(pv.c); name=minikernel-pv; fi
  if [ "$variant" = host ]; then defs=(-DHOST); srcs+=(host.c); name=minikernel-host; inc="$tmp/host/"; fi
  kobjs=()
  for f in "${srcs[@]}"; do
    o="$tmp/k_${variant}_${f%.c}.o"; gcc "${CFLAGS[@]}" "${defs[@]}" -c "$f" -o "$o"; kobjs+=("$o")
  done
  nasm -f elf32 "${defs[@]}" -i "$inc" -o "$tmp/k_${variant}_boot.o" boot.asm
  ld "${LDFLAGS[@]}" -T kernel.ld -o "$out/$name.elf" "$tmp/k_${variant}_boot.o" "${kobjs[@]}"
done
