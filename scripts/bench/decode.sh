#!/usr/bin/env bash
# Recommending speed on the MovieLens-1M catalog with SmolLM2-135M, llmrec against transformers'
# generate(num_beams=10, prefix_allowed_tokens_fn=…) on the same machine, thread count, test
# samples and prompts, in one go: per-user latency (one user at a time, 10 beams, 10 items), and
# llmrec's batched `eval` throughput (users/s, K up to 10). Needs the assets and the reference
# stack (scripts/fixtures/requirements.txt in ~/.venvs/llmrec-fixtures, or set PYTHON).
#   usage: scripts/bench/decode.sh [users=8] [eval_users=64]
set -euo pipefail
cd "$(dirname "$0")/../.."
users="${1:-8}" eval_users="${2:-64}"
python="${PYTHON:-$HOME/.venvs/llmrec-fixtures/bin/python}"
gguf="${LLMREC_HOME:-$HOME/.cache/llmrec}/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
swift build -c release --product llmrec >/dev/null
data="$(mktemp -d)/ml-1m"
.build/release/llmrec data prepare --dataset ml-1m --out "$data" --log-level error >/dev/null
single=$(.build/release/llmrec eval --model "$gguf" --data "$data" --max-users "$users" --k 1,5,10 --beams 10 --batch 1 --json --log-level error)
batched=$(.build/release/llmrec eval --model "$gguf" --data "$data" --max-users "$eval_users" --k 1,5,10 --beams 10 --batch 16 --json --log-level error)
theirs=$("$python" scripts/bench/decode_torch.py "$gguf" "$data" "$users" "$(nproc)" 2>/dev/null | tail -n 1)
"$python" - "$single" "$batched" "$theirs" <<'PY'
import json, subprocess, sys
s, b, t = (json.loads(a) for a in sys.argv[1:4])
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
print(f"machine: {model}, {t['threads']} threads; torch {t['torch']}; MovieLens-1M catalog, 10 beams, 10 items")
ours = s["seconds"] / s["users"]
print(f"{'':34}{'llmrec':>10}{'transformers':>14}{'ratio':>9}")
print(f"{'per user, one at a time (s)':34}{ours:10.2f}{t['seconds_per_user']:14.2f}{t['seconds_per_user'] / ours:8.1f}x")
rate = b["users"] / b["seconds"]
print(f"{'eval, batch 16 (users/s)':34}{rate:10.2f}  → 1,000 users in {1000 / rate / 60:.1f} min")
PY
