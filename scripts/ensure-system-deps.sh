#!/usr/bin/env bash
# Install the Debian packages TrapLab's tests and guest builds need, when they are absent.
#   ensure-system-deps.sh guests   -> nasm, gcc with -m32 support, binutils
#   ensure-system-deps.sh test     -> the above plus chromium (Playwright drives Debian's chromium)
set -euo pipefail
want=(nasm gcc-multilib binutils)
[ "${1:-test}" = test ] && want+=(chromium)
missing=()
have_cmd() { command -v "$1" >/dev/null 2>&1; }
for p in "${want[@]}"; do
  case $p in
    nasm) have_cmd nasm || missing+=(nasm) ;;
    binutils) have_cmd ld || missing+=(binutils) ;;
    chromium) have_cmd chromium || [ -n "${CHROMIUM_PATH:-}" ] || missing+=(chromium) ;;
    gcc-multilib) dpkg -s gcc-multilib >/dev/null 2>&1 || missing+=(gcc-multilib) ;;
  esac
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! have_cmd apt-get; then
  echo "traplab: missing system packages: ${missing[*]}" >&2
  echo "traplab: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "traplab: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
