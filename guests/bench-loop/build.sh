#!/usr/bin/env bash
# Build the bench-loop guest into $1 (default: this folder). Deterministic: same sources -> same
# bytes (nasm runs from this folder with a relative file name).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here"
nasm -f elf32 -o "$tmp/bench.o" bench.asm
ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T linker.ld -o "$out/bench.elf" "$tmp/bench.o"
