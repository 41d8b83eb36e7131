#!/usr/bin/env bash
# Build the hello guest into $1 (default: this folder). Deterministic: same sources -> same bytes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
nasm -f elf32 -o "$tmp/hello.o" "$here/hello.asm"
ld -m elf_i386 --build-id=none --no-warn-rwx-segments -nostdlib -T "$here/linker.ld" -o "$out/hello.elf" "$tmp/hello.o"
