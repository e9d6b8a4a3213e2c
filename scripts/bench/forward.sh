#!/usr/bin/env bash
# Model speed, llmrec against PyTorch/transformers on the same machine and thread count, in one
# go: load time, forward throughput (batch × tokens, last-position logits), single-token decode
# latency with the KV cache, peak RSS; llmrec in fp32 and bf16, PyTorch in fp32 and under bf16
# autocast. Each side runs in its own process.
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
ours_bf16=$(.build/release/llmrec bench forward --model "$gguf" --batch "$batch" --tokens "$tokens" --decode-steps "$steps" --runs "$runs" --precision bf16 --json --log-level error)
theirs=$("$python" scripts/bench/forward_torch.py "$gguf" "$batch" "$tokens" "$steps" "$runs" "$threads" 2>/dev/null | tail -n 1)
"$python" - "$ours" "$ours_bf16" "$theirs" <<'PY'
import json, subprocess, sys
o, ob, t = (json.loads(a) for a in sys.argv[1:4])
cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
model = next((l.split(":", 1)[1].strip() for l in cpu.splitlines() if l.startswith("Model name")), "?")
flags = next((l for l in cpu.splitlines() if l.startswith("Flags")), "")
units = ", ".join(f for f in ("avx512f", "avx512_bf16", "amx_bf16") if f in flags.split())
print(f"machine: {model} ({units}), {t['threads']} threads; llmrec OpenBLAS: {o['threads']}; torch {t['torch']}")
print(f"forward batch {o['forward_batch']}; llmrec packs its weights once for inference after loading: "
      f"{o['pack_s']} s (fp32), {ob['pack_s']} s (bf16, {ob['precision']})")
print(f"{'':22}{'llmrec fp32':>13}{'llmrec bf16':>13}{'torch fp32':>12}{'torch bf16':>12}{'bf16/torch':>12}{'bf16/fp32':>11}")
rows = [("load (s)", "load_s", False), ("forward (tokens/s)", "forward_tokens_per_s", True),
        ("decode (ms/token)", "decode_ms_per_token", False), ("peak RSS (MB)", "peak_rss_mb", False)]
def ratio(x, y, higher): return x / y if higher else y / x
for label, key, higher in rows:
    a, ab, b = float(o[key]), float(ob[key]), float(t[key])
    if "bf16_" + key in t:  # PyTorch's bf16 run shares the fp32 run's load and process
        bb = float(t["bf16_" + key])
        theirs = f"{bb:12.2f}{ratio(ab, bb, higher):11.2f}x"
    else:
        theirs = f"{'-':>12}{'-':>12}"
    print(f"{label:22}{a:13.2f}{ab:13.2f}{b:12.2f}{theirs}{ratio(ab, a, higher):10.2f}x")
a, b = float(o["forward_tokens_per_s"]), float(t["forward_all_logits_tokens_per_s"])
print(f"forward, PyTorch's default model(ids) (logits at every position): torch fp32 {b:.1f}, "
      f"torch bf16 {float(t['bf16_forward_all_logits_tokens_per_s']):.1f} tokens/s")
print(f"torch bf16 autocast: max |last-position logit - fp32| over the batch = {t['bf16_max_logit_diff']}")
print("torch bf16 = bf16 autocast on the fp32 model; ratios: how many times better llmrec bf16 is (higher is better)")
PY
