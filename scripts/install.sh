#!/usr/bin/env bash
# Installs alarm-pillar on Raspberry Pi OS Bookworm (arm64; Pi 4, Pi 5, CM4) from this source tree.
# Idempotent: run it again after a `git pull` and only what changed is touched.
#
#   sudo scripts/install.sh [--pubkey FILE] [--config FILE]    install on this Pi
#   scripts/install.sh --dry-run                               say what would be done, change nothing
#   scripts/install.sh --root DIR [--no-packages] [--no-npm] [--arch arm64]   into an image or a test root
#
# What it does: Debian packages (ffmpeg rpicam-apps alsa-utils gpiod socat, Node.js >= 20), the
# system user `alarm-pillar` (groups gpio video audio dialout, via systemd-sysusers), udev rules,
# the app in /opt/alarm-pillar (built bundle + runtime npm packages), /etc/alarm-pillar (config,
# fleet public key), the systemd unit (enabled; started only on a live system).
set -euo pipefail

ROOT=/
DRY=0
PACKAGES=1
NPM=1
PUBKEY=""
CONFIG=""
ARCH="" # the target's Node.js architecture (process.arch); empty: this machine's
SRC=$(cd "$(dirname "$0")/.." && pwd)
APP_USER=alarm-pillar
# util-linux: flock(1) locks the data folder, setpriv ties helpers to the pillar (Essential on Debian; named to be sure)
DEB_PACKAGES=(ffmpeg rpicam-apps alsa-utils gpiod socat ca-certificates util-linux)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }

while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    --no-packages) PACKAGES=0; shift ;;
    --no-npm) NPM=0; shift ;;
    --pubkey) PUBKEY=${2:?--pubkey needs a file}; shift 2 ;;
    --config) CONFIG=${2:?--config needs a file}; shift 2 ;;
    --arch) ARCH=${2:?--arch needs arm64 or x64}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

ROOT=${ROOT%/}
LIVE=0
[ -z "$ROOT" ] && LIVE=1 # installing onto the running system
changed=0

say() { printf '%s\n' "$*"; }
# run CMD...: runs it, or only says it with --dry-run.
run() {
  if [ "$DRY" = 1 ]; then say "would run: $*"; else "$@"; fi
}

# put_file SRC DEST MODE: copies when the content or mode differs; says what it did.
put_file() {
  local src=$1 dest="$ROOT$2" mode=$3
  if [ -f "$dest" ] && cmp -s "$src" "$dest" && [ "$(stat -c %a "$dest")" = "${mode#0}" ]; then
    return 0
  fi
  changed=1
  if [ "$DRY" = 1 ]; then say "would install $2 (mode $mode)"; return 0; fi
  install -D -m "$mode" "$src" "$dest"
  say "installed $2"
}

# put_dir DIR MODE [OWNER]: creates the directory, sets mode and owner.
put_dir() {
  local dest="$ROOT$1" mode=$2 owner=${3:-}
  if [ "$DRY" = 1 ]; then
    [ -d "$dest" ] || say "would create $1 (mode $mode${owner:+, owner $owner})"
    return 0
  fi
  [ -d "$dest" ] || { mkdir -p "$dest"; changed=1; say "created $1"; }
  chmod "$mode" "$dest"
  [ -n "$owner" ] && chown "$(owner_ids "$owner")" "$dest"
  return 0
}

# owner_ids NAME: uid:gid of NAME in the target root's passwd (the host may not know the user).
owner_ids() {
  local line
  line=$(grep "^$1:" "$ROOT/etc/passwd" 2>/dev/null || true)
  [ -n "$line" ] || { echo "install.sh: user $1 missing in $ROOT/etc/passwd" >&2; exit 1; }
  printf '%s:%s' "$(cut -d: -f3 <<<"$line")" "$(cut -d: -f4 <<<"$line")"
}

node_ok() { command -v node >/dev/null 2>&1 && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ]; }

if [ "$LIVE" = 1 ] && [ "$DRY" = 0 ] && [ "$(id -u)" != 0 ]; then
  echo "install.sh: run it as root (sudo), or use --dry-run / --root DIR" >&2
  exit 1
fi

# 1. Debian packages and Node.js (only on a live system: an image gets them from its builder).
if [ "$PACKAGES" = 1 ] && [ "$LIVE" = 1 ]; then
  missing=()
  for p in "${DEB_PACKAGES[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    changed=1
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  fi
  if ! node_ok; then
    # Bookworm ships Node 18; the pillar needs >= 20: NodeSource's signed apt repository.
    changed=1
    run install -d -m 0755 /etc/apt/keyrings
    run sh -c 'curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key | gpg --dearmor --yes -o /etc/apt/keyrings/nodesource.gpg'
    run sh -c 'echo "deb [signed-by=/etc/apt/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main" > /etc/apt/sources.list.d/nodesource.list'
    run apt-get update
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y nodejs
  fi
elif [ "$PACKAGES" = 1 ]; then
  say "packages: not installed into $ROOT (install them in the image: ${DEB_PACKAGES[*]} nodejs>=20)"
fi

# 2. The system user and its groups, declared for systemd-sysusers (works on a root directory too).
sysusers=$(mktemp)
trap 'rm -f "$sysusers"' EXIT
cat >"$sysusers" <<EOF
# alarm-pillar: the pillar runs as this user, with only the device groups it needs.
g gpio - -
u $APP_USER - "alarm-pillar SOS pillar" /var/lib/alarm-pillar /usr/sbin/nologin
m $APP_USER gpio
m $APP_USER video
m $APP_USER audio
m $APP_USER dialout
EOF
put_file "$sysusers" /usr/lib/sysusers.d/alarm-pillar.conf 0644
if [ "$DRY" = 1 ]; then
  grep -q "^$APP_USER:" "$ROOT/etc/passwd" 2>/dev/null || say "would create user $APP_USER"
elif [ "$LIVE" = 1 ]; then
  systemd-sysusers /usr/lib/sysusers.d/alarm-pillar.conf
else
  mkdir -p "$ROOT/etc"
  systemd-sysusers --root "$ROOT" "$ROOT/usr/lib/sysusers.d/alarm-pillar.conf"
fi

# 3. udev rules: GPIO character devices and the co-processor's serial port for their groups.
put_file "$SRC/scripts/udev/60-alarm-pillar.rules" /etc/udev/rules.d/60-alarm-pillar.rules 0644
[ "$LIVE" = 1 ] && [ "$changed" = 1 ] && run udevadm control --reload-rules && run udevadm trigger

# 4. The app: the built bundle and the runtime packages, owned by root (the pillar only reads it).
if [ ! -f "$SRC/dist/pillar.mjs" ]; then
  [ -d "$SRC/node_modules" ] || run sh -c "cd '$SRC' && npm ci --no-audit --no-fund --loglevel=error"
  run sh -c "cd '$SRC' && npm run build"
fi
put_dir /opt/alarm-pillar 0755
if [ "$DRY" = 0 ]; then
  for f in dist bin config package.json package-lock.json; do
    [ -e "$SRC/$f" ] || continue
    if ! diff -rq "$SRC/$f" "$ROOT/opt/alarm-pillar/$f" >/dev/null 2>&1; then
      rm -rf "$ROOT/opt/alarm-pillar/$f"
      cp -a "$SRC/$f" "$ROOT/opt/alarm-pillar/$f"
      changed=1
      say "installed /opt/alarm-pillar/$f"
    fi
  done
else
  say "would copy dist bin config package.json package-lock.json to /opt/alarm-pillar"
fi
if [ "$NPM" = 1 ] && [ -n "$ARCH" ] && [ "$ARCH" != "$(node -p process.arch)" ]; then
  # An image for another architecture (a Pi's arm64 built on a PC): npm takes that architecture's
  # prebuilt binaries (serialport's bindings-cpp prebuilds, @node-datachannel/linux-arm64-gnu);
  # install scripts would build for this machine instead, so none runs.
  run sh -c "cd '$ROOT/opt/alarm-pillar' && npm ci --omit=dev --cpu='$ARCH' --os=linux --ignore-scripts --prefer-offline --no-audit --no-fund --loglevel=error"
elif [ "$NPM" = 1 ]; then
  run sh -c "cd '$ROOT/opt/alarm-pillar' && npm ci --omit=dev --no-audit --no-fund --loglevel=error"
fi

# 5. Config and state: /etc/alarm-pillar belongs to the pillar (it writes applied configs there).
put_dir /etc/alarm-pillar 0750 "$([ "$DRY" = 1 ] || echo "$APP_USER")"
put_dir /var/lib/alarm-pillar 0750 "$([ "$DRY" = 1 ] || echo "$APP_USER")"
if [ -n "$PUBKEY" ]; then
  put_file "$PUBKEY" /etc/alarm-pillar/fleet.pub 0644
elif [ ! -f "$ROOT/etc/alarm-pillar/fleet.pub" ]; then
  say "note: no fleet public key (--pubkey FILE): a production pillar refuses every config until it has one"
fi
if [ -n "$CONFIG" ]; then
  node "$SRC/bin/pillar.mjs" config validate "$CONFIG" >/dev/null
  put_file "$CONFIG" /etc/alarm-pillar/config.json 0640
  [ "$DRY" = 1 ] || chown "$(owner_ids "$APP_USER")" "$ROOT/etc/alarm-pillar/config.json"
elif [ ! -f "$ROOT/etc/alarm-pillar/config.json" ]; then
  say "note: no config yet: flash one (pillar flash …) or install one with --config FILE"
fi

# 6. The systemd unit, enabled; started (or restarted when changed) only on a live system.
put_file "$SRC/scripts/alarm-pillar.service" /etc/systemd/system/alarm-pillar.service 0644
if [ "$LIVE" = 1 ]; then
  run systemctl daemon-reload
  run systemctl enable alarm-pillar.service
  [ "$changed" = 1 ] && run systemctl restart alarm-pillar.service
elif [ "$DRY" = 1 ]; then
  say "would enable alarm-pillar.service in $ROOT"
else
  systemctl --root="$ROOT" enable alarm-pillar.service >/dev/null 2>&1
fi

if [ "$changed" = 0 ]; then say "alarm-pillar: already installed, nothing changed"; else say "alarm-pillar: installed"; fi
