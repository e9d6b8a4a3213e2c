#!/usr/bin/env bash
# Times `llmrec data prepare` (release build) against the same job in plain Python
# (scripts/bench/prepare_reference.py), on the same machine, in one go, and prints both
# and the ratio. Best of N runs of each (default 3). Needs the assets (scripts/fetch-assets.sh).
#   usage: scripts/bench/data_prepare.sh [ml-1m|ml-100k] [runs]
set -euo pipefail
cd "$(dirname "$0")/../.."
dataset="${1:-ml-1m}"
runs="${2:-3}"
swift build -c release --product llmrec >/dev/null
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

best() {  # best wall-clock seconds of $runs runs of "$@"
    local b=""
    for _ in $(seq "$runs"); do
        local s e
        s=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        e=$(date +%s.%N)
        b=$(python3 -c "import sys; t=$e-$s; b='$b'; print(f'{min(t, float(b)) if b else t:.3f}')")
    done
    echo "$b"
}

ours=$(best .build/release/llmrec data prepare --dataset "$dataset" --out "$tmp/llmrec" --force --log-level error)
theirs=$(best python3 scripts/bench/prepare_reference.py "$dataset" "$tmp/python")
echo "machine: $(lscpu | sed -n 's/^Model name: *//p') ($(nproc) cores)"
echo "data prepare $dataset, best of $runs:"
echo "  llmrec (release)   ${ours} s"
echo "  python reference   ${theirs} s"
python3 -c "print(f'  ratio              {$theirs / $ours:.1f}x faster')"
