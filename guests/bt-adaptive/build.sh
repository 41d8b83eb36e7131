#!/usr/bin/env bash
# Build adaptive.elf (binary translation's adaptive-store guest) with the cputests runtime into $1
# (default: this folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here"
nasm -f elf32 -o "$tmp/adaptive.o" adaptive.asm
ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T ../cputests/linker.ld -o "$out/adaptive.elf" "$tmp/adaptive.o"
