#!/usr/bin/env bash
# Fine-tuning speed, llmrec against PyTorch/transformers (+PEFT for LoRA) on the same machine,
# thread count, samples and prompts, in one go: median tokens/s of the steps after the first,
# and peak RSS. `full` trains every weight; `lora` trains rank-8 adapters (alpha 16, dropout
# 0.05) on q_proj and v_proj. Prepares a MovieLens-100K subset if no dataset is given. Needs
# the assets and the reference stack (scripts/fixtures/requirements.txt in
# ~/.venvs/llmrec-fixtures, or set PYTHON).
# llmrec in fp32 and bf16, PyTorch in fp32 and under bf16 autocast.
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
ours_bf16=$(.build/release/llmrec bench train --model "$gguf" --data "$data" --batch "$batch" --steps "$steps" "${lora_flag[@]}" --precision bf16 --json --log-level error)
theirs=$("$python" scripts/bench/train_torch.py "$gguf" "$data" "$batch" "$steps" "$(nproc)" "$mode" fp32 2>/dev/null | tail -n 1)
theirs_bf16=$("$python" scripts/bench/train_torch.py "$gguf" "$data" "$batch" "$steps" "$(nproc)" "$mode" bf16 2>/dev/null | tail -n 1)
"$python" - "$ours" "$ours_bf16" "$theirs" "$theirs_bf16" <<'PY'
import json, subprocess, sys
o, ob, t, tb = (json.loads(a) for a in sys.argv[1:5])
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
print(f"machine: {model}, {t['threads']} threads; torch {t['torch']}{t.get('peft', '')}; {o['trained']}, batch {o['batch']}, loss ce; "
      f"llmrec bf16 kernel: {ob['precision']}")
print(f"{'':18}{'llmrec fp32':>13}{'llmrec bf16':>13}{'torch fp32':>12}{'torch bf16':>12}{'bf16/torch bf16':>17}{'bf16/fp32':>11}")
a, ab, b, bb = (float(x["train_tokens_per_s"]) for x in (o, ob, t, tb))
print(f"{'train (tokens/s)':18}{a:13.1f}{ab:13.1f}{b:12.1f}{bb:12.1f}{ab / bb:16.2f}x{ab / a:10.2f}x")
a, ab, b, bb = (float(x["peak_rss_mb"]) for x in (o, ob, t, tb))
print(f"{'peak RSS (MB)':18}{a:13.0f}{ab:13.0f}{b:12.0f}{bb:12.0f}")
print("torch bf16 = autocast(bfloat16) around the forward pass and loss; ratios: higher is better for llmrec bf16")
PY
