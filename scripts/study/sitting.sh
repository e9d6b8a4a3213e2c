#!/usr/bin/env bash
# One sitting of a long study: fetch the assets if missing, build llmrec in release mode, copy
# the binary aside (so that rebuilding the checkout while the study runs cannot disturb it) and
# start `llmrec study run` in the background at low priority, its output in a log file. The study
# skips finished arms and resumes an interrupted one from its latest checkpoint, so running this
# again in a later sitting goes on where the last one stopped (as long as RUNS survived).
#
# usage: scripts/study/sitting.sh [PLAN] [-- extra `study run` options, e.g. --arm msl]
#   PLAN  defaults to docs/study/ml-1m/plan.json; results go next to it.
#   RUNS  (environment) the runs directory: prepared data, checkpoints (default ~/llmrec-runs/NAME).
#   BIN   (environment) where the binary is copied (default ~/llmrec-study-bin/llmrec).
# Stop it with `kill -INT PID` (it saves a checkpoint at the end of the current step); commit
# DIR/results/ARM once an arm is finished.
set -euo pipefail
cd "$(dirname "$0")/../.."
plan=docs/study/ml-1m/plan.json
if [ $# -gt 0 ] && [ "$1" != "--" ]; then plan=$1; shift; fi
[ "${1:-}" = "--" ] && shift
[ -f "$plan" ] || { echo "sitting: no plan at $plan" >&2; exit 1; }
dir=$(dirname "$plan")
name=$(basename "$dir")
runs=${RUNS:-$HOME/llmrec-runs/$name}
bin=${BIN:-$HOME/llmrec-study-bin/llmrec}

if pgrep -f "llmrec study run $plan" >/dev/null; then
    echo "sitting: a study on $plan is already running (pid $(pgrep -f "llmrec study run $plan" | head -1))" >&2
    exit 1
fi
scripts/ensure-openblas.sh sitting
scripts/fetch-assets.sh
swift build -c release --product llmrec
mkdir -p "$(dirname "$bin")" "$runs"
cp .build/release/llmrec "$bin.new" && mv "$bin.new" "$bin"

log="$runs/sitting-$(date -u +%Y%m%dT%H%M%SZ).log"
nohup nice -n 10 "$bin" study run "$plan" --out "$dir" --runs "$runs" "$@" > "$log" 2>&1 &
pid=$!
echo "study running: pid $pid, log $log"
echo "follow it:  tail -f $log"
echo "stop it:    kill -INT $pid   (saves a checkpoint at the end of the step; run this script again to resume)"
