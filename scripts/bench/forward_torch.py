#!/usr/bin/env python3
"""The PyTorch side of scripts/bench/forward.sh: the measurements of `llmrec bench forward`
with transformers' float32 model loaded from the same GGUF, on the same thread count.
Prints one JSON object. usage: forward_torch.py GGUF_PATH BATCH TOKENS DECODE_STEPS RUNS THREADS"""
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
with torch.inference_mode():
    model(seqs, logits_to_keep=1)  # warm-up; logits of the last position only, as llmrec computes
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
print(json.dumps({"load_s": round(load, 3), "forward_tokens_per_s": round(batch * tokens / best, 1),
                  "forward_all_logits_tokens_per_s": round(batch * tokens / default_best, 1),
                  "decode_ms_per_token": round(decode * 1000, 2),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "torch": torch.__version__, "threads": torch.get_num_threads()}))
