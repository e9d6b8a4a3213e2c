#!/usr/bin/env python3
"""The Python side of scripts/bench/data_prepare.sh: the same job as
`llmrec data prepare --dataset NAME` (read the RecBole files, clean and merge titles, per-user
time order, sliding-window samples of <= 10 items, 8:1:1 time split, write catalog and split
JSON lines), written the way the D3/IGD reference preprocessing does it: plain Python,
stable sorts, json.dumps per line. Standard library only.

usage: prepare_reference.py ml-1m|ml-100k OUT_DIR
"""
import json
import os
import sys
import time

name, out = sys.argv[1], sys.argv[2]
home = os.environ.get("LLMREC_HOME", os.path.expanduser("~/.cache/llmrec"))
base = os.path.join(home, name, name)
t0 = time.perf_counter()

titles = {}
with open(base + ".item", encoding="utf-8") as f:
    cols = [h.split(":")[0] for h in f.readline().rstrip("\r\n").split("\t")]
    ti = next(cols.index(c) for c in ("title", "movie_title") if c in cols)
    yi = cols.index("release_year") if "release_year" in cols else None
    for line in f:
        p = line.rstrip("\r\n").split("\t")
        t = " ".join(p[ti].split())
        if yi is not None and p[yi].isdigit() and len(p[yi]) == 4 and not t.endswith(f"({p[yi]})"):
            t = f"{t} ({p[yi]})"
        titles[p[0]] = t

catalog, catalog_index, per_user = [], {}, {}
with open(base + ".inter", encoding="utf-8") as f:
    cols = [h.split(":")[0] for h in f.readline().rstrip("\r\n").split("\t")]
    ui, ii, tsi = cols.index("user_id"), cols.index("item_id"), cols.index("timestamp")
    for line in f:
        p = line.rstrip("\r\n").split("\t")
        t = titles[p[ii]]
        c = catalog_index.get(t)
        if c is None:
            c = catalog_index[t] = len(catalog)
            catalog.append(t)
        per_user.setdefault(p[ui], []).append((float(p[tsi]), c))

samples = []
for u, seq in per_user.items():
    seq.sort(key=lambda x: x[0])
    items = [c for _, c in seq]
    for i in range(1, len(seq)):
        samples.append((seq[i][0], u, items[max(0, i - 10):i], items[i]))
samples.sort(key=lambda s: s[0])
n = len(samples)
splits = {"train": samples[:int(n * 0.8)], "valid": samples[int(n * 0.8):int(n * 0.9)], "test": samples[int(n * 0.9):]}

os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "catalog.jsonl"), "w", encoding="utf-8") as f:
    for i, t in enumerate(catalog):
        f.write(json.dumps({"id": i, "title": t}, ensure_ascii=False) + "\n")
for split, rows in splits.items():
    with open(os.path.join(out, f"{split}.jsonl"), "w", encoding="utf-8") as f:
        for ts, u, h, tgt in rows:
            f.write(json.dumps({"user": u, "history": h, "target": tgt, "timestamp": int(ts)}) + "\n")
print(f"python: {len(per_user)} users, {len(catalog)} titles, {n} samples in {time.perf_counter() - t0:.2f} s")
