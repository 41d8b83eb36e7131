#!/usr/bin/env bash
# Build the VMX conformance guest (shares lib.inc and linker.ld with ../cputests) into $1 (default:
# this folder). Deterministic: nasm runs with relative names, so no absolute path is embedded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here/../cputests"
nasm -f elf32 -I ./ -o "$tmp/vmx.o" ../vmx/vmx.asm
ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T linker.ld -o "$out/vmx.elf" "$tmp/vmx.o"
