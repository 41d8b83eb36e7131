#!/usr/bin/env bash
# Build adaptive.elf (binary translation's adaptive-store guest) with the cputests runtime.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here"
nasm -f elf32 -o "$tmp/adaptive.o" adaptive.asm
ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T ../cputests/linker.ld -o adaptive.elf "$tmp/adaptive.o"
