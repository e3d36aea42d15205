#!/usr/bin/env bash
# 村务公开查询终端: build the folder a technician carries on a stick for an install with no
# network (deploy/install.sh --offline OUT). Run it on any Debian/Ubuntu machine with
# network; it needs python3 (3.11 or newer) with venv, and with --debs also apt and dpkg-dev.
#
#   deploy/make-wheelhouse.sh [--arch x86_64|aarch64|all] [--debs] [--extra-debs "PKG …"]
#                             [--mirror URL] OUT
#
# OUT/<arch>/wheels/  the app's wheel and every dependency as a wheel for CPython 3.11 on
#                     that machine (manylinux, glibc 2.17+: Debian 12 and Raspberry Pi OS)
# OUT/<arch>/debs/    with --debs: deploy/packages.txt and everything they depend on, from
#                     Debian bookworm (a local apt repository: Packages index beside the .debs)
# OUT/SHA256SUMS      of every file, to check the copy on the stick (sha256sum -c SHA256SUMS)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(dirname "$HERE")
ARCHES=(x86_64 aarch64) DEBS=0 EXTRA="" MIRROR=http://deb.debian.org/debian OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) case "${2:-}" in
                    all) ARCHES=(x86_64 aarch64) ;;
                    x86_64|aarch64) ARCHES=("$2") ;;
                    *) echo "make-wheelhouse.sh: --arch x86_64, aarch64 or all" >&2; exit 2 ;;
                esac; shift ;;
        --debs) DEBS=1 ;;
        --extra-debs) EXTRA=${2:?}; shift ;;
        --mirror) MIRROR=${2:?}; shift ;;
        -h|--help) sed -n '2,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "make-wheelhouse.sh: unknown option $1" >&2; exit 2 ;;
        *) OUT=$1 ;;
    esac
    shift
done
[ -n "$OUT" ] || { echo "make-wheelhouse.sh: give the output folder" >&2; exit 2; }
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# the app's own wheel, from this source tree
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" -q wheel --no-deps -w "$WORK/app" "$SRC"
APPWHEEL=$(find "$WORK/app" -name 'cunwu_kiosk-*.whl' | head -1)
echo "app: $(basename "$APPWHEEL")"

deb_arch() { case "$1" in x86_64) echo amd64 ;; aarch64) echo arm64 ;; esac; }

for arch in "${ARCHES[@]}"; do
    w="$OUT/$arch/wheels"
    rm -rf "$w"
    mkdir -p "$w"
    cp "$APPWHEEL" "$w/"
    # binary wheels only, for the kiosk's machine and Python, whatever this machine is
    "$WORK/venv/bin/pip" -q download --only-binary=:all: --dest "$w" \
        --python-version 3.11 --implementation cp --abi cp311 --abi abi3 --abi none \
        --platform "manylinux_2_28_$arch" --platform "manylinux_2_17_$arch" --platform "manylinux2014_$arch" \
        "$APPWHEEL"
    echo "$arch: $(find "$w" -name '*.whl' | wc -l) wheels, $(du -sh "$w" | cut -f1)"
    grep -qi '^kivy-' <(cd "$w" && ls) || { echo "no Kivy wheel for $arch" >&2; exit 1; }

    [ "$DEBS" = 1 ] || continue
    command -v dpkg-scanpackages >/dev/null || { echo "--debs needs dpkg-scanpackages (apt-get install dpkg-dev)" >&2; exit 1; }
    da=$(deb_arch "$arch")
    d="$OUT/$arch/debs"
    mkdir -p "$d"
    # a private apt for the target architecture with nothing installed: it downloads the
    # packages and everything they depend on, whatever this machine already has
    a="$WORK/apt-$arch"
    mkdir -p "$a/lists/partial" "$a/cache/archives/partial" "$a/parts" "$a/prefs"
    : > "$a/status"
    key=/usr/share/keyrings/debian-archive-keyring.gpg
    [ -r "$key" ] || { echo "--debs needs $key (apt-get install debian-archive-keyring)" >&2; exit 1; }
    {
        echo "deb [arch=$da signed-by=$key] $MIRROR bookworm main"
        echo "deb [arch=$da signed-by=$key] $MIRROR bookworm-updates main"
        echo "deb [arch=$da signed-by=$key] ${MIRROR%/debian}/debian-security bookworm-security main"
    } > "$a/sources.list"
    APT=(apt-get -q -o "Dir::State=$a" -o "Dir::State::status=$a/status" -o "Dir::Cache=$a/cache"
         -o "Dir::Etc::SourceList=$a/sources.list" -o "Dir::Etc::SourceParts=$a/parts"
         -o "Dir::Etc::PreferencesParts=$a/prefs" -o "APT::Architecture=$da" -o "APT::Architectures::=$da"
         -o "Debug::NoLocking=1" -o "APT::Install-Recommends=false")
    "${APT[@]}" update
    mapfile -t pkgs < <(sed -e 's/#.*//' "$HERE/packages.txt" | tr -s ' \t' '\n' | sed '/^$/d')
    read -r -a extra <<< "$EXTRA"
    "${APT[@]}" -y -o "Dir::Cache::archives=$d" install --download-only "${pkgs[@]}" "${extra[@]}"
    rm -rf "$d/partial" "$d/lock"
    (cd "$d" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null && gzip -9kf Packages)
    echo "$arch: $(find "$d" -name '*.deb' | wc -l) system packages, $(du -sh "$d" | cut -f1)"
done

(cd "$OUT" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum > "$WORK/sums")
mv "$WORK/sums" "$OUT/SHA256SUMS"
echo "wrote $OUT (check a copy with: cd COPY && sha256sum -c --quiet SHA256SUMS)"
