#!/usr/bin/env bash
# Build every cputests guest (one .asm each, sharing lib.inc) into $1 (default: this folder).
# Deterministic: nasm runs from this folder with relative names, so no absolute path is embedded.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "${1:-$here}" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here"
for src in *.asm; do
  name=${src%.asm}
  nasm -f elf32 -o "$tmp/$name.o" "$src"
  ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T linker.ld -o "$out/$name.elf" "$tmp/$name.o"
done
