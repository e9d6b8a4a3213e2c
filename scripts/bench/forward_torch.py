#!/usr/bin/env python3
"""The PyTorch side of scripts/bench/forward.sh: the measurements of `llmrec bench forward`
with transformers' float32 model loaded from the same GGUF, on the same thread count, in fp32 and
under bf16 autocast.
Prints one JSON object. usage: forward_torch.py GGUF_PATH BATCH TOKENS DECODE_STEPS RUNS THREADS"""
import contextlib
import json
import os
import resource
import sys
import time

gguf_path, batch, tokens, steps, runs, threads = sys.argv[1], *map(int, sys.argv[2:7])
import torch

torch.set_num_threads(threads)
from transformers import AutoModelForCausalLM, AutoTokenizer

t0 = time.perf_counter()
d, f = os.path.dirname(gguf_path), os.path.basename(gguf_path)
model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, torch_dtype=torch.float32).eval()
tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
load = time.perf_counter() - t0

text = tok.encode("The user has watched the following movies before: \"Toy Story (1995)\", \"Heat (1995)\", "
                  "\"Casino (1995)\". ", add_special_tokens=False)
while len(text) < tokens + steps:
    text += text
seqs = torch.tensor([text[b % 7:b % 7 + tokens] for b in range(batch)])


def measure(autocast):
    """Best forward (last-position and all-position logits) and decode times, in fp32 or under
    bf16 autocast (what a practitioner runs on a CPU with bf16 units)."""
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if autocast else contextlib.nullcontext
    with torch.inference_mode(), ctx():
        last = model(seqs, logits_to_keep=1).logits[:, -1].float()  # warm-up; last-position logits, as llmrec computes
        best = float("inf")
        for _ in range(runs):
            t = time.perf_counter()
            model(seqs, logits_to_keep=1)
            best = min(best, time.perf_counter() - t)
        default_best = float("inf")  # transformers' default call: logits at every position
        for _ in range(runs):
            t = time.perf_counter()
            model(seqs)
            default_best = min(default_best, time.perf_counter() - t)
        decode = float("inf")
        for _ in range(runs):
            out = model(torch.tensor([text[:tokens]]), use_cache=True, logits_to_keep=1)
            past = out.past_key_values
            t = time.perf_counter()
            for s in range(steps):
                out = model(torch.tensor([[text[tokens + s]]]), past_key_values=past, use_cache=True)
                past = out.past_key_values
            decode = min(decode, (time.perf_counter() - t) / steps)
    return best, default_best, decode, last


best, default_best, decode, fp32_logits = measure(False)
bf16_best, bf16_default_best, bf16_decode, bf16_logits = measure(True)
print(json.dumps({"load_s": round(load, 3), "forward_tokens_per_s": round(batch * tokens / best, 1),
                  "forward_all_logits_tokens_per_s": round(batch * tokens / default_best, 1),
                  "decode_ms_per_token": round(decode * 1000, 2),
                  "bf16_forward_tokens_per_s": round(batch * tokens / bf16_best, 1),
                  "bf16_forward_all_logits_tokens_per_s": round(batch * tokens / bf16_default_best, 1),
                  "bf16_decode_ms_per_token": round(bf16_decode * 1000, 2),
                  "bf16_max_logit_diff": round(float((bf16_logits - fp32_logits).abs().max()), 4),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "torch": torch.__version__, "threads": torch.get_num_threads()}))
