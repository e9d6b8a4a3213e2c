#!/usr/bin/env python3
"""The transformers side of scripts/bench/decode.sh: per-user latency of 10-beam constrained
decoding with generate(num_beams=10, num_return_sequences=10, prefix_allowed_tokens_fn=<catalog
trie>) on SmolLM2 float32 from the GGUF, on the first N test samples of a prepared dataset, one
user at a time (as the reference implementations run it). Prints one JSON object.
usage: decode_torch.py GGUF_PATH DATA_DIR USERS THREADS"""
import json
import os
import sys
import time

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from reference_prompt import PreparedDataset

gguf_path, data, users, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
precision = sys.argv[5] if len(sys.argv) > 5 else "fp32"  # bf16: generate under torch.autocast("cpu", bfloat16)
torch.set_num_threads(threads)
d, f = os.path.dirname(gguf_path), os.path.basename(gguf_path)
tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, dtype=torch.float32).eval()
eos = tok.eos_token_id
dataset = PreparedDataset(data)
titles, prompt = dataset.titles, dataset.prompt
samples = dataset.samples("test")[:users]
children = {}
for t in titles:
    seq = tok.encode(f'"{t}"', add_special_tokens=False) + [eos]
    for k in range(len(seq)):
        children.setdefault(tuple(seq[:k]), set()).add(seq[k])
depth = max(len(k) for k in children) + 1




times = []
for s in samples:
    ids = tok.encode(prompt(s["history"]), add_special_tokens=False)
    P = len(ids)
    allowed = lambda b, sent: sorted(children.get(tuple(sent[P:].tolist()), {eos}))
    t = time.perf_counter()
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, P, dtype=torch.long), num_beams=10, num_return_sequences=10,
                       do_sample=False, max_new_tokens=depth, prefix_allowed_tokens_fn=allowed, pad_token_id=eos, eos_token_id=eos)
    times.append(time.perf_counter() - t)
print(json.dumps({"seconds_per_user": round(sum(times) / len(times), 3), "users": len(times), "torch": torch.__version__,
                  "threads": torch.get_num_threads(), "precision": precision}))
