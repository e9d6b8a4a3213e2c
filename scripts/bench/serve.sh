#!/usr/bin/env bash
# Load test of `llmrec serve` on 127.0.0.1: SmolLM2-135M on the MovieLens-1M catalog, requests
# with the histories of the first test samples (history_ids, k = 10, 10 beams), at concurrency
# 1, 4 and 16 for a fixed time each, with wrk (Debian's `wrk`). Prints requests/s, p50/p99
# latency and errors per level, and the throughput ratio 16 : 1 that dynamic batching buys.
#   usage: scripts/bench/serve.sh [seconds_per_level=30] [max_batch=16] [precision=fp32]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-30}" max_batch="${2:-16}" precision="${3:-fp32}"
command -v wrk >/dev/null || { echo "needs wrk: apt-get install wrk" >&2; exit 1; }
swift build -c release --product llmrec >/dev/null
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
data="$work/ml-1m"
.build/release/llmrec data prepare --dataset ml-1m --out "$data" --log-level error >/dev/null

# Request bodies for wrk: one per test sample, cycled.
python3 - "$data/test.jsonl" "$work/bodies.lua" <<'PY'
import json, sys
bodies = []
with open(sys.argv[1]) as f:
    for line in f:
        bodies.append(json.dumps({"history_ids": json.loads(line)["history"], "k": 10}))
        if len(bodies) == 500: break
with open(sys.argv[2], "w") as out:
    out.write("bodies = {\n" + ",\n".join("[[" + b + "]]" for b in bodies) + "\n}\n")
    out.write('''
counter = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  return wrk.format(nil, "/v1/recommend", nil, bodies[(counter % #bodies) + 1])
end
''')
PY

port=18080
.build/release/llmrec serve --data "$data" --port "$port" --max-batch "$max_batch" --max-wait-ms 5 --precision "$precision" --log-level warning &
server=$!
for _ in $(seq 1 120); do curl -sf "localhost:$port/healthz" >/dev/null && break; sleep 1; done
curl -sf "localhost:$port/healthz" >/dev/null || { echo "the server did not start" >&2; exit 1; }
# Warm-up: the first requests pay for page faults in fresh buffers.
wrk -t 1 -c 4 -d 5s --timeout 60s -s "$work/bodies.lua" "http://127.0.0.1:$port" >/dev/null

cpu=$(lscpu | sed -n 's/^Model name:[[:space:]]*//p')
echo "machine: $cpu, $(nproc) cores; SmolLM2-135M, MovieLens-1M catalog (3,706 titles), k = 10, 10 beams, --max-batch $max_batch --max-wait-ms 5, ${seconds}s per level"
printf '%-12s %10s %10s %10s %8s\n' concurrency 'req/s' 'p50 (s)' 'p99 (s)' errors
# wrk prints latencies with units (us, ms, s): in seconds.
sec() { python3 -c "import sys; v=sys.argv[1]; print('%.3f' % (float(v[:-2])/1000 if v.endswith('ms') else float(v[:-2])/1e6 if v.endswith('us') else float(v[:-1]) if v.endswith('s') else float(v)))" "$1"; }
declare -A rate
for c in 1 4 16; do
    out=$(wrk -t 1 -c "$c" -d "${seconds}s" --timeout 60s --latency -s "$work/bodies.lua" "http://127.0.0.1:$port")
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
    p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
    socket=$(awk -F'[ ,]+' '/Socket errors/ {print $4 + $6 + $8 + $10}' <<<"$out")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
    errors=$(( ${socket:-0} + ${non2xx:-0} ))
    printf '%-12s %10s %10s %10s %8s\n' "$c" "$rps" "$(sec "$p50")" "$(sec "$p99")" "$errors"
    rate[$c]=$rps
done
python3 -c "import sys; print('throughput at 16 / at 1: %.2fx' % (float(sys.argv[2]) / float(sys.argv[1])))" "${rate[1]}" "${rate[16]}"
curl -s "localhost:$port/metrics" | grep -E '^llmrec_batch_size_requests_(sum|count)' || true
