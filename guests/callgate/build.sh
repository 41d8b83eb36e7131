#!/usr/bin/env bash
# Build callgate.elf (call gates under every technique) with the cputests runtime into $1
# (default: this folder).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here"
nasm -f elf32 -o "$tmp/callgate.o" callgate.asm
ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T ../cputests/linker.ld -o "$out/callgate.elf" "$tmp/callgate.o"
