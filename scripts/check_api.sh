#!/usr/bin/env bash
# API conformance: starts `llmrec serve` on loopback (SmolLM2 on the ML-100K catalog) and runs
# schemathesis (PyPI, pinned) against its /openapi.json with every check, a bounded number of
# examples per operation. Exits non-zero on any failure. Needs scripts/fetch-assets.sh and a
# release build (swift build -c release).
#   scripts/check_api.sh [examples per operation, default 100]
# Settings: scripts/schemathesis.toml (why 422 is an accepted answer to a valid request there).
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-100}
llmrec=${LLMREC:-.build/release/llmrec}
venv=${SCHEMATHESIS_VENV:-$HOME/.venvs/schemathesis}
[ -x "$llmrec" ] || { echo "check_api: $llmrec not found; run swift build -c release" >&2; exit 1; }
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "4.32.5"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi

work=$(mktemp -d)
server=""
cleanup() {
    [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

"$llmrec" data prepare --dataset ml-100k --out "$work/data" > /dev/null
# Small limits keep each valid request quick (k ≤ 10 beams); the document states them.
"$llmrec" serve --data "$work/data" --port 0 --max-k 10 --max-history 20 --max-body-kb 16 > "$work/serve.log" 2>&1 &
server=$!
port=""
for _ in $(seq 1 600); do
    port=$(grep -oE 'listening on [^ ]*:[0-9]+' "$work/serve.log" | grep -oE '[0-9]+$' || true)
    [ -n "$port" ] && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
    sleep 0.1
done
[ -n "$port" ] || { echo "check_api: the server did not start" >&2; cat "$work/serve.log" >&2; exit 1; }

"$venv/bin/st" --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
    --checks all --max-examples "$examples" --workers 1 --seed 2026
