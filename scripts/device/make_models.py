#!/usr/bin/env python3
"""Random test models for scripts/device/check.sh, and PyTorch's logits for them.

For each model: DIR/NAME/ holds config.json and model.safetensors (transformers' save_pretrained),
tokens.json (a random sequence of token ids), torch-fp32.f32 (float32 logits at every position,
TF32 off) and torch-autocast.f32 (the same under bf16 autocast), little-endian float32.
  tiny-llama      2 layers, hidden 64, 4/2 heads, untied head
  tiny-qwen2      2 layers, hidden 64, 4/2 heads, q/k/v biases, tied head
  smollm2-shape   SmolLM2-135M's shape (30 layers, hidden 576, 9/3 heads, vocab 49,152), random weights
  qwen1.5b-shape  with --big: Qwen2.5-1.5B's shape (28 layers, hidden 1,536, 12/2 heads, MLP 8,960,
                  vocab 151,936, tied), random weights, for the step-time comparison only
Runs on the GPU when there is one (the card the CUDA backend is checked on), else on the CPU.
  python3 scripts/device/make_models.py DIR [--quick] [--big]   (--quick: the tiny models only)
"""
import json
import os
import sys

import torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM

out = sys.argv[1]
quick = "--quick" in sys.argv
big = "--big" in sys.argv
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.manual_seed(0)

tiny = dict(vocab_size=1000, hidden_size=64, intermediate_size=160, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, max_position_embeddings=256)
models = {
    "tiny-llama": (LlamaForCausalLM, LlamaConfig(**tiny, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False), 37),
    "tiny-qwen2": (Qwen2ForCausalLM, Qwen2Config(**tiny, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True), 41),
}
if not quick:
    models["smollm2-shape"] = (LlamaForCausalLM, LlamaConfig(
        vocab_size=49152, hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
        num_key_value_heads=3, max_position_embeddings=8192, rms_norm_eps=1e-5, rope_theta=100000.0,
        tie_word_embeddings=True), 200)

if big:
    models["qwen1.5b-shape"] = (Qwen2ForCausalLM, Qwen2Config(
        vocab_size=151936, hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
        num_key_value_heads=2, max_position_embeddings=32768, rms_norm_eps=1e-6, rope_theta=1000000.0,
        tie_word_embeddings=True), 200)

for name, (cls, config, length) in models.items():
    folder = os.path.join(out, name)
    os.makedirs(folder, exist_ok=True)
    # The tiny models get a wider spread than the default 0.02, so that attention is not near-uniform;
    # 30 layers of it would make the 135M-shaped model chaotic (bf16 autocast then deviates by 20%).
    config.initializer_range = 0.1 if name.startswith("tiny") else 0.02
    model = cls(config).float().eval()
    model.save_pretrained(folder, safe_serialization=True)
    model = model.to(device)
    tokens = torch.randint(0, config.vocab_size, (length,), generator=torch.Generator().manual_seed(len(name)))
    with open(os.path.join(folder, "tokens.json"), "w") as f:
        json.dump(tokens.tolist(), f)
    ids = tokens.unsqueeze(0).to(device)
    with torch.no_grad():
        fp32 = model(ids).logits[0].float()
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            autocast = model(ids).logits[0].float()
    fp32.cpu().numpy().astype("<f4").tofile(os.path.join(folder, "torch-fp32.f32"))
    autocast.cpu().numpy().astype("<f4").tofile(os.path.join(folder, "torch-autocast.f32"))
    print(f"{name}: {sum(p.numel() for p in model.parameters()):,} parameters, {length} tokens, on {device}")
