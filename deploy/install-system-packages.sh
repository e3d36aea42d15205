#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the kiosk and its tests need, only when missing.
# Fonts: Noto CJK (we extract its Simplified Chinese face at run time) and Hanazono
# (fallback for CJK Ext-A/B name characters). Mesa EGL/GL for Kivy's SDL2 window.
# zbar decodes QR codes in tests; mtools/dosfstools make FAT stick images; nginx serves sync tests.
# fusefat/exfat-fuse mount FAT/exFAT sticks read-only where the kernel lacks vfat/exfat.
# espeak-ng reads records aloud (its cmn-latn-pinyin voice, fed tone-numbered pinyin).
# chromium/chromium-driver run the phone viewer's browser tests; nodejs/npm build the viewer
# (only when no npm is on the PATH: a machine may have Node.js from elsewhere).
# The linters shellcheck and systemd-analyze check deploy/ (tests/test_deploy_static.py).
# --deploy-test adds what `make test-deploy` needs: debootstrap, systemd-nspawn, dpkg-scanpackages.
set -euo pipefail
pkgs=(fonts-noto-cjk fonts-hanazono libegl1 libgl1-mesa-dri libgles2 libmtdev1 libzbar0
      mtools dosfstools exfatprogs ntfs-3g nginx-light xvfb libusb-1.0-0
      fusefat exfat-fuse espeak-ng chromium chromium-driver shellcheck systemd)
if [ "${1:-}" = --deploy-test ]; then
  pkgs+=(debootstrap systemd-container dpkg-dev debian-archive-keyring ca-certificates)
fi
command -v npm >/dev/null || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "missing system packages (install them by hand): ${missing[*]}" >&2; exit 1
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
