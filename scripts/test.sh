#!/usr/bin/env bash
# Runs every test: installs what is missing, type-checks, lints (format included), then vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh --arm64
npx tsc --noEmit
npx biome check .
npx vitest run "$@"
