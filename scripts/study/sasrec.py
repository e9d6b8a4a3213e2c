#!/usr/bin/env python3
"""SASRec (Kang & McAuley, ICDM 2018) as the classic anchor of an llmrec study.

Run by hand, like the fixture scripts (never by CI). It trains a plain PyTorch SASRec on the
study's prepared dataset -- the *whole* training split, every window, as a classic sequential
recommender is trained -- chooses its epoch by NDCG@10 on validation windows, and ranks the
whole catalog for the study's test windows (the same draw every arm is evaluated on), history
items excluded. It writes DIR/results/sasrec/full-ranking.{json,tsv} in the format `llmrec
study run` writes, so `llmrec report` shows its row and compares it like any other.

Model: causal self-attention over the history (at most the dataset's history length), learned
positions, pre-norm blocks, the item embeddings shared with the output layer; trained with
cross-entropy over all items on each window's next item (SASRec's sampled BCE is weaker on
MovieLens; CE over the catalog is the common stronger variant).

usage: scripts/study/sasrec.py DIR --runs RUNS [--epochs 30] [--seed 1] [--threads N] [--device cuda]
  needs torch (scripts/fixtures/requirements.txt: torch==2.15.0, numpy)
On a GPU (--device cuda) an epoch takes seconds instead of CPU minutes; the state saved after
each epoch moves between devices, and the results record the device.
It saves its state after every epoch in RUNS/sasrec/ and continues from there when run again,
so it can be spread over several sittings like the study's arms.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


class SASRec(nn.Module):
    def __init__(self, items, length, hidden=64, heads=2, layers=2, dropout=0.2):
        super().__init__()
        self.items = items
        self.item = nn.Embedding(items + 1, hidden, padding_idx=items)  # the last id pads
        self.position = nn.Embedding(length, hidden)
        self.dropout = nn.Dropout(dropout)
        block = nn.TransformerEncoderLayer(hidden, heads, dim_feedforward=hidden, dropout=dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(hidden)
        self.length = length
        # Small initial weights (as BERT and GPT do): the item table is also the output layer,
        # and nn.Embedding's N(0, 1) would start every logit far from uniform.
        nn.init.normal_(self.item.weight, std=0.02)
        nn.init.normal_(self.position.weight, std=0.02)

    def forward(self, history):
        """history: (B, L) item ids, left-padded with `items`; returns (B, items) scores."""
        B, L = history.shape
        x = self.item(history) * math.sqrt(self.item.embedding_dim)
        x = x + self.position(torch.arange(L, device=history.device))[None]
        x = self.dropout(x)
        causal = torch.triu(torch.ones(L, L, dtype=torch.bool, device=history.device), 1)
        pad = history == self.items
        # A window always ends with a real item (histories are not empty), so the last
        # position never attends to padding only.
        h = self.encoder(x, mask=causal, src_key_padding_mask=pad)
        last = self.norm(h[:, -1])
        return last @ self.item.weight[: self.items].T


def batch_histories(samples, items, length):
    out = np.full((len(samples), length), items, dtype=np.int64)
    for i, s in enumerate(samples):
        h = s["history"][-length:]
        if h:
            out[i, length - len(h):] = h
    return torch.from_numpy(out)


def rank(model, samples, items, length, k, batch=512):
    """Top-k catalog ids per sample, history items excluded."""
    model.eval()
    out = []
    with torch.no_grad():
        for start in range(0, len(samples), batch):
            chunk = samples[start:start + batch]
            scores = model(batch_histories(chunk, items, length).to(device(model)))
            for i, s in enumerate(chunk):
                if s["history"]:
                    scores[i, s["history"]] = -float("inf")
            out += scores.topk(k, dim=1).indices.tolist()
    return out


def device(model):
    return next(model.parameters()).device


def device_name(d):
    return torch.cuda.get_device_name(0) if str(d).startswith("cuda") else "cpu"


def ndcg_at(ranked, targets, k):
    total = 0.0
    for r, t in zip(ranked, targets):
        if t in r[:k]:
            total += 1 / math.log2(r.index(t) + 2)
    return total / max(len(targets), 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("study", help="the study directory (plan.json, results/)")
    ap.add_argument("--runs", required=True, help="the study's runs directory (holds data/, the prepared dataset)")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--patience", type=int, default=3, help="epochs without a better validation NDCG@10 before stopping")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--valid-windows", type=int, default=5000, help="validation windows for choosing the epoch")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", help="cpu or cuda (the results record which)")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(args.seed)

    data = os.path.join(args.runs, "data")
    catalog = read_jsonl(os.path.join(data, "catalog.jsonl"))
    items = len(catalog)
    manifest = json.load(open(os.path.join(data, "dataset.json")))
    length = manifest["options"]["historyLength"]
    train = [s for s in read_jsonl(os.path.join(data, "train.jsonl")) if s["history"]]
    valid_all = read_jsonl(os.path.join(data, "valid.jsonl"))
    test_all = read_jsonl(os.path.join(data, "test.jsonl"))
    draw = json.load(open(os.path.join(args.study, "results", "samples.json")))
    test = [test_all[i] for i in draw["test"]]
    valid_pick = rng.choice(len(valid_all), size=min(args.valid_windows, len(valid_all)), replace=False)
    valid = [valid_all[i] for i in valid_pick if valid_all[i]["history"]]
    print(f"SASRec: {items} items, history {length}, {len(train)} training windows, {len(valid)} validation, {len(test)} test", flush=True)

    model = SASRec(items, length).to(args.device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    histories = batch_histories(train, items, length).to(args.device)
    targets = torch.tensor([s["target"] for s in train]).to(args.device)
    best, best_state, best_epoch, waited = -1.0, None, 0, 0
    state_dir = os.path.join(args.runs, "sasrec")
    state_file = os.path.join(state_dir, "state.pt")
    first, spent = 1, 0.0
    if os.path.exists(state_file):
        st = torch.load(state_file, weights_only=False, map_location=args.device)
        model.load_state_dict(st["model"])
        opt.load_state_dict(st["optimizer"])
        torch.set_rng_state(st["torch_rng"].cpu())
        rng.bit_generator.state = st["numpy_rng"]
        best, best_state, best_epoch, waited = st["best"], st["best_state"], st["best_epoch"], st["waited"]
        first, spent = st["epoch"] + 1, st["seconds"]
        print(f"resuming after epoch {st['epoch']} (best {best:.4f} at epoch {best_epoch})", flush=True)
    start = time.time() - spent
    epoch = first - 1
    for epoch in range(first, args.epochs + 1):
        if waited >= args.patience:
            epoch -= 1
            break
        model.train()
        order = torch.from_numpy(rng.permutation(len(train))).to(args.device)
        total = 0.0
        for b in range(0, len(train), args.batch):
            idx = order[b:b + args.batch]
            loss = F.cross_entropy(model(histories[idx]), targets[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        score = ndcg_at(rank(model, valid, items, length, 10), [s["target"] for s in valid], 10)
        print(f"epoch {epoch}: train loss {total / len(train):.4f}, valid NDCG@10 {score:.4f} ({time.time() - start:.0f} s)", flush=True)
        if score > best:
            best, best_epoch, waited = score, epoch, 0
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
        else:
            waited += 1
        os.makedirs(state_dir, exist_ok=True)
        torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "torch_rng": torch.get_rng_state(),
                    "numpy_rng": rng.bit_generator.state, "best": best, "best_state": best_state, "best_epoch": best_epoch,
                    "waited": waited, "epoch": epoch, "seconds": time.time() - start}, state_file + ".tmp")
        os.replace(state_file + ".tmp", state_file)
        if waited >= args.patience:
            break
    train_seconds = time.time() - start
    model.load_state_dict(best_state)
    t0 = time.time()
    ranked = rank(model, test, items, length, 20)
    seconds = time.time() - t0

    out = os.path.join(args.study, "results", "sasrec")
    os.makedirs(out, exist_ok=True)
    lines = ["position\ttarget\trank\titems"]
    ranks = []
    for i, (r, s) in enumerate(zip(ranked, test)):
        rk = r.index(s["target"]) if s["target"] in r else -1
        ranks.append(rk)
        lines.append(f"{i}\t{s['target']}\t{rk}\t{' '.join(map(str, r))}")
    metrics = {}
    for k in (1, 3, 5, 10, 20):
        metrics[f"hr@{k}"] = sum(1 for r in ranks if 0 <= r < k) / len(ranks)
        metrics[f"ndcg@{k}"] = sum(1 / math.log2(r + 2) for r in ranks if 0 <= r < k) / len(ranks)
    record = {
        "arm": "sasrec", "beams": 0, "samples": len(test), "metrics": metrics, "valid_share": 1.0, "full_list_share": 1.0,
        "seconds": seconds, "dropped_histories": 0,
        "decoder": {"name": "full-ranking", "igd_alpha": 0.0, "mask_softmax": False, "length_penalty": 0.0},
        "training": {"epochs_run": epoch, "best_epoch": best_epoch, "valid_ndcg10": best, "seconds": train_seconds,
                     "hidden": 64, "heads": 2, "layers": 2, "dropout": 0.2, "lr": args.lr, "batch": args.batch,
                     "seed": args.seed, "torch": torch.__version__, "device": device_name(args.device)},
    }
    if args.device != "cpu":
        record["device"] = device_name(args.device)  # as `llmrec study run --device cuda` records a GPU
    for name, text in (("full-ranking.tsv", "\n".join(lines) + "\n"), ("full-ranking.json", json.dumps(record, indent=2, sort_keys=True) + "\n")):
        tmp = os.path.join(out, f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, os.path.join(out, name))
    print(f"SASRec test: NDCG@10 {metrics['ndcg@10']:.4f}, HR@10 {metrics['hr@10']:.4f} (best epoch {best_epoch}); wrote {out}")


if __name__ == "__main__":
    sys.exit(main())
