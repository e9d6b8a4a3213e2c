#!/usr/bin/env python3
"""What packing a GGUF model's weights as bf16 rounds: for each quantisation type in the file,
how many dequantised values bf16 cannot hold exactly, and the relative rounding error
|bf16(w) − w| / |w| (mean and largest) — rounding to nearest even, as llmrec packs them.
usage: ~/.venvs/llmrec-fixtures/bin/python scripts/bench/bf16_weights.py [model.gguf]"""
import os
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.environ.get("LLMREC_HOME", os.path.expanduser("~/.cache/llmrec")), "smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
stats = {}
for t in GGUFReader(path).tensors:
    w = dequantize(t.data, t.tensor_type).astype(np.float32).ravel()
    bits = w.view(np.uint32).astype(np.uint64)
    rounded = (((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16).astype(np.uint32).view(np.float32)
    nonzero = w != 0
    rel = np.abs(rounded[nonzero].astype(np.float64) - w[nonzero]) / np.abs(w[nonzero])
    s = stats.setdefault(t.tensor_type.name, [0, 0, 0.0, 0.0])
    s[0] += w.size
    s[1] += int((rounded != w).sum())
    s[2] += float(rel.sum())
    s[3] = max(s[3], float(rel.max()) if rel.size else 0.0)
print(f"{path}")
print(f"{'type':8}{'values':>14}{'changed by bf16':>18}{'mean rel. error':>18}{'largest':>12}")
for name, (n, changed, total, worst) in sorted(stats.items()):
    print(f"{name:8}{n:14,}{changed / n:17.1%}{total / n:18.2e}{worst:12.2e}")
