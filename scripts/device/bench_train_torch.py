#!/usr/bin/env python3
"""PyTorch's side of `llmrec cuda bench-train`: the same model, batch and step on the same card.

Each step: zero_grad, forward with labels (cross-entropy at every position, as llmrec's bench),
backward, clip_grad_norm_(1.0), AdamW step. Eager mode, SDPA attention, fp32 master weights,
bf16 autocast (or fp32 with TF32 off). Median step time over --steps after --warmup.
  python3 scripts/device/bench_train_torch.py MODEL_DIR [--precision bf16|fp32] [--batch 32] [--tokens 128] [--steps 10] [--warmup 2] [--profile]
Prints one line: "torch <precision> ...: step X ms, Y tokens/s"; with --profile, first the kernels of
one more step by GPU time (torch.profiler), to set beside `llmrec cuda bench-train --profile`.
"""
import argparse
import statistics
import time

import torch
from transformers import AutoModelForCausalLM

parser = argparse.ArgumentParser()
parser.add_argument("model")
parser.add_argument("--precision", default="bf16", choices=["bf16", "fp32"])
parser.add_argument("--batch", type=int, default=32)
parser.add_argument("--tokens", type=int, default=128)
parser.add_argument("--steps", type=int, default=10)
parser.add_argument("--warmup", type=int, default=2)
parser.add_argument("--profile", action="store_true")
args = parser.parse_args()

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
device = "cuda" if torch.cuda.is_available() else "cpu"  # the CPU only to try the script out
sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.float32, attn_implementation="sdpa").to(device)
model.train()
optimizer = torch.optim.AdamW(model.parameters(), lr=1e-5, weight_decay=0.0)
generator = torch.Generator().manual_seed(7)


def step():
    ids = torch.randint(0, model.config.vocab_size, (args.batch, args.tokens), generator=generator).to(device)
    sync()
    start = time.perf_counter()
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device, dtype=torch.bfloat16, enabled=args.precision == "bf16"):
        loss = model(input_ids=ids, labels=ids).loss
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    optimizer.step()
    sync()
    return time.perf_counter() - start


times = [step() for _ in range(args.warmup + args.steps)][args.warmup:]
if args.profile:
    activities = [torch.profiler.ProfilerActivity.CPU] + ([torch.profiler.ProfilerActivity.CUDA] if device == "cuda" else [])
    with torch.profiler.profile(activities=activities) as profiler:
        step()
    averages = profiler.key_averages()
    for key in ("self_device_time_total", "self_cuda_time_total", "self_cpu_time_total"):
        try:
            print(averages.table(sort_by=key, row_limit=25, max_name_column_width=60))
            break
        except Exception:
            continue
median = statistics.median(times)
where = torch.cuda.get_device_name() if device == "cuda" else "cpu"
print(f"torch {args.precision} on {where}: {args.batch} × {args.tokens} tokens, "
      f"step {median * 1000:.1f} ms (median of {args.steps}), {args.batch * args.tokens / median:.0f} tokens/s")
