#!/usr/bin/env bash
# Model speed, llmrec against PyTorch/transformers on the same machine and thread count, in one
# go: load time, forward throughput (batch × tokens, last-position logits), single-token decode
# latency with the KV cache, peak RSS. Each side runs in its own process.
# Needs the assets and the reference stack (scripts/fixtures/requirements.txt in
# ~/.venvs/llmrec-fixtures, or set PYTHON).
#   usage: scripts/bench/forward.sh [batch=8] [tokens=128] [decode_steps=32] [runs=3]
set -euo pipefail
cd "$(dirname "$0")/../.."
batch="${1:-8}" tokens="${2:-128}" steps="${3:-32}" runs="${4:-3}"
python="${PYTHON:-$HOME/.venvs/llmrec-fixtures/bin/python}"
threads="$(nproc)"
gguf="${LLMREC_HOME:-$HOME/.cache/llmrec}/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
swift build -c release --product llmrec >/dev/null
ours=$(.build/release/llmrec bench forward --model "$gguf" --batch "$batch" --tokens "$tokens" --decode-steps "$steps" --runs "$runs" --json --log-level error)
theirs=$("$python" scripts/bench/forward_torch.py "$gguf" "$batch" "$tokens" "$steps" "$runs" "$threads" 2>/dev/null | tail -n 1)
"$python" - "$ours" "$theirs" <<'PY'
import json, subprocess, sys
o, t = json.loads(sys.argv[1]), json.loads(sys.argv[2])
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
print(f"machine: {model}, {t['threads']} threads; llmrec OpenBLAS: {o['threads']}; torch {t['torch']}")
print(f"forward batch {o['forward_batch']}; llmrec packs its weights once for inference after loading: {o['pack_s']} s")
print(f"{'':24}{'llmrec':>12}{'pytorch':>12}{'ratio':>10}")
rows = [("load (s)", "load_s", False), ("forward (tokens/s)", "forward_tokens_per_s", True),
        ("decode (ms/token)", "decode_ms_per_token", False), ("peak RSS (MB)", "peak_rss_mb", False)]
for label, key, higher in rows:
    a, b = float(o[key]), float(t[key])
    ratio = a / b if higher else b / a
    print(f"{label:24}{a:12.2f}{b:12.2f}{ratio:9.2f}x")
a, b = float(o["forward_tokens_per_s"]), float(t["forward_all_logits_tokens_per_s"])
print(f"{'forward vs default call':24}{a:12.2f}{b:12.2f}{a / b:9.2f}x   (PyTorch's model(ids): logits at every position)")
print("ratio: how many times better llmrec is (higher is better for llmrec)")
PY
