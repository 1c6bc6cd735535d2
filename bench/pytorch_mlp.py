#!/usr/bin/env python3
"""PyTorch reference for lepton's speed benchmark.

Trains the same MLP as configs/mlp.yaml (3072-128-64-32-16-10, ReLU, softmax
cross-entropy, Adam lr 1e-3, batch 128) on the same 40,000 training images
(CIFAR-10 binary files, 20% held out) and prints one JSON line per epoch with
the seconds of the training loop and the images per second, then the test
accuracy. Needs Debian's python3-torch (1.13).

    /usr/bin/python3 bench/pytorch_mlp.py --data DIR --threads 1 --epochs 2
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn


def load(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    return raw[:, 1:].astype(np.float32) / 255.0, raw[:, 0].astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("LEPTON_DATA_DIR"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)

    xs, ys = zip(*(load(os.path.join(args.data, f"data_batch_{i}.bin")) for i in range(1, 6)))
    x, y = np.concatenate(xs), np.concatenate(ys)
    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(len(x))
    n_val = len(x) // 5
    xtr, ytr = x[perm[n_val:]], y[perm[n_val:]]
    mean = xtr.reshape(-1, 3, 1024).mean(axis=(0, 2))
    std = xtr.reshape(-1, 3, 1024).std(axis=(0, 2))
    norm = lambda a: ((a.reshape(-1, 3, 1024) - mean[None, :, None]) / std[None, :, None]).reshape(-1, 3072)
    xtr = torch.from_numpy(norm(xtr).astype(np.float32))
    ytr = torch.from_numpy(ytr)
    xte, yte = load(os.path.join(args.data, "test_batch.bin"))
    xte = torch.from_numpy(norm(xte).astype(np.float32))
    yte = torch.from_numpy(yte)

    sizes = [3072, 128, 64, 32, 16, 10]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    batch = 128
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(xtr))
        start = time.perf_counter()
        model.train()
        total = 0.0
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        secs = time.perf_counter() - start
        print(json.dumps({"side": "pytorch", "epoch": epoch, "threads": args.threads, "seconds": secs,
                          "images": len(xtr), "images_per_second": len(xtr) / secs,
                          "train_loss": total / len(xtr)}), flush=True)
    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    print(json.dumps({"side": "pytorch", "test_accuracy": acc}), flush=True)


if __name__ == "__main__":
    main()
