#!/usr/bin/env python3
"""How far bf16 moves SmolLM2-135M's next-token logits from float32: llmrec's --precision bf16
against llmrec fp32, beside PyTorch's bf16 autocast against PyTorch fp32, on the same real
prompts (a few general ones and MovieLens prompts as the recommender writes them). Prints one
row per prompt: the largest |logit difference| over the whole vocabulary and over the float32
top 10, and whether the top token stays the same.
usage: ~/.venvs/llmrec-fixtures/bin/python scripts/bench/bf16_logits.py [llmrec binary]"""
import json
import os
import subprocess
import sys

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

binary = sys.argv[1] if len(sys.argv) > 1 else ".build/release/llmrec"
home = os.environ.get("LLMREC_HOME", os.path.expanduser("~/.cache/llmrec"))
gguf_dir, gguf_file = os.path.join(home, "smollm2"), "SmolLM2-135M-Instruct.Q4_1.gguf"
tok = AutoTokenizer.from_pretrained(gguf_dir, gguf_file=gguf_file)
model = AutoModelForCausalLM.from_pretrained(gguf_dir, gguf_file=gguf_file, torch_dtype=torch.float32).eval()
V = model.config.vocab_size

movie = ("Below is an instruction that describes a task, paired with an input that provides further context. "
         "Write a response that appropriately completes the request.\n\n### Instruction:\nGiven a list of movies the "
         "user has watched before, please recommend a new movie that the user likes to the user.\n\n### Input:\n"
         "The user has watched the following movies before: ")
prompts = {
    "capital": "The capital of France is",
    "story": "Once upon a time, in a small village by the sea, there lived",
    "code": "def fibonacci(n):\n    if n < 2:\n        return n\n    return",
    "movies-3": movie + "\"Toy Story (1995)\", \"Heat (1995)\", \"Jumanji (1995)\"\n\n### Response:\n",
    "movies-10": movie + ", ".join(f'"{t}"' for t in [
        "Fargo (1996)", "Star Wars: Episode IV - A New Hope (1977)", "Pulp Fiction (1994)", "Babe (1995)",
        "Braveheart (1995)", "Apollo 13 (1995)", "Twelve Monkeys (1995)", "Clueless (1995)", "Seven (Se7en) (1995)",
        "Usual Suspects, The (1995)"]) + "\n\n### Response:\n\"",
}


def ours(text, precision):
    out = subprocess.run([binary, "logits", "--prompt", text, "--top", str(V), "--json", "--precision", precision,
                          "--log-level", "error"], capture_output=True, text=True, check=True).stdout
    logits = torch.full((V,), float("nan"), dtype=torch.float64)
    for row in json.loads(out)["top"]:
        logits[row["id"]] = row["logit"]
    return logits


def stats(a, b):
    top = torch.topk(b, 10).indices
    return float((a - b).abs().max()), float((a[top] - b[top]).abs().max()), int(a.argmax()) == int(b.argmax())


print(f"{'prompt':12}{'tokens':>7} | {'llmrec bf16 vs fp32':^30} | {'PyTorch autocast vs fp32':^30} | llmrec fp32 vs PyTorch fp32")
print(f"{'':19} | {'vocab':>9}{'top-10':>9}{'top-1':>12} | {'vocab':>9}{'top-10':>9}{'top-1':>12} |")
with torch.no_grad():
    for name, text in prompts.items():
        ids = torch.tensor([tok.encode(text, add_special_tokens=False)])
        t32 = model(ids).logits[0, -1].double()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            t16 = model(ids).logits[0, -1].double()
        o32, o16 = ours(text, "fp32"), ours(text, "bf16")
        a, b = stats(o16, o32), stats(t16, t32)
        same = lambda s: "same" if s else "differs"
        print(f"{name:12}{ids.shape[1]:7} | {a[0]:9.4f}{a[1]:9.4f}{same(a[2]):>12} | {b[0]:9.4f}{b[1]:9.4f}{same(b[2]):>12} | "
              f"{float((o32 - t32).abs().max()):.5f}")
