#!/usr/bin/env bash
# Install the Debian packages TrapLab's tests and guest builds need, when they are absent.
#   ensure-system-deps.sh guests   -> nasm, gcc with -m32 support, binutils
#   ensure-system-deps.sh test     -> the above plus chromium (Playwright drives Debian's chromium)
#   ensure-system-deps.sh test --check
#                                  -> print the missing packages (one line), install nothing;
#                                     exit 1 when some are missing
# When apt or dpkg is busy (another install, unattended-upgrades), it waits for the lock for up to
# TRAPLAB_APT_WAIT seconds (default 600), retries, and if it still cannot install prints ONE
# message naming the packages and the command to run, and exits 1.
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
if [ "${2:-}" = --check ]; then
  echo "${missing[*]}"
  [ ${#missing[@]} -eq 0 ] && exit 0
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

fail() {
  echo "traplab: missing Debian packages: ${missing[*]} — $1" >&2
  echo "traplab: install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
}
if [ "$(id -u)" != 0 ] || ! have_cmd apt-get; then
  fail "not root (or no apt-get), so they were not installed"
fi

wait_total=${TRAPLAB_APT_WAIT:-600}
deadline=$((SECONDS + wait_total))
locks=(/var/lib/dpkg/lock-frontend /var/lib/dpkg/lock /var/lib/apt/lists/lock /var/cache/apt/archives/lock)
# dpkg and apt hold their locks with fcntl: `fuser` (psmisc) sees the holder when installed; apt's
# own DPkg::Lock::Timeout below waits for the dpkg lock either way.
lock_busy() {
  have_cmd fuser || return 1
  local l
  for l in "${locks[@]}"; do
    if [ -e "$l" ] && fuser "$l" >/dev/null 2>&1; then return 0; fi
  done
  return 1
}
if lock_busy; then
  echo "traplab: apt/dpkg is busy (another install is running); waiting up to $((wait_total / 60)) min for its lock…"
  while lock_busy && [ $SECONDS -lt $deadline ]; do sleep 5; done
fi

echo "traplab: installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
attempt=0
while :; do
  attempt=$((attempt + 1))
  left=$((deadline - SECONDS))
  if [ $left -lt 30 ]; then left=30; fi
  apt=(apt-get -q -o "DPkg::Lock::Timeout=$left")
  if "${apt[@]}" update -qq >"$log" 2>&1 && "${apt[@]}" install -y -qq "${missing[@]}" >>"$log" 2>&1; then
    exit 0
  fi
  reason=$(grep -E '^(E|W):' "$log" | tail -n 1 || true)
  # A busy lock is retried until the deadline; any other failure gets one more try.
  if [ $SECONDS -ge $deadline ] || { ! grep -qi 'lock' "$log" && [ $attempt -ge 2 ]; }; then
    fail "apt-get failed after $attempt attempt(s)${reason:+: $reason}"
  fi
  echo "traplab: apt-get failed (attempt $attempt${reason:+: $reason}); retrying in 10 s"
  sleep 10
done
