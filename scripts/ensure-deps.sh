#!/usr/bin/env bash
# Installs what the pillar and its tests need on a fresh machine: npm dependencies, and the
# Debian packages ffmpeg, mosquitto, socat and chromium (with apt-get when root; otherwise it
# prints the exact line to run). Idempotent and quick when everything is there.
set -euo pipefail
cd "$(dirname "$0")/.."

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "alarm-pillar needs Node.js >= 20 (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

missing=()
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v socat >/dev/null 2>&1 || missing+=(socat)
# The clustered-broker test starts three NATS servers (JetStream + MQTT), docs/scale.md.
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The center's incident log is tested on a real PostgreSQL too (the test starts the cluster).
command -v pg_ctlcluster >/dev/null 2>&1 || missing+=(postgresql)
fc-list 2>/dev/null | grep -qi dejavu || [ -f /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || missing+=(fonts-dejavu-core)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages; run:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

# npm dependencies: install when absent or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi
# Native modules must really load (npm 11 may skip install scripts).
node -e "import('serialport').then(() => process.exit(0), (e) => { console.error('serialport native module does not load:', e.message); process.exit(1); })"
