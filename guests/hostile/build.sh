#!/usr/bin/env bash
# Build the hostile guests into $1 (default: this folder). Deterministic: same sources -> same bytes
# (nasm runs from this folder on relative paths, so no absolute path lands in the ELF's symbols).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-$here}" && cd "${1:-$here}" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$here"
link() { ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T "$2" -o "$out/$1.elf" "$tmp/$1.o"; }
nasm -f elf32 -o "$tmp/storm-ud.o" storm.asm && link storm-ud linker.ld
nasm -f elf32 -DINT3 -o "$tmp/storm-int3.o" storm.asm && link storm-int3 linker.ld
# slot uses the cputests runtime (lib.inc: PASS/FAIL lines, exception capture, exit status)
nasm -f elf32 -o "$tmp/slot.o" slot.asm && link slot ../cputests/linker.ld
nasm -f elf32 -o "$tmp/slot-read.o" slot-read.asm && link slot-read ../cputests/linker.ld
nasm -f elf32 -o "$tmp/slot-segs.o" slot-segs.asm && link slot-segs ../cputests/linker.ld
