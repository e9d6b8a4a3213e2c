#!/usr/bin/env python3
"""Compares llmrec's logits (`llmrec cuda logits --all-rows`) with PyTorch's (make_models.py).

  python3 scripts/device/logits_parity.py MODEL_DIR LLMREC_OUT fp32|bf16
Prints one line: ‖llmrec − torch fp32‖ / ‖torch fp32‖ for the GPU (cuda.f32) and the CPU (cpu.f32),
and, in bf16, PyTorch's own autocast deviation beside it. Exit 1 when the GPU misses its bound:
fp32 within 1e-4 of PyTorch fp32; bf16 within 1.5x autocast's deviation from fp32.
"""
import os
import sys

import numpy as np

model_dir, llmrec_dir, precision = sys.argv[1], sys.argv[2], sys.argv[3]
ref = np.fromfile(os.path.join(model_dir, "torch-fp32.f32"), dtype="<f4").astype(np.float64)


def deviation(path):
    if not os.path.exists(path):
        return None
    x = np.fromfile(path, dtype="<f4").astype(np.float64)
    if x.shape != ref.shape:
        sys.exit(f"{path}: {x.size} logits, PyTorch has {ref.size}")
    if not np.all(np.isfinite(x)):
        return float("inf")
    return float(np.linalg.norm(x - ref) / np.linalg.norm(ref))


gpu = deviation(os.path.join(llmrec_dir, "cuda.f32"))
cpu = deviation(os.path.join(llmrec_dir, "cpu.f32"))
autocast = deviation(os.path.join(model_dir, "torch-autocast.f32"))
bound = 1e-4 if precision == "fp32" else 1.5 * autocast
name = os.path.basename(os.path.normpath(model_dir))
fmt = lambda v: "missing" if v is None else f"{v:.2e}"
ok = gpu is not None and gpu <= bound
print(f"logits {name:14s} {precision}: cuda {fmt(gpu)}  cpu {fmt(cpu)}  torch-autocast {fmt(autocast)}  bound {bound:.1e}  "
      + ("ok" if ok else "FAILED"))
sys.exit(0 if ok else 1)
