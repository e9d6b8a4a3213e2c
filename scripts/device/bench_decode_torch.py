#!/usr/bin/env python3
"""transformers' side of `llmrec cuda beams`: the same model, catalog and prompts (the JSON that
`llmrec cuda beams --catalog-out FILE` writes), decoded with generate(num_beams=B,
num_return_sequences=K, prefix_allowed_tokens_fn=<catalog trie>) one user at a time on the GPU, as
the reference implementations run it. fp32 with TF32 off, or bf16 autocast.
  python3 scripts/device/bench_decode_torch.py MODEL_DIR CATALOG_JSON [--precision fp32|bf16]
Prints one line: "transformers <precision> ...: X ms per user".
"""
import argparse
import json
import time

import torch
from transformers import AutoModelForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("catalog")
parser.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
args = parser.parse_args()

torch.backends.cuda.matmul.allow_tf32 = False
device = "cuda" if torch.cuda.is_available() else "cpu"  # the CPU only to try the script out
sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32).to(device).eval()
spec = json.load(open(args.catalog))
eos, beams, count = spec["eos"], spec["beams"], spec["count"]
children = {}
for seq in spec["titles"]:
    for k in range(len(seq)):
        children.setdefault(tuple(seq[:k]), set()).add(seq[k])
depth = max(len(s) for s in spec["titles"])


def decode(ids):
    P = len(ids)
    allowed = lambda b, sent: sorted(children.get(tuple(sent[P:].tolist()), {eos}))
    with torch.no_grad(), torch.autocast(device, dtype=torch.bfloat16, enabled=args.precision == "bf16"):
        model.generate(torch.tensor([ids], device=device), attention_mask=torch.ones(1, P, dtype=torch.long, device=device),
                       num_beams=beams, num_return_sequences=count, do_sample=False, max_new_tokens=depth,
                       prefix_allowed_tokens_fn=allowed, pad_token_id=eos, eos_token_id=eos)


decode(spec["prompts"][0])  # warm-up
sync()
start = time.perf_counter()
for ids in spec["prompts"]:
    decode(ids)
sync()
per_user = (time.perf_counter() - start) / len(spec["prompts"])
where = torch.cuda.get_device_name() if device == "cuda" else "cpu"
print(f"transformers {args.precision} on {where}: {len(spec['titles'])} titles, {beams} beams: {per_user * 1000:.1f} ms per user one at a time")
