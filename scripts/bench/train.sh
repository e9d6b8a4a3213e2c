#!/usr/bin/env bash
# Fine-tuning speed, llmrec against PyTorch/transformers (+PEFT for LoRA) on the same machine,
# thread count, samples and prompts, in one go: median tokens/s of the steps after the first,
# and peak RSS. `full` trains every weight; `lora` trains rank-8 adapters (alpha 16, dropout
# 0.05) on q_proj and v_proj. Prepares a MovieLens-100K subset if no dataset is given. Needs
# the assets and the reference stack (scripts/fixtures/requirements.txt in
# ~/.venvs/llmrec-fixtures, or set PYTHON).
#   usage: scripts/bench/train.sh [full|lora] [batch=8] [steps=4] [data_dir]
set -euo pipefail
cd "$(dirname "$0")/../.."
mode="${1:-full}" batch="${2:-8}" steps="${3:-4}"
case "$mode" in full) lora_flag=() ;; lora) lora_flag=(--lora-rank 8) ;; *) echo "mode must be full or lora, got $mode" >&2; exit 2 ;; esac
python="${PYTHON:-$HOME/.venvs/llmrec-fixtures/bin/python}"
gguf="${LLMREC_HOME:-$HOME/.cache/llmrec}/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
swift build -c release --product llmrec >/dev/null
data="${4:-}"
if [ -z "$data" ]; then
    data="$(mktemp -d)/ml-100k"
    .build/release/llmrec data prepare --dataset ml-100k --out "$data" --max-train $((batch * steps)) --log-level error >/dev/null
fi
ours=$(.build/release/llmrec bench train --model "$gguf" --data "$data" --batch "$batch" --steps "$steps" "${lora_flag[@]}" --json --log-level error)
theirs=$("$python" scripts/bench/train_torch.py "$gguf" "$data" "$batch" "$steps" "$(nproc)" "$mode" 2>/dev/null | tail -n 1)
"$python" - "$ours" "$theirs" <<'PY'
import json, subprocess, sys
o, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
print(f"machine: {model}, {t['threads']} threads; torch {t['torch']}{t.get('peft', '')}; {o['trained']}, batch {o['batch']}, loss ce")
print(f"{'':22}{'llmrec':>12}{'pytorch':>12}{'ratio':>10}")
a, b = float(o["train_tokens_per_s"]), float(t["train_tokens_per_s"])
print(f"{'train (tokens/s)':22}{a:12.1f}{b:12.1f}{a / b:9.2f}x")
a, b = float(o["peak_rss_mb"]), float(t["peak_rss_mb"])
print(f"{'peak RSS (MB)':22}{a:12.0f}{b:12.0f}{b / a:9.2f}x less")
PY
