#!/usr/bin/env python3
"""Check that a lepton checkpoint computes the same logits in PyTorch.

Loads the checkpoint's safetensors weights (parsed here, no safetensors
module needed) into the equivalent torch.nn.Sequential(Linear, act, ...,
Linear), takes N images from the CIFAR-10 test batch, writes them as 32x32
PNG files, classifies them with `lepton predict --output json --logits`,
runs the same pixels through PyTorch with the checkpoint's normalization
((x/255 - mean) / std per channel, planar RGB) and prints the largest
absolute logit difference. Exits 1 when it is not below the tolerance
(1e-4 by default).

Usage:
  python3 scripts/torch_parity.py --checkpoint RUN/checkpoints/best.safetensors \
      [--lepton bin/lepton] [--data DIR] [-n 256] [--tol 1e-4]

The data directory is --data, else $LEPTON_DATA_DIR, else
$XDG_CACHE_HOME/lepton/cifar-10 (~/.cache/lepton/cifar-10), as lepton does.
Needs PyTorch (Debian: apt-get install python3-torch).
"""

import argparse
import json
import os
import re
import shlex
import struct
import subprocess
import sys
import tempfile
import zlib

IMAGE_SIZE = 3072
PLANE = 1024


def read_safetensors(path):
    """Returns ({name: (shape, bytes)}, metadata) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        sys.exit(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        sys.exit(f"{path}: header length {n} is past the end of the file")
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {info['dtype']}, want F32")
        lo, hi = info["data_offsets"]
        tensors[name] = (info["shape"], data[lo:hi])
    return tensors, meta


def model_config(yaml_text):
    """Returns (activation, leaky_slope, bn_eps, bn_momentum) from the stored YAML config."""
    try:
        import yaml  # python3-yaml, when present

        model = (yaml.safe_load(yaml_text) or {}).get("model", {}) or {}
        return (model.get("activation", "relu"), float(model.get("leaky_slope", 0.01)),
                float(model.get("bn_eps", 1e-5)), float(model.get("bn_momentum", 0.1)))
    except ImportError:
        pass
    act = re.search(r"^\s+activation:\s*['\"]?([a-z_]+)", yaml_text, re.M)
    slope = re.search(r"^\s+leaky_slope:\s*([0-9.eE+-]+)", yaml_text, re.M)
    eps = re.search(r"^\s+bn_eps:\s*([0-9.eE+-]+)", yaml_text, re.M)
    mom = re.search(r"^\s+bn_momentum:\s*([0-9.eE+-]+)", yaml_text, re.M)
    return ((act.group(1) if act else "relu"), (float(slope.group(1)) if slope else 0.01),
            (float(eps.group(1)) if eps else 1e-5), (float(mom.group(1)) if mom else 0.1))


def build_torch_model(torch, tensors, activation, slope, bn_eps=1e-5, bn_momentum=0.1):
    """The checkpoint as torch.nn.Sequential(Linear, [BatchNorm1d,] act, ..., Linear)."""
    nn = torch.nn
    acts = {
        "relu": nn.ReLU,
        "tanh": nn.Tanh,
        "sigmoid": nn.Sigmoid,
        "leaky_relu": lambda: nn.LeakyReLU(slope),
    }
    if activation not in acts:
        sys.exit(f"activation {activation!r} is not supported here")
    def tensor(name):
        shape, raw = tensors[name]
        return torch.frombuffer(bytearray(raw), dtype=torch.float32).reshape(shape)

    layers = []
    i = 0
    pending_act = False
    while f"layers.{i}.weight" in tensors:
        wshape, wbytes = tensors[f"layers.{i}.weight"]
        bshape, bbytes = tensors[f"layers.{i}.bias"]
        out_f, in_f = wshape
        lin = nn.Linear(in_f, out_f)
        with torch.no_grad():
            lin.weight.copy_(torch.frombuffer(bytearray(wbytes), dtype=torch.float32).reshape(out_f, in_f))
            lin.bias.copy_(torch.frombuffer(bytearray(bbytes), dtype=torch.float32).reshape(bshape))
        if pending_act:
            layers.append(acts[activation]())
        layers.append(lin)
        if f"layers.{i}.bn.weight" in tensors:  # lepton: Linear -> BatchNorm -> activation
            bn = nn.BatchNorm1d(out_f, eps=bn_eps, momentum=bn_momentum)
            with torch.no_grad():
                bn.weight.copy_(tensor(f"layers.{i}.bn.weight"))
                bn.bias.copy_(tensor(f"layers.{i}.bn.bias"))
                bn.running_mean.copy_(tensor(f"layers.{i}.bn.running_mean"))
                bn.running_var.copy_(tensor(f"layers.{i}.bn.running_var"))
            layers.append(bn)
        pending_act = True
        i += 1
    if not layers:
        sys.exit("checkpoint has no layers.0.weight")
    return nn.Sequential(*layers).eval()


def data_dir(flag):
    d = flag or os.environ.get("LEPTON_DATA_DIR")
    if not d:
        cache = os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache")
        d = os.path.join(cache, "lepton", "cifar-10")
    for cand in (d, os.path.join(d, "cifar-10-batches-bin")):
        if os.path.exists(os.path.join(cand, "test_batch.bin")):
            return cand
    sys.exit(f"no CIFAR-10 test_batch.bin in {d}: run \"lepton data fetch\" or set --data / LEPTON_DATA_DIR")


def write_png(path, chw):
    """Writes a 32x32 RGB PNG from 3072 planar bytes."""
    rows = bytearray()
    for y in range(32):
        rows.append(0)  # filter: none
        for x in range(32):
            p = y * 32 + x
            rows += bytes((chw[p], chw[PLANE + p], chw[2 * PLANE + p]))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 32, 32, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", required=True, help="lepton checkpoint (.safetensors)")
    ap.add_argument("--lepton", default="go run ./cmd/lepton", help="lepton command (default: %(default)s)")
    ap.add_argument("--data", help="CIFAR-10 data directory")
    ap.add_argument("-n", type=int, default=256, help="test images compared (default %(default)s)")
    ap.add_argument("--tol", type=float, default=1e-4, help="largest allowed |logit difference| (default %(default)g)")
    args = ap.parse_args()

    try:
        import torch
    except ImportError:
        sys.exit("PyTorch is not installed: apt-get install python3-torch (Debian) or pip install torch")

    tensors, meta = read_safetensors(args.checkpoint)
    if "model" in meta:  # format 2: the model description
        card = json.loads(meta["model"])
        inp = card["input"]
        if (inp["channels"], inp["height"], inp["width"]) != (3, 32, 32):
            sys.exit(f"{args.checkpoint}: a {inp['height']}x{inp['width']}x{inp['channels']} model; this check compares on CIFAR-10 (32x32x3) test images")
        mean, std = card["normalization"]["mean"], card["normalization"]["std"]
        classes = card["classes"]
        activation, slope, bn_eps, bn_momentum = card["activation"], card["leaky_slope"], card["bn_eps"], 0.1
    else:  # format 1
        mean, std = json.loads(meta["mean"]), json.loads(meta["std"])
        classes = json.loads(meta["classes"])
        activation, slope, bn_eps, bn_momentum = model_config(meta.get("config", ""))
    std = [s if s != 0 else 1.0 for s in std]
    net = build_torch_model(torch, tensors, activation, slope, bn_eps, bn_momentum)

    with open(os.path.join(data_dir(args.data), "test_batch.bin"), "rb") as f:
        raw = f.read((IMAGE_SIZE + 1) * args.n)
    images = [raw[i * (IMAGE_SIZE + 1) + 1 : (i + 1) * (IMAGE_SIZE + 1)] for i in range(len(raw) // (IMAGE_SIZE + 1))]

    with tempfile.TemporaryDirectory(prefix="lepton-parity-") as tmp:
        for i, img in enumerate(images):
            write_png(os.path.join(tmp, f"{i:05d}.png"), img)
        cmd = shlex.split(args.lepton) + ["predict", "--checkpoint", args.checkpoint, "--output", "json", "--logits", "--top-k", "1", tmp]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed ({res.returncode}):\n{res.stderr}")
    lepton = {}
    for line in res.stdout.splitlines():
        r = json.loads(line)
        lepton[int(os.path.basename(r["path"]).split(".")[0])] = r["logits"]
    if len(lepton) != len(images):
        sys.exit(f"lepton classified {len(lepton)} of {len(images)} images")

    x = torch.frombuffer(bytearray(b"".join(images)), dtype=torch.uint8).reshape(len(images), 3, PLANE).float() / 255
    x = (x - torch.tensor(mean, dtype=torch.float32).reshape(1, 3, 1)) / torch.tensor(std, dtype=torch.float32).reshape(1, 3, 1)
    with torch.no_grad():
        ours = net(x.reshape(len(images), IMAGE_SIZE)).double()
    theirs = torch.tensor([lepton[i] for i in range(len(images))], dtype=torch.float64)
    diff = (ours - theirs).abs()
    worst = diff.max().item()
    agree = (ours.argmax(1) == theirs.argmax(1)).float().mean().item()

    sizes = [m.in_features for m in net if isinstance(m, torch.nn.Linear)] + [len(classes)]
    print(f"checkpoint:  {args.checkpoint}")
    print(f"network:     {' -> '.join(map(str, sizes))} ({activation}), torch {torch.__version__}")
    print(f"images:      {len(images)} CIFAR-10 test images as 32x32 PNG")
    print(f"max |logit_torch - logit_lepton| = {worst:.3g} (mean {diff.mean().item():.3g}, tolerance {args.tol:g})")
    print(f"top-1 agreement: {agree:.4f}")
    if not worst < args.tol:
        print("PARITY FAILED", file=sys.stderr)
        return 1
    print("parity OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
