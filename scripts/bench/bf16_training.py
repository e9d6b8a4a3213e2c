#!/usr/bin/env python3
"""The training curves of two runs that differ only in --precision (fp32 and bf16, same data,
seed and settings): prints the validation losses side by side with the relative difference, and
draws the training loss per step and the validation loss of both into one SVG.
usage: python3 scripts/bench/bf16_training.py RUN_FP32 RUN_BF16 OUT.svg"""
import json
import sys


def read(run):
    steps, valid = {}, {}
    with open(f"{run}/log.jsonl") as f:
        for line in f:
            e = json.loads(line)
            if "valid_loss" in e:
                valid[e["step"]] = e["valid_loss"]
            elif "loss" in e:
                steps[e["step"]] = e["loss"]
    return steps, valid


(a_steps, a_valid), (b_steps, b_valid) = read(sys.argv[1]), read(sys.argv[2])
print(f"{'step':>6}{'valid fp32':>12}{'valid bf16':>12}{'bf16/fp32 - 1':>15}")
for s in sorted(set(a_valid) & set(b_valid)):
    print(f"{s:6d}{a_valid[s]:12.4f}{b_valid[s]:12.4f}{b_valid[s] / a_valid[s] - 1:+14.2%}")
common = sorted(set(a_steps) & set(b_steps))
diffs = [abs(b_steps[s] - a_steps[s]) for s in common]
print(f"training loss per step: mean |bf16 - fp32| {sum(diffs) / len(diffs):.4f}, largest {max(diffs):.4f} over {len(common)} steps")

# The plot: loss against step, fp32 blue, bf16 orange; lines for training, dots for validation.
W, H, L, R, T, B = 640, 360, 60, 20, 30, 45
xs = common + sorted(set(a_valid) | set(b_valid))
ys = [a_steps[s] for s in common] + [b_steps[s] for s in common] + list(a_valid.values()) + list(b_valid.values())
x0, x1, y0, y1 = 0, max(xs), 0, max(ys) * 1.05
px = lambda x: L + (x - x0) / (x1 - x0) * (W - L - R)
py = lambda y: H - B - (y - y0) / (y1 - y0) * (H - T - B)
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W / 2}" y="18" text-anchor="middle" font-size="14">SmolLM2-135M on MovieLens-100K: fp32 and bf16 from the same start</text>']
for i in range(6):
    y = y0 + (y1 - y0) * i / 5
    out.append(f'<line x1="{L}" x2="{W - R}" y1="{py(y):.1f}" y2="{py(y):.1f}" stroke="#ddd"/>')
    out.append(f'<text x="{L - 6}" y="{py(y) + 4:.1f}" text-anchor="end">{y:.1f}</text>')
for i in range(6):
    x = x0 + (x1 - x0) * i / 5
    out.append(f'<text x="{px(x):.1f}" y="{H - B + 16}" text-anchor="middle">{x:.0f}</text>')
out.append(f'<text x="{(L + W - R) / 2}" y="{H - 8}" text-anchor="middle">optimiser step</text>')
out.append(f'<text x="14" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 {(T + H - B) / 2})">loss</text>')
for name, steps, valid, color in (("fp32", a_steps, a_valid, "#1f77b4"), ("bf16", b_steps, b_valid, "#ff7f0e")):
    pts = " ".join(f"{px(s):.1f},{py(steps[s]):.1f}" for s in common)
    out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.2" opacity="0.8"/>')
    for s, v in sorted(valid.items()):
        out.append(f'<circle cx="{px(s):.1f}" cy="{py(v):.1f}" r="4" fill="{color}" stroke="black" stroke-width="0.5"/>')
for i, (label, color) in enumerate((("fp32: training loss (line), validation loss (dots)", "#1f77b4"),
                                    ("bf16: training loss (line), validation loss (dots)", "#ff7f0e"))):
    y = T + 14 + i * 16
    out.append(f'<line x1="{W - R - 300}" x2="{W - R - 280}" y1="{y - 4}" y2="{y - 4}" stroke="{color}" stroke-width="3"/>')
    out.append(f'<text x="{W - R - 274}" y="{y}">{label}</text>')
out.append("</svg>")
with open(sys.argv[3], "w") as f:
    f.write("\n".join(out) + "\n")
