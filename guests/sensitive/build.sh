#!/usr/bin/env bash
# Build the sensitive-instruction guest into $1 (default: this folder). Deterministic: same sources
# -> same bytes (nasm runs from this folder on relative paths, so no absolute path lands in the ELF).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here"
nasm -f elf32 -o "$tmp/sensitive.o" sensitive.asm
ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T linker.ld -o "$out/sensitive.elf" "$tmp/sensitive.o"
