#!/usr/bin/env bash
# Recommending speed on the MovieLens-1M catalog with SmolLM2-135M, llmrec against transformers'
# generate(num_beams=10, prefix_allowed_tokens_fn=…) on the same machine, thread count, test
# samples and prompts, in one go: per-user latency (one user at a time, 10 beams, 10 items), and
# llmrec's batched `eval` throughput (users/s, K up to 10); llmrec in fp32 and bf16, transformers
# in fp32 and under bf16 autocast. Needs the assets and the reference
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
run_ours() {  # precision, users, batch
    .build/release/llmrec eval --model "$gguf" --data "$data" --max-users "$2" --k 1,5,10 --beams 10 --batch "$3" --precision "$1" --json --log-level error
}
single=$(run_ours fp32 "$users" 1)
single_bf16=$(run_ours bf16 "$users" 1)
batched=$(run_ours fp32 "$eval_users" 16)
batched_bf16=$(run_ours bf16 "$eval_users" 16)
theirs=$("$python" scripts/bench/decode_torch.py "$gguf" "$data" "$users" "$(nproc)" fp32 2>/dev/null | tail -n 1)
theirs_bf16=$("$python" scripts/bench/decode_torch.py "$gguf" "$data" "$users" "$(nproc)" bf16 2>/dev/null | tail -n 1)
"$python" - "$single" "$single_bf16" "$batched" "$batched_bf16" "$theirs" "$theirs_bf16" <<'PY'
import json, subprocess, sys
s, sb, b, bb, t, tb = (json.loads(a) for a in sys.argv[1:7])
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
print(f"machine: {model}, {t['threads']} threads; torch {t['torch']}; MovieLens-1M catalog, 10 beams, 10 items")
print(f"{'':30}{'llmrec fp32':>13}{'llmrec bf16':>13}{'transf. fp32':>14}{'transf. bf16':>14}{'bf16/transf. bf16':>19}{'bf16/fp32':>11}")
o, ob = s["seconds"] / s["users"], sb["seconds"] / sb["users"]
print(f"{'per user, one at a time (s)':30}{o:13.2f}{ob:13.2f}{t['seconds_per_user']:14.2f}{tb['seconds_per_user']:14.2f}"
      f"{tb['seconds_per_user'] / ob:18.1f}x{o / ob:10.2f}x")
r, rb = b["users"] / b["seconds"], bb["users"] / bb["seconds"]
print(f"{'eval, batch 16 (users/s)':30}{r:13.2f}{rb:13.2f}{'':28}{'':19}{rb / r:10.2f}x")
print(f"1,000 users at batch 16: {1000 / r / 60:.1f} min in fp32, {1000 / rb / 60:.1f} min in bf16; "
      "transformers bf16 = generate under autocast(bfloat16)")
PY
