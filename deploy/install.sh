#!/usr/bin/env bash
# 村务公开查询终端: turn a bare Debian 12 (x86-64) or Raspberry Pi OS bookworm (64-bit) box
# into a locked-down kiosk. Idempotent: run it again after changing the config or to
# repair an installation; it only changes what differs. deploy/README.md explains each step.
#
#   sudo deploy/install.sh [--dry-run] [--offline DIR] [--config FILE]
#                          [--county-key PUB] [--app-key PUB] [--start] [--no-bootloader]
#                          [--timezone ZONE]   (default Asia/Shanghai, if the box is on UTC)
set -euo pipefail

KUSER=cunwu-kiosk              # the unprivileged user the app runs as
DEVGROUP=kiosk                 # device access (deploy/udev/*.rules)
OPT=/opt/cunwu-kiosk           # venvs/<version>-<hash>, current -> venvs/…, previous -> venvs/…
KHOME=/var/lib/cunwu-kiosk     # KIOSK_HOME: data, config.json, trust store (the app's)
APPSTATE=/var/lib/cunwu-kiosk-app  # root-owned: app versions, the app-update trust store
KCACHE=/var/cache/cunwu-kiosk
LIBDIR=/usr/lib/cunwu-kiosk
UNITS=(cunwu-kiosk-display.service cunwu-kiosk.service cunwu-kiosk-paused.service
       cunwu-kiosk-blanking.service cunwu-kiosk-stick@.service cunwu-kiosk-appupdate.service
       cunwu-kiosk-health.service)
ENABLE=(cunwu-kiosk-display.service cunwu-kiosk.service cunwu-kiosk-blanking.service
        cunwu-kiosk-health.service)

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(dirname "$HERE")

DRY=0 OFFLINE="" CONFIG="" COUNTY_KEY="" APP_KEY="" START=0 BOOTLOADER=1 TZ_WANTED=Asia/Shanghai
usage() {
    sed -n '2,9p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
    exit "${1:-2}"
}
while [ $# -gt 0 ]; do
    case "$1" in
        --dry-run) DRY=1 ;;
        --offline) OFFLINE=${2:?--offline needs a folder}; shift ;;
        --config) CONFIG=${2:?--config needs a file}; shift ;;
        --county-key) COUNTY_KEY=${2:?--county-key needs a public key file}; shift ;;
        --app-key) APP_KEY=${2:?--app-key needs a public key file}; shift ;;
        --start) START=1 ;;
        --no-bootloader) BOOTLOADER=0 ;;
        --timezone) TZ_WANTED=${2:?--timezone needs a zone, e.g. Asia/Shanghai}; shift ;;
        -h|--help) usage 0 ;;
        *) echo "install.sh: unknown option $1" >&2; usage 2 ;;
    esac
    shift
done

say() { printf '== %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 1; }
# run CMD...: print it; run it unless --dry-run
run() {
    if [ "$DRY" = 1 ]; then printf 'would run: %s\n' "$*"; else printf '+ %s\n' "$*"; "$@"; fi
}
CHANGED=0        # files installed or changed so far (a counter: compare before and after a step)
APP_CHANGED=0    # the app's venv was switched: restart the app

# put_file SRC DEST MODE: install SRC at DEST (owner root) when it differs
put_file() {
    local src=$1 dest=$2 mode=$3
    if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
        return 0
    fi
    CHANGED=$((CHANGED + 1))
    if [ "$DRY" = 1 ]; then printf 'would install %s (mode %s)\n' "$dest" "$mode"; return 0; fi
    install -D -o root -g root -m "$mode" "$src" "$dest.new-$$"
    mv -f "$dest.new-$$" "$dest"
    printf 'installed %s\n' "$dest"
}
# put_text DEST MODE <<EOF … (not in a pipe: CHANGED must reach the caller)
put_text() {
    local tmp
    tmp=$(mktemp)
    cat > "$tmp"
    put_file "$tmp" "$1" "$2"
    rm -f "$tmp"
}

# ---- where are we ------------------------------------------------------------------------------
[ "$(id -u)" -eq 0 ] || [ "$DRY" = 1 ] || die "run as root (sudo deploy/install.sh …)"
[ -r /etc/os-release ] || die "no /etc/os-release: not a Debian system"
# shellcheck disable=SC1091
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] || die "needs Debian 12 or Raspberry Pi OS bookworm, found ${PRETTY_NAME:-unknown}"
ARCH=$(uname -m)
case "$ARCH" in
    x86_64|aarch64) ;;
    armv7l|armv6l) die "32-bit Raspberry Pi OS: Kivy has no wheels for it; install the 64-bit (arm64) image" ;;
    *) die "unsupported machine $ARCH (x86_64 or aarch64)" ;;
esac
RPI=0
if [ -e /etc/rpi-issue ] || grep -qs "Raspberry Pi" /proc/device-tree/model; then RPI=1; fi
BOOTED=0
[ -d /run/systemd/system ] && BOOTED=1
say "platform: ${PRETTY_NAME:-?}, $ARCH$([ "$RPI" = 1 ] && echo ", Raspberry Pi")$([ "$BOOTED" = 0 ] && echo ", systemd not running (chroot)")"
[ -z "$OFFLINE" ] || [ -d "$OFFLINE/$ARCH" ] || die "$OFFLINE/$ARCH: no wheelhouse for this machine (deploy/make-wheelhouse.sh --arch $ARCH)"
if [ -n "$OFFLINE" ]; then OFFLINE=$(cd "$OFFLINE" && pwd); fi
for f in "$CONFIG" "$COUNTY_KEY" "$APP_KEY"; do
    [ -z "$f" ] || [ -r "$f" ] || die "$f: cannot read it"
done

# ---- 1. system packages ------------------------------------------------------------------------
say "system packages"
mapfile -t PKGS < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$HERE/packages.txt" | tr -s ' \t' '\n' | sed '/^$/d')
MISSING=()
for p in "${PKGS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || MISSING+=("$p")
done
if [ ${#MISSING[@]} -eq 0 ]; then
    echo "all ${#PKGS[@]} packages installed"
else
    export DEBIAN_FRONTEND=noninteractive
    APT=(apt-get -o DPkg::Lock::Timeout=600 -y -q)
    if [ -n "$OFFLINE" ]; then
        DEBS="$OFFLINE/$ARCH/debs"
        [ -f "$DEBS/Packages" ] || die "missing system packages (${MISSING[*]}) and no $DEBS/Packages to install them from without network (make-wheelhouse.sh --debs)"
        # only the stick's packages: a private source list and package lists, the system's untouched
        APTDIR=$(mktemp -d)
        mkdir -p "$APTDIR/lists/partial" "$APTDIR/parts"
        echo "deb [trusted=yes] file:$DEBS ./" > "$APTDIR/sources.list"
        APT+=(-o "Dir::Etc::SourceList=$APTDIR/sources.list" -o "Dir::Etc::SourceParts=$APTDIR/parts"
              -o "Dir::State::Lists=$APTDIR/lists" -o "Acquire::Languages=none" -o "APT::Sandbox::User=root")
    fi
    run "${APT[@]}" update
    run "${APT[@]}" install --no-install-recommends "${MISSING[@]}"
fi

# ---- 2. the kiosk's user -----------------------------------------------------------------------
say "user $KUSER"
if ! getent group "$DEVGROUP" >/dev/null; then run groupadd --system "$DEVGROUP"; fi
if ! id "$KUSER" >/dev/null 2>&1; then
    run useradd --system --user-group --home-dir "$KHOME" --no-create-home --shell /usr/sbin/nologin \
        --comment "村务公开查询终端" "$KUSER"
fi
# kiosk: printer and card reader (udev rules); video/render: GPU; audio: 朗读; dialout/lp: readers and
# printers the rules do not name
for g in "$DEVGROUP" video render audio dialout lp; do
    if getent group "$g" >/dev/null && ! id -nG "$KUSER" 2>/dev/null | tr ' ' '\n' | grep -qx "$g"; then
        run usermod -aG "$g" "$KUSER"
    fi
done

# ---- 3. folders --------------------------------------------------------------------------------
say "folders"
mkdir_owned() {  # DIR MODE OWNER
    local d=$1 mode=$2 owner=$3
    if [ -d "$d" ] && [ "$(stat -c '%a %U:%G' "$d")" = "${mode#0} $owner" ]; then return 0; fi
    run install -d -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$d"
}
mkdir_owned "$OPT" 0755 root:root
mkdir_owned "$OPT/venvs" 0755 root:root
mkdir_owned "$APPSTATE" 0755 root:root
mkdir_owned "$KHOME" 0750 "$KUSER:$KUSER"
mkdir_owned "$KCACHE" 0750 "$KUSER:$KUSER"
mkdir_owned "$LIBDIR" 0755 root:root

# ---- 4. the app, in its own venv ---------------------------------------------------------------
say "app"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
if [ -n "$OFFLINE" ]; then
    WHEELS="$OFFLINE/$ARCH/wheels"
    mapfile -t found < <(find "$WHEELS" -maxdepth 1 -name 'cunwu_kiosk-*.whl' | sort -V)
    [ ${#found[@]} -gt 0 ] || die "$WHEELS: no cunwu_kiosk wheel"
    WHEEL=${found[-1]}
    PIPSRC=(--no-index --find-links "$WHEELS")
else
    [ -f "$SRC/pyproject.toml" ] || die "$SRC: not the kiosk's source tree (give --offline DIR)"
    if [ "$DRY" = 1 ]; then
        WHEEL="$SRC/dist/cunwu_kiosk-$(sed -n 's/^version = "\(.*\)"/\1/p' "$SRC/pyproject.toml")-py3-none-any.whl"
    else
        /usr/bin/python3 -m venv "$WORK/build"
        "$WORK/build/bin/pip" -q wheel --no-deps -w "$WORK/dist" "$SRC"
        WHEEL=$(find "$WORK/dist" -name 'cunwu_kiosk-*.whl' | head -1)
    fi
    PIPSRC=()
fi
VERSION=$(basename "$WHEEL" | sed -n 's/^cunwu_kiosk-\([^-]*\)-.*/\1/p')
[ -n "$VERSION" ] || die "cannot read the version from $WHEEL"
if [ -f "$WHEEL" ]; then HASH=$(sha256sum "$WHEEL" | cut -c1-8); else HASH=dryrun00; fi
TARGET="venvs/$VERSION-$HASH"
CURRENT=$(readlink "$OPT/current" 2>/dev/null || true)
CURRENT_VERSION=$(cut -d' ' -f1 "$OPT/current/.installed" 2>/dev/null || true)
if [ -n "$CURRENT_VERSION" ] && [ "$CURRENT_VERSION" != "$VERSION" ] &&
   [ "$(printf '%s\n%s\n' "$VERSION" "$CURRENT_VERSION" | sort -V | tail -1)" = "$CURRENT_VERSION" ]; then
    # a newer version came by a signed app update: never go back to an older one here
    echo "version $CURRENT_VERSION is installed, newer than $VERSION from this installer: app left as it is"
    VERSION=$CURRENT_VERSION
    TARGET=$CURRENT
fi
VENV="$OPT/$TARGET"
if [ -f "$VENV/.installed" ]; then
    echo "version $VERSION ($HASH) already installed in $VENV"
else
    [ -d "$VENV" ] && run rm -rf "$VENV"      # left half-made by an interrupted run
    run /usr/bin/python3 -m venv "$VENV"
    run "$VENV/bin/pip" install -q --disable-pip-version-check "${PIPSRC[@]}" "$WHEEL"
    run env KIVY_HOME="$WORK/kivy" KIVY_NO_ARGS=1 KIVY_NO_FILELOG=1 KIVY_NO_CONSOLELOG=1 \
        "$VENV/bin/python" -c "import kiosk.cli, kivy, cryptography"
    if [ "$DRY" = 0 ]; then echo "$VERSION $HASH" > "$VENV/.installed"; fi
fi
# the Simplified Chinese faces are cut out of Noto Sans CJK once; do it now, not at first boot
if [ ! -d "$KCACHE/cunwu-kiosk/fonts" ]; then
    run runuser -u "$KUSER" -- env XDG_CACHE_HOME="$KCACHE" "$VENV/bin/python" -c \
        "from kiosk import fonts; fonts.main_font_path(False); fonts.main_font_path(True); fonts.fallback_font_paths()"
fi
if [ "$CURRENT" != "$TARGET" ]; then
    if [ -n "$CURRENT" ] && [ -d "$OPT/$CURRENT" ]; then run ln -sfn "$CURRENT" "$OPT/previous"; fi
    # switch atomically: a new link, renamed over the old one
    run ln -sfn "$TARGET" "$OPT/current.new"
    run mv -T "$OPT/current.new" "$OPT/current"
    APP_CHANGED=1
fi
if [ ! -e "$OPT/previous" ]; then run ln -sfn "$TARGET" "$OPT/previous"; fi
KIOSK="$OPT/current/bin/kiosk"
put_file "$HERE/lib/kiosk" /usr/local/bin/kiosk 0755
before_x=$CHANGED
for f in x-auth wait-for-x paused-retry; do put_file "$HERE/lib/$f" "$LIBDIR/$f" 0755; done

# ---- 5. the kiosk's config ---------------------------------------------------------------------
say "config"
if [ -n "$CONFIG" ]; then
    if [ "$DRY" = 0 ]; then KIOSK_HOME="$KHOME" "$KIOSK" deploy check-config "$CONFIG"; fi
    if ! cmp -s "$CONFIG" "$KHOME/config.json"; then
        run install -m 0640 -o "$KUSER" -g "$KUSER" "$CONFIG" "$KHOME/config.json"
    fi
elif [ ! -e "$KHOME/config.json" ]; then
    if [ "$DRY" = 1 ]; then echo "would write $KHOME/config.json (kiosk deploy config-template)"
    else
        KIOSK_HOME="$KHOME" "$KIOSK" deploy config-template > "$WORK/config.json"
        install -m 0640 -o "$KUSER" -g "$KUSER" "$WORK/config.json" "$KHOME/config.json"
        echo "wrote $KHOME/config.json"
    fi
fi

# ---- 6. devices, lockdown, logs ----------------------------------------------------------------
say "udev rules, polkit, X, logind, sysctl, journald, tmpfiles"
before=$CHANGED
for r in "$HERE"/udev/*.rules; do put_file "$r" "/etc/udev/rules.d/$(basename "$r")" 0644; done
if [ "$CHANGED" != "$before" ] && [ -S /run/udev/control ]; then run udevadm control --reload; fi
put_file "$HERE/polkit/50-cunwu-kiosk.rules" /etc/polkit-1/rules.d/50-cunwu-kiosk.rules 0644
put_file "$HERE/x11/10-cunwu-kiosk.conf" /etc/X11/xorg.conf.d/10-cunwu-kiosk.conf 0644
put_file "$HERE/system/logind.conf" /etc/systemd/logind.conf.d/cunwu-kiosk.conf 0644
put_file "$HERE/system/sysctl.conf" /etc/sysctl.d/50-cunwu-kiosk.conf 0644
put_file "$HERE/system/journald.conf" /etc/systemd/journald.conf.d/cunwu-kiosk.conf 0644
before=$CHANGED
put_file "$HERE/system/tmpfiles.conf" /etc/tmpfiles.d/cunwu-kiosk.conf 0644
if [ "$BOOTED" = 1 ] && { [ "$CHANGED" != "$before" ] || [ ! -d /run/cunwu-kiosk ]; }; then
    run systemd-tmpfiles --create /etc/tmpfiles.d/cunwu-kiosk.conf
fi
# office hours are local time
zone=$(readlink /etc/localtime 2>/dev/null | sed 's#.*/zoneinfo/##')
if [ -z "$zone" ] || [ "$zone" = UTC ] || [ "$zone" = Etc/UTC ]; then
    [ -e "/usr/share/zoneinfo/$TZ_WANTED" ] || die "unknown time zone $TZ_WANTED"
    run ln -sfn "/usr/share/zoneinfo/$TZ_WANTED" /etc/localtime
    if [ "$DRY" = 0 ]; then echo "$TZ_WANTED" > /etc/timezone; fi
fi

# ---- 7. systemd units --------------------------------------------------------------------------
say "systemd units"
before=$CHANGED
for u in "${UNITS[@]}"; do put_file "$HERE/systemd/$u" "/etc/systemd/system/$u" 0644; done
units_changed=$((CHANGED - before))
if [ "$DRY" = 1 ] && [ ! -x "$KIOSK" ]; then
    echo "would write /etc/systemd/system/cunwu-kiosk.service.d/50-config.conf (kiosk deploy unit-settings)"
else
    KIOSK_HOME="$KHOME" "$KIOSK" deploy unit-settings > "$WORK/50-config.conf"
    put_file "$WORK/50-config.conf" /etc/systemd/system/cunwu-kiosk.service.d/50-config.conf 0644
fi
if [ "$BOOTED" = 1 ] && [ "$units_changed" != 0 ]; then run systemctl daemon-reload; fi
for u in "${ENABLE[@]}"; do
    systemctl is-enabled -q "$u" 2>/dev/null || run systemctl enable "$u"
done
# nothing else on the screen: no login prompt on tty1, no Ctrl+Alt+Del reboot, no desktop
for u in getty@tty1.service ctrl-alt-del.target; do
    [ "$(systemctl is-enabled "$u" 2>/dev/null || true)" = masked ] || run systemctl mask "$u"
done
if [ -L /etc/systemd/system/display-manager.service ]; then
    dm=$(basename "$(readlink -f /etc/systemd/system/display-manager.service)")
    run systemctl disable "$dm"
fi
[ "$(systemctl get-default 2>/dev/null || true)" = graphical.target ] || run systemctl set-default graphical.target

# ---- 8. a quiet boot ---------------------------------------------------------------------------
say "boot"
QUIET="quiet loglevel=3 vt.global_cursor_default=0 consoleblank=0"
if [ "$BOOTLOADER" = 0 ]; then
    echo "left the boot loader alone (--no-bootloader)"
elif [ "$RPI" = 1 ] && [ -f /boot/firmware/cmdline.txt ]; then
    cmd=$(cat /boot/firmware/cmdline.txt)
    new=$cmd
    for w in $QUIET logo.nologo; do
        case " $new " in *" $w "*) ;; *) new="$new $w" ;; esac
    done
    if [ "$new" != "$cmd" ]; then
        echo "$new" > "$WORK/cmdline.txt"
        put_file "$WORK/cmdline.txt" /boot/firmware/cmdline.txt 0755
    fi
elif command -v update-grub >/dev/null; then
    before=$CHANGED
    put_text /etc/default/grub.d/cunwu-kiosk.cfg 0644 <<EOF
# 村务公开查询终端: no boot messages or blinking cursor on the kiosk's screen; the menu
# stays hidden (hold Shift or press Esc at power-on to see it)
GRUB_CMDLINE_LINUX_DEFAULT="\$GRUB_CMDLINE_LINUX_DEFAULT $QUIET"
GRUB_TIMEOUT=1
GRUB_TIMEOUT_STYLE=hidden
EOF
    if [ "$CHANGED" != "$before" ]; then run update-grub; fi
else
    echo "no GRUB and no Raspberry Pi boot folder: boot messages left as they are"
fi

# ---- 9. keys -----------------------------------------------------------------------------------
say "trusted keys"
keyid() {  # the key id of a public key file (kiosk.cache.keys.key_id); "-" before the app exists
    if [ ! -x "$OPT/current/bin/python" ]; then echo "-"; return; fi
    "$OPT/current/bin/python" -c 'import sys; from kiosk.cache import keys as K; print(K.key_id(K.load_public(sys.argv[1])))' "$1"
}
as_kiosk() { runuser -u "$KUSER" -- env KIOSK_HOME="$KHOME" XDG_CACHE_HOME="$KCACHE" "$@"; }
if [ -n "$COUNTY_KEY" ]; then
    kid=$(keyid "$COUNTY_KEY")
    # the data key: in the app's trust store (bundles), and in root's (it signs key lists)
    as_kiosk "$KIOSK" trust --list 2>/dev/null | grep -q "^$kid " ||
        run runuser -u "$KUSER" -- env KIOSK_HOME="$KHOME" "$KIOSK" trust "$COUNTY_KEY" --if-new
    "$KIOSK" app trust --list 2>/dev/null | grep -q "^$kid .*data" || run "$KIOSK" app trust "$COUNTY_KEY" --role data
fi
if [ -n "$APP_KEY" ]; then
    kid=$(keyid "$APP_KEY")
    "$KIOSK" app trust --list 2>/dev/null | grep -q "^$kid .*app" || run "$KIOSK" app trust "$APP_KEY" --role app
fi
[ -n "$COUNTY_KEY$APP_KEY" ] || echo "none given (--county-key, --app-key); see deploy/README.md"

# ---- 10. start ---------------------------------------------------------------------------------
say "done: version $VERSION"
if [ "$START" = 1 ] && [ "$BOOTED" = 1 ]; then
    run systemctl reset-failed cunwu-kiosk.service cunwu-kiosk-paused.service
    # the X server's unit, its cookie script or its config changed: restart it (and the app)
    if [ "$CHANGED" != "$before_x" ] && systemctl -q is-active cunwu-kiosk-display.service; then
        run systemctl restart cunwu-kiosk-display.service
        APP_CHANGED=1
    fi
    if [ "$APP_CHANGED" = 1 ]; then run systemctl restart cunwu-kiosk.service cunwu-kiosk-blanking.service; fi
    run systemctl start cunwu-kiosk-display.service cunwu-kiosk.service cunwu-kiosk-blanking.service
else
    echo "reboot to start the kiosk (or run this again with --start)"
fi
