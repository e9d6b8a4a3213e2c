#!/usr/bin/env python3
"""The PyTorch side of scripts/bench/train.sh: fine-tuning steps of SmolLM2 (float32,
transformers, torch.optim.AdamW) on the same training samples and prompts as `llmrec bench train`
(read from the prepared dataset directory), cross-entropy on the response tokens only, padded
batches with an attention mask as one would write it. MODE full trains every weight; lora wraps
the model with PEFT (rank 8, alpha 16, dropout 0.05, q_proj and v_proj, as `--lora-rank 8`).
PRECISION bf16 runs the forward pass and loss under torch.autocast("cpu", bfloat16), the backward
pass outside it, as PyTorch recommends (float32 master weights, gradients and AdamW state).
Prints one JSON object.
usage: train_torch.py GGUF_PATH DATA_DIR BATCH STEPS THREADS [full|lora] [fp32|bf16]"""
import json
import os
import resource
import sys
import time

gguf_path, data_dir = sys.argv[1], sys.argv[2]
batch, steps, threads = map(int, sys.argv[3:6])
mode = sys.argv[6] if len(sys.argv) > 6 else "full"
precision = sys.argv[7] if len(sys.argv) > 7 else "fp32"
import torch
from reference_prompt import PreparedDataset

torch.set_num_threads(threads)
from transformers import AutoModelForCausalLM, AutoTokenizer

d, f = os.path.dirname(gguf_path), os.path.basename(gguf_path)
model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, torch_dtype=torch.float32)
tok = AutoTokenizer.from_pretrained(d, gguf_file=f)
extra = {}
if mode == "lora":
    import peft
    model = peft.get_peft_model(model, peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.05, target_modules=["q_proj", "v_proj"],
                                                       task_type="CAUSAL_LM"))
    extra["peft"] = f", peft {peft.__version__}"
model.train()
dataset = PreparedDataset(data_dir)
titles, prompt = dataset.titles, dataset.prompt
samples = dataset.samples("train")[: batch * steps]


opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-4)
rates = []
for s in range(steps):
    chunk = samples[s * batch:(s + 1) * batch]
    seqs, labels = [], []
    for x in chunk:
        p = tok.encode(prompt(x["history"]), add_special_tokens=False)
        r = tok.encode(f'"{titles[x["target"]]}"', add_special_tokens=False) + [tok.eos_token_id]
        seqs.append(p + r)
        labels.append([-100] * len(p) + r)
    width = max(map(len, seqs))
    ids = torch.tensor([q + [tok.eos_token_id] * (width - len(q)) for q in seqs])
    lab = torch.tensor([q + [-100] * (width - len(q)) for q in labels])
    mask = torch.tensor([[1] * len(q) + [0] * (width - len(q)) for q in seqs])
    t = time.perf_counter()
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
        loss = model(input_ids=ids, attention_mask=mask, labels=lab).loss
    loss.backward()
    opt.step()
    opt.zero_grad()
    if s > 0:
        rates.append(sum(map(len, seqs)) / (time.perf_counter() - t))
print(json.dumps({"train_tokens_per_s": round(sorted(rates)[len(rates) // 2], 1),
                  "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                  "torch": torch.__version__, "threads": torch.get_num_threads(), "precision": precision, **extra}))
