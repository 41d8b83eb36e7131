#!/usr/bin/env bash
# pv-diff.sh — the porting cost of minikernel-pv, computed from the source: how many kernel lines
# the paravirtual build (-DPV) compiles differently from the native one. Counted: lines only one
# build compiles (the arms of every `#ifdef PV` / `#ifndef PV` / `%ifdef PV` block and the PV-only
# files pv.c and xen.h) plus the conditional directives themselves; everything else is shared.
# The user programs (user/) are identical in both builds and not counted as kernel.
#   ./pv-diff.sh          the table and the porting cost
#   ./pv-diff.sh --diff   the diff itself: each file as the native build sees it vs the PV build
set -euo pipefail
cd "$(dirname "$0")"
shared=(abi.h kernel.h main.c cpu.c console.c mm.c proc.c bench.c lib.c fmt.c boot.asm kernel.ld)
pvonly=(pv.c xen.h)

# The host build's blocks (-DHOST: minikernel as a Type 2 host OS, src/hypervisor/hosting/) are in
# neither the native nor the PV kernel: drop their HOST arms and directives before counting.
nohost() { # file -> the file without its #ifdef HOST arms
  awk '
    function inhost(   i) { for (i = 1; i <= d; i++) if (h[i] && arm[i]) return 1; return 0 }
    /^[#%][ \t]*if/ { d++; h[d] = ($0 ~ /^[#%][ \t]*ifdef[ \t]+HOST([ \t]|$)/); arm[d] = 1; if (h[d]) next }
    /^[#%][ \t]*else/ { if (h[d]) { arm[d] = 0; next } }
    /^[#%][ \t]*endif/ { p = h[d]; d--; if (p) next }
    { if (!inhost()) print }
  ' "$1"
}

count() { # file -> "pv native directives total"
  nohost "$1" | awk '
    function inpv(   i) { for (i = 1; i <= d; i++) if (pv[i] && arm[i] == "pv") return 1; return 0 }
    function innat(  i) { for (i = 1; i <= d; i++) if (pv[i] && arm[i] == "native") return 1; return 0 }
    { total++ }
    /^[#%][ \t]*if/ {
      d++; pv[d] = ($0 ~ /^[#%][ \t]*ifn?def[ \t]+PV([ \t]|$)/); arm[d] = ($0 ~ /ifndef/) ? "native" : "pv"
      if (pv[d]) { dir++; next }
    }
    /^[#%][ \t]*else/ { if (pv[d]) { arm[d] = (arm[d] == "pv") ? "native" : "pv"; dir++; next } }
    /^[#%][ \t]*endif/ { p = pv[d]; d--; if (p) { dir++; next } }
    { if (inpv()) pvl++; else if (innat()) natl++ }
    END { printf "%d %d %d %d\n", pvl, natl, dir, total }
  '
}

view() { # file pv(0|1) -> the file with only the lines that build compiles (PV directives dropped)
  nohost "$1" | awk -v want="$2" '
    function on(   i) { for (i = 1; i <= d; i++) if (pv[i] && (arm[i] == "pv") != want) return 0; return 1 }
    /^[#%][ \t]*if/ { d++; pv[d] = ($0 ~ /^[#%][ \t]*ifn?def[ \t]+PV([ \t]|$)/); arm[d] = ($0 ~ /ifndef/) ? "native" : "pv"; if (pv[d]) next }
    /^[#%][ \t]*else/ { if (pv[d]) { arm[d] = (arm[d] == "pv") ? "native" : "pv"; next } }
    /^[#%][ \t]*endif/ { p = pv[d]; d--; if (p) next }
    { if (on()) print }
  '
}

if [ "${1:-}" = --diff ]; then
  for f in "${shared[@]}"; do
    diff -u --label "$f (native)" --label "$f (pv)" <(view "$f" 0) <(view "$f" 1) || true
  done
  for f in "${pvonly[@]}"; do diff -u --label "/dev/null" --label "$f (pv only)" /dev/null "$f" || true; done
  exit 0
fi

printf '%-12s %8s %8s %10s %8s\n' file 'PV-only' native 'directives' lines
tp=0; tn=0; td=0; tt=0
for f in "${shared[@]}"; do
  read -r p n d t < <(count "$f")
  printf '%-12s %8d %8d %10d %8d\n' "$f" "$p" "$n" "$d" "$t"
  tp=$((tp + p)); tn=$((tn + n)); td=$((td + d)); tt=$((tt + t))
done
po=0
for f in "${pvonly[@]}"; do
  t=$(wc -l < "$f")
  printf '%-12s %8d %8s %10s %8d\n' "$f" "$t" - - "$t"
  po=$((po + t))
done
native_kernel=$((tt - tp - td))          # what the native build compiles
differ=$((tp + tn + td + po))
printf '\nnative kernel: %d lines; lines that differ between the builds: %d (%d PV-only in shared files, %d native-only, %d directives, %d in pv.c/xen.h)\n' \
  "$native_kernel" "$differ" "$tp" "$tn" "$td" "$po"
awk -v a="$differ" -v b="$native_kernel" 'BEGIN { printf "porting cost: %.1f %% of the native kernel (Barham et al. 2003: Linux, ~3,000 lines, 1.36 %%)\n", 100 * a / b }'
