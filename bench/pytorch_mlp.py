#!/usr/bin/env python3
"""PyTorch reference for lepton's speed benchmark (bench/run.sh).

Trains the same model as lepton, on the same CIFAR-10 binary files, and
prints one JSON line describing the run (PyTorch version, ATen CPU
capability, OpenBLAS core and configuration), one per epoch with the
seconds of the training loop and the images per second, then the test
accuracy. Needs Debian's python3-torch (1.13) on OpenBLAS.

--model mlp: configs/mlp.yaml, 3072-128-64-32-16-10, ReLU, softmax
  cross-entropy, Adam lr 1e-3, batch 128, 20% held out; the training set is
  normalized once up front.
--model best: configs/best.yaml's model, 3072-1024-512-256-10 with
  Linear -> BatchNorm1d -> ReLU -> Dropout([0.1, 0.1, 0]), label smoothing
  0.1, AdamW lr 2e-3 with weight decay 0.05 on the weights only, batch 256,
  and lepton's augmentation of every training image in every batch: a
  random horizontal flip and a random 32x32 crop of the image zero-padded by
  4 pixels, on the uint8 pixels, then normalization (the work lepton's
  loader does per batch). The learning-rate schedule is left out (it costs
  nothing per image). --val-split sets the held-out share (bench/run.sh
  trains on a subset this way).

    /usr/bin/python3 bench/pytorch_mlp.py --data DIR --threads 1 --epochs 2 [--model best --val-split 0.7]
"""
import argparse
import ctypes
import json
import os
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F


def load(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, 3073)
    return raw[:, 1:], raw[:, 0].astype(np.int64)


def capability():
    """The ATen CPU capability in use (torch >= 2.0 has an API; 1.13 says it in its config)."""
    cpu = getattr(torch.backends, "cpu", None)
    if cpu is not None and hasattr(cpu, "get_cpu_capability"):
        return cpu.get_cpu_capability()
    for line in torch.__config__.show().splitlines():
        if "CPU capability usage:" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def openblas():
    """The OpenBLAS core type and configuration in this process, from the loaded library."""
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            lib = ctypes.CDLL(name)
            core, conf = lib.openblas_get_corename, lib.openblas_get_config
        except (OSError, AttributeError):
            continue
        core.restype = conf.restype = ctypes.c_char_p
        return core().decode(), conf().decode()
    return "not OpenBLAS", ""


def build(name):
    if name == "mlp":
        sizes, bn, drop = [3072, 128, 64, 32, 16, 10], False, []
    else:
        sizes, bn, drop = [3072, 1024, 512, 256, 10], True, [0.1, 0.1, 0.0]
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            if bn:
                layers.append(nn.BatchNorm1d(sizes[i + 1]))
            layers.append(nn.ReLU())
            if i < len(drop) and drop[i] > 0:
                layers.append(nn.Dropout(drop[i]))
    return nn.Sequential(*layers)


def augment(xb, pad=4):
    """lepton's flip + crop of a uint8 batch (B, 3, 32, 32): each image is
    mirrored with probability 1/2, then cropped at a random offset of the
    image zero-padded by pad pixels."""
    b, _, h, w = xb.shape
    flip = torch.rand(b) < 0.5
    xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
    padded = F.pad(xb, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,))
    dx = torch.randint(0, 2 * pad + 1, (b,))
    rows = (dy[:, None] + torch.arange(h))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w))[:, None, None, :]
    return padded[torch.arange(b)[:, None, None, None], torch.arange(3)[None, :, None, None], rows, cols]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.environ.get("LEPTON_DATA_DIR"))
    ap.add_argument("--model", choices=["mlp", "best"], default="mlp")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--val-split", type=float, default=None, help="held-out share (default: the config's)")
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    core, conf = openblas()
    print(json.dumps({"side": "pytorch", "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "capability": capability(), "openblas_core": core, "openblas_config": conf}), flush=True)

    best = args.model == "best"
    val_split = args.val_split if args.val_split is not None else (0.1 if best else 0.2)
    xs, ys = zip(*(load(os.path.join(args.data, f"data_batch_{i}.bin")) for i in range(1, 6)))
    x, y = np.concatenate(xs), np.concatenate(ys)
    rng = np.random.default_rng(args.seed)
    perm = rng.permutation(len(x))
    n_val = int(len(x) * val_split)
    xtr, ytr = x[perm[n_val:]], torch.from_numpy(y[perm[n_val:]])
    planes = xtr.reshape(-1, 3, 1024).astype(np.float32) / 255.0
    mean, std = planes.mean(axis=(0, 2)), planes.std(axis=(0, 2))
    del planes
    mean_t = torch.from_numpy(mean.astype(np.float32))[None, :, None, None]
    std_t = torch.from_numpy(std.astype(np.float32))[None, :, None, None]

    def norm(u8):  # uint8 (B, 3, 32, 32) tensor -> normalized float (B, 3072)
        return ((u8.float() / 255.0 - mean_t) / std_t).reshape(len(u8), 3072)

    xte, yte = load(os.path.join(args.data, "test_batch.bin"))
    xte, yte = norm(torch.from_numpy(xte).reshape(-1, 3, 32, 32)), torch.from_numpy(yte)
    if best:
        xtr = torch.from_numpy(xtr).reshape(-1, 3, 32, 32)  # uint8, normalized per batch
        batch = 256
    else:
        xtr = norm(torch.from_numpy(xtr).reshape(-1, 3, 32, 32))  # normalized once
        batch = 128

    model = build(args.model)
    if best:
        decay = [p for n, p in model.named_parameters() if p.dim() > 1]
        no_decay = [p for n, p in model.named_parameters() if p.dim() <= 1]
        opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.05},
                                 {"params": no_decay, "weight_decay": 0.0}], lr=2e-3)
        loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = nn.CrossEntropyLoss()
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(xtr))
        start = time.perf_counter()
        model.train()
        total = 0.0
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            if best and len(idx) < 2:
                continue  # batch statistics of one example are undefined (lepton skips it too)
            xb = norm(augment(xtr[idx])) if best else xtr[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), ytr[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        secs = time.perf_counter() - start
        print(json.dumps({"side": "pytorch", "model": args.model, "epoch": epoch, "threads": args.threads,
                          "seconds": secs, "images": len(xtr), "images_per_second": len(xtr) / secs,
                          "train_loss": total / len(xtr)}), flush=True)
    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    print(json.dumps({"side": "pytorch", "test_accuracy": acc}), flush=True)


if __name__ == "__main__":
    main()
