#!/usr/bin/env bash
# Builds TrapLab's Linux guest from Debian bookworm packages alone:
#   bzImage         Linux 6.1 (linux-source-6.1), tinyconfig + linux-tiny.config, i486SX + math emu
#   bzImage-apic.bin  the same + linux-apic.config (uniprocessor local APIC, for --machine pc-apic)
#   initramfs.cpio  uncompressed newc cpio: BusyBox (Debian source) on musl (Debian source), both
#                   built with -march=i486, plus init.sh as /init
# and records their sha256 in SHA256SUMS. Not part of CI; takes a few minutes on 2 cores.
#
# Usage: guests/linux/build-linux.sh [--clean] [--check]
#   --clean  start from an empty guests/linux/work/ (default: reuse extracted sources)
#   --check  build, then compare with the committed SHA256SUMS instead of overwriting the images
# Environment: JOBS (default: nproc), SOURCE_DATE_EPOCH (default: date of the linux-source-6.1
#   Debian changelog entry, so every rebuild from the same packages gives the same bytes).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
W="$HERE/work"
JOBS="${JOBS:-$(nproc)}"
CLEAN=0
CHECK=0
for arg in "$@"; do
  case "$arg" in
    --clean) CLEAN=1 ;;
    --check) CHECK=1 ;;
    *) echo "usage: $0 [--clean] [--check]" >&2; exit 2 ;;
  esac
done

log() { printf '\n=== %s  [%s]\n' "$*" "$(date -u +%T)"; }
die() { echo "build-linux.sh: $*" >&2; exit 1; }

T0=$(date +%s)
export LC_ALL=C TZ=UTC
umask 022

# ---------------------------------------------------------------------------------------------
log "host packages"
NEED=(linux-source-6.1 flex bison bc libelf-dev cpio gcc gcc-multilib make lz4 dpkg-dev
      binutils xz-utils bzip2 perl rsync)
MISSING=()
for p in "${NEED[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || MISSING+=("$p")
done
if ((${#MISSING[@]})); then
  echo "installing: ${MISSING[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${MISSING[@]}"
fi

LINUX_TAR="$(dpkg -L linux-source-6.1 | grep -E '/linux-source-6\.1\.tar\.xz$' | head -n1)"
[ -f "$LINUX_TAR" ] || die "linux-source-6.1 tarball not found"
LINUX_DEB_VERSION="$(dpkg-query -W -f='${Version}' linux-source-6.1)"

if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  zcat /usr/share/doc/linux-source-6.1/changelog.Debian.gz >"/tmp/traplab-linux-changelog.$$"
  SOURCE_DATE_EPOCH="$(dpkg-parsechangelog -l "/tmp/traplab-linux-changelog.$$" -S Timestamp)"
  rm -f "/tmp/traplab-linux-changelog.$$"
fi
# Reproducible builds: fixed time, user, host and build number in every version string.
export SOURCE_DATE_EPOCH
export KBUILD_BUILD_TIMESTAMP="$(date -u -d "@$SOURCE_DATE_EPOCH" '+%a %b %e %H:%M:%S UTC %Y')"
export KBUILD_BUILD_USER=traplab KBUILD_BUILD_HOST=debian KBUILD_BUILD_VERSION=1
echo "SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH ($KBUILD_BUILD_TIMESTAMP)"

if ((CLEAN)); then rm -rf "$W"; fi
mkdir -p "$W"

# ---------------------------------------------------------------------------------------------
log "Debian source packages: busybox, musl"
# A temporary deb-src entry in its own sources file, used through apt options only: the host's
# /etc/apt and /var/lib/apt are not touched, and the entry is removed when we are done.
APTDIR="$W/apt"
fetch_sources() {
  rm -rf "$APTDIR"
  mkdir -p "$APTDIR/sources.list.d" "$APTDIR/lists/partial"
  cat >"$APTDIR/sources.list.d/traplab-deb-src.sources" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  local opts=(-o "Dir::Etc::SourceList=/dev/null" -o "Dir::Etc::SourceParts=$APTDIR/sources.list.d"
              -o "Dir::State::Lists=$APTDIR/lists" -o "Dir::Cache::pkgcache=" -o "Dir::Cache::srcpkgcache="
              -o "APT::Sandbox::User=root")
  apt-get "${opts[@]}" update
  rm -rf "$W/src"
  mkdir -p "$W/src"
  (cd "$W/src" && apt-get "${opts[@]}" source --download-only busybox musl)
  rm -rf "$APTDIR"   # the deb-src entry and its indexes go away again
}
if ! ls "$W"/src/busybox_*.dsc "$W"/src/musl_*.dsc >/dev/null 2>&1; then
  trap 'rm -rf "$APTDIR"' EXIT
  fetch_sources
  trap - EXIT
fi
BUSYBOX_DSC="$(ls "$W"/src/busybox_*.dsc | head -n1)"
MUSL_DSC="$(ls "$W"/src/musl_*.dsc | head -n1)"
BUSYBOX_DEB_VERSION="$(sed -n 's/^Version: //p' "$BUSYBOX_DSC")"
MUSL_DEB_VERSION="$(sed -n 's/^Version: //p' "$MUSL_DSC")"
echo "busybox $BUSYBOX_DEB_VERSION, musl $MUSL_DEB_VERSION, linux-source-6.1 $LINUX_DEB_VERSION"

# ---------------------------------------------------------------------------------------------
log "kernel: extract linux-source-6.1"
KSRC="$W/linux-source-6.1"
if [ ! -f "$KSRC/.traplab-extracted" ]; then
  rm -rf "$KSRC"
  tar -C "$W" -xJf "$LINUX_TAR"
  touch "$KSRC/.traplab-extracted"
fi

log "kernel: configure (tinyconfig + linux-tiny.config)"
KMAKE=(make -C "$KSRC" ARCH=i386 -j"$JOBS")
"${KMAKE[@]}" -s tinyconfig
(cd "$KSRC" && scripts/kconfig/merge_config.sh -m .config "$HERE/linux-tiny.config" >/dev/null)
"${KMAKE[@]}" -s olddefconfig
# Every line of the fragment must have survived olddefconfig (Kconfig silently drops options whose
# dependencies are not met).
bad=0
while IFS= read -r line; do
  case "$line" in
    CONFIG_*=*) grep -qxF "$line" "$KSRC/.config" || { echo "fragment not applied: $line"; bad=1; } ;;
    "# CONFIG_"*" is not set")
      sym="${line#\# }"; sym="${sym%% *}"
      grep -q "^$sym=" "$KSRC/.config" && { echo "fragment not applied: $line"; bad=1; } ;;
  esac
done <"$HERE/linux-tiny.config"
((bad == 0)) || die "kernel config does not match linux-tiny.config"

log "kernel: build bzImage"
TK0=$(date +%s)
"${KMAKE[@]}" bzImage
TK1=$(date +%s)
echo "kernel build: $((TK1 - TK0)) s"
if objdump -d "$KSRC/vmlinux" | grep -qE '\bcmov|%xmm'; then die "vmlinux uses cmov/SSE"; fi
KOUT="$W/kernels"
mkdir -p "$KOUT"
cp "$KSRC/arch/x86/boot/bzImage" "$KOUT/bzImage"

# The same kernel with uniprocessor local-APIC support (linux-apic.config on top), for the pc-apic
# machine: it uses the APIC timer when CPUID reports an APIC and falls back to the 8254 otherwise.
# Built second, in the same tree, so only what the option touches is recompiled.
log "kernel: configure and build bzImage-apic (+ linux-apic.config)"
(cd "$KSRC" && scripts/kconfig/merge_config.sh -m .config "$HERE/linux-apic.config" >/dev/null)
"${KMAKE[@]}" -s olddefconfig
grep -qx 'CONFIG_X86_LOCAL_APIC=y' "$KSRC/.config" || die "linux-apic.config did not enable the local APIC"
"${KMAKE[@]}" bzImage
cp "$KSRC/arch/x86/boot/bzImage" "$KOUT/bzImage-apic.bin"

log "kernel: UAPI headers for musl"
rm -rf "$W/khdr"
"${KMAKE[@]}" -s headers_install INSTALL_HDR_PATH="$W/khdr"

# ---------------------------------------------------------------------------------------------
log "musl for i486"
MUSL_SRC="$W/musl"
MUSL="$W/musl-i486"
rm -rf "$MUSL_SRC" "$MUSL"
dpkg-source -x "$MUSL_DSC" "$MUSL_SRC" >/dev/null
(
  cd "$MUSL_SRC"
  CC="gcc -m32 -march=i486 -mtune=i486" AR=ar RANLIB=ranlib \
    ./configure --target=i386 --prefix="$MUSL" --disable-shared >/dev/null
  make -j"$JOBS" AR=ar RANLIB=ranlib >/dev/null
  make install AR=ar RANLIB=ranlib >/dev/null
)
cp -r "$W"/khdr/include/{linux,asm,asm-generic,mtd} "$MUSL/include/"
# musl's gcc specs do not pass -m elf_i386 to the linker; our host ld is x86-64 by default.
sed -i 's|^-dynamic-linker|-m elf_i386 -dynamic-linker|' "$MUSL/lib/musl-gcc.specs"
grep -q -- '-m elf_i386' "$MUSL/lib/musl-gcc.specs" || die "could not patch musl-gcc.specs"
MUSLCC="$MUSL/bin/i486-musl-gcc"
mkdir -p "$MUSL/bin"
cat >"$MUSLCC" <<EOF
#!/bin/sh
exec gcc -m32 -march=i486 -mtune=i486 -fno-pie -no-pie "\$@" -specs "$MUSL/lib/musl-gcc.specs"
EOF
chmod +x "$MUSLCC"

# ---------------------------------------------------------------------------------------------
log "BusyBox for i486 on musl"
BB="$W/busybox"
rm -rf "$BB"
dpkg-source -x "$BUSYBOX_DSC" "$BB" >/dev/null
BBMAKE=(make -C "$BB" CC="$MUSLCC" HOSTCC=gcc BB_EXTRA_VERSION="Debian $BUSYBOX_DEB_VERSION, musl i486")
cp "$BB/debian/config/pkg/static" "$BB/.config"
# Debian's static config, with three changes: two options need glibc-only interfaces (extra
# compat = glibc regex; vi's regex search), and awk gets libm (sqrt, sin, exp...) so that the
# guest can show more of the kernel's x87 emulator at work.
sed -i -e 's/^CONFIG_EXTRA_COMPAT=y/# CONFIG_EXTRA_COMPAT is not set/' \
       -e 's/^CONFIG_FEATURE_VI_REGEX_SEARCH=y/# CONFIG_FEATURE_VI_REGEX_SEARCH is not set/' \
       -e 's/^# CONFIG_FEATURE_AWK_LIBM is not set/CONFIG_FEATURE_AWK_LIBM=y/' "$BB/.config"
{ yes "" || true; } | "${BBMAKE[@]}" -s oldconfig >/dev/null
for opt in CONFIG_STATIC=y CONFIG_FEATURE_AWK_LIBM=y '# CONFIG_EXTRA_COMPAT is not set'; do
  grep -qxF "$opt" "$BB/.config" || die "BusyBox config lacks: $opt"
done
"${BBMAKE[@]}" -s -j"$JOBS" busybox
"${BBMAKE[@]}" -s busybox.links
if objdump -d "$BB/busybox" | grep -qE '\bcmov|%xmm'; then die "busybox uses cmov/SSE"; fi

# ---------------------------------------------------------------------------------------------
log "initramfs"
GEN="$W/gen_init_cpio"
gcc -O2 -o "$GEN" "$KSRC/usr/gen_init_cpio.c"
STAGE="$W/stage"
rm -rf "$STAGE"
mkdir -p "$STAGE"
cp "$BB/busybox" "$STAGE/busybox"
cp "$HERE/init.sh" "$STAGE/init"
touch -h -d "@$SOURCE_DATE_EPOCH" "$STAGE/busybox" "$STAGE/init"   # gen_init_cpio keeps files' mtime
LIST="$W/initramfs.list"
{
  echo "dir /dev 0755 0 0"
  echo "nod /dev/console 0600 0 0 c 5 1"
  for d in /proc /sys /tmp /bin /sbin /usr /usr/bin /usr/sbin /etc /root; do
    echo "dir $d 0755 0 0"
  done
  echo "file /bin/busybox $STAGE/busybox 0755 0 0"
  echo "file /init $STAGE/init 0755 0 0"
  sort -u "$BB/busybox.links" | while IFS= read -r link; do
    # /linuxrc is for the old initrd boot path; our initramfs runs /init.
    case "$link" in /bin/busybox | /linuxrc) continue ;; esac
    case "$(dirname "$link")" in
      /bin | /sbin | /usr/bin | /usr/sbin) ;;
      *) die "unexpected applet directory: $link" ;;
    esac
    echo "slink $link /bin/busybox 0777 0 0"
  done
} >"$LIST"
OUT="$W/out"
rm -rf "$OUT"
mkdir -p "$OUT"
"$GEN" -t "$SOURCE_DATE_EPOCH" "$LIST" >"$OUT/initramfs.cpio"
cp "$KOUT/bzImage" "$KOUT/bzImage-apic.bin" "$OUT/"

# ---------------------------------------------------------------------------------------------
log "outputs"
{
  echo "linux-source-6.1 $LINUX_DEB_VERSION ($(make -s -C "$KSRC" kernelversion))"
  echo "busybox $BUSYBOX_DEB_VERSION ($(grep -c '^slink ' "$LIST") applet links)"
  echo "musl $MUSL_DEB_VERSION"
  echo "gcc $(gcc -dumpfullversion), $(ld --version | head -n1)"
  echo "SOURCE_DATE_EPOCH $SOURCE_DATE_EPOCH"
  echo "bzImage $(stat -c %s "$OUT/bzImage") B, initramfs.cpio $(stat -c %s "$OUT/initramfs.cpio") B, busybox $(stat -c %s "$BB/busybox") B"
  echo "kernel build $((TK1 - TK0)) s, total $(($(date +%s) - T0)) s, JOBS=$JOBS"
} | tee "$OUT/buildinfo.txt"
(cd "$OUT" && sha256sum bzImage initramfs.cpio bzImage-apic.bin >SHA256SUMS && cat SHA256SUMS)

if ((CHECK)); then
  log "compare with committed SHA256SUMS"
  (cd "$OUT" && sha256sum -c "$HERE/SHA256SUMS")
else
  cp "$OUT/bzImage" "$OUT/bzImage-apic.bin" "$OUT/initramfs.cpio" "$OUT/SHA256SUMS" "$HERE/"
  echo "wrote $HERE/{bzImage,bzImage-apic.bin,initramfs.cpio,SHA256SUMS}"
fi
