#!/usr/bin/env bash
# Runs a simulated pillar with an embedded broker and the operator page.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
exec node bin/pillar.mjs run --sim "$@"
