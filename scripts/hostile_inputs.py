#!/usr/bin/env python3
"""hostile_inputs.py: writes the crafted files of issue 10 into a directory.

    scripts/hostile_inputs.py OUT_DIR CHECKPOINT

OUT_DIR receives:
  bomb-1x40000000.png, bomb-40000000x1.png, bomb-16x2500000.png
      PNGs whose IHDR claims those sizes (8-bit grey) and whose IDAT is
      zlib-compressed zero rows: complete, valid images of a few dozen KB.
  sparse-100g.safetensors
      CHECKPOINT extended with a hole to 100 GB (takes no disk space).
  huge-tensor.safetensors
      a digest-valid header declaring one 100 GB tensor, then a hole.
  big-config.safetensors
      CHECKPOINT with 95 MB of YAML comment appended to its stored config,
      both checksums recomputed, so the file is otherwise valid.
  big-config.yaml
      a 40 MB config file: model.hidden with 20 million layers.

Only the Python standard library is used.
"""
import hashlib
import json
import os
import struct
import sys
import zlib


def png_chunk(typ, data):
    crc = zlib.crc32(typ + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + typ + data + struct.pack(">I", crc)


def png_bomb(path, w, h):
    """A valid 8-bit greyscale PNG of w x h black pixels, compressed."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    comp = zlib.compressobj(9)
    row = b"\x00" * (1 + w)  # filter byte none, then w zero samples
    rows_per_chunk = max(1, (1 << 20) // len(row))
    block = row * rows_per_chunk
    idat = bytearray()
    left = h
    while left > 0:
        n = min(left, rows_per_chunk)
        idat += comp.compress(block if n == rows_per_chunk else row * n)
        left -= n
    idat += comp.flush()
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(png_chunk(b"IHDR", ihdr))
        f.write(png_chunk(b"IDAT", bytes(idat)))
        f.write(png_chunk(b"IEND", b""))


def read_safetensors(path):
    with open(path, "rb") as f:
        buf = f.read()
    n = struct.unpack("<Q", buf[:8])[0]
    return json.loads(buf[8 : 8 + n]), buf[8 + n :]


def header_digest(meta, tensors):
    """lepton's header_sha256 (internal/checkpoint/codec.go headerDigest)."""
    h = hashlib.sha256()

    def put_uint(v):
        h.update(struct.pack("<Q", v))

    def put_string(s):
        b = s.encode()
        put_uint(len(b))
        h.update(b)

    put_string("lepton checkpoint header")
    keys = sorted(k for k in meta if k != "header_sha256")
    put_uint(len(keys))
    for k in keys:
        put_string(k)
        put_string(meta[k])
    put_uint(len(tensors))
    for name in sorted(tensors):
        t = tensors[name]
        put_string(name)
        put_string(t["dtype"])
        put_uint(len(t["shape"]))
        for d in t["shape"]:
            put_uint(d)
        put_uint(t["data_offsets"][0])
        put_uint(t["data_offsets"][1])
    return h.hexdigest()


def write_safetensors(path, meta, tensors, data, total_data=None):
    """Writes a checkpoint; with total_data, the data section is a hole."""
    meta = dict(meta)
    if total_data is None:
        meta["data_sha256"] = hashlib.sha256(data).hexdigest()
    meta["header_sha256"] = header_digest(meta, tensors)
    header = dict(tensors)
    header["__metadata__"] = meta
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * (-len(hb) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)) + hb)
        if total_data is None:
            f.write(data)
        else:
            f.truncate(8 + len(hb) + total_data)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[2].strip())
    out, ck = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for w, h in [(1, 40_000_000), (40_000_000, 1), (16, 2_500_000)]:
        png_bomb(os.path.join(out, "bomb-%dx%d.png" % (w, h)), w, h)

    with open(ck, "rb") as f:
        good = f.read()
    sparse = os.path.join(out, "sparse-100g.safetensors")
    with open(sparse, "wb") as f:
        f.write(good)
        f.truncate(100 << 30)

    header, data = read_safetensors(ck)
    meta = header.pop("__metadata__")
    size = 100 << 30
    huge = {"w": {"dtype": "F32", "shape": [size // 4 >> 20, 1 << 20], "data_offsets": [0, size]}}
    # The data checksum is of zeros we never write; any value will do, the
    # reader must refuse the size before it gets there.
    write_safetensors(os.path.join(out, "huge-tensor.safetensors"), meta, huge, b"", total_data=size)

    big = dict(meta)
    big["config"] = meta["config"] + "#" + "x" * (95 << 20) + "\n"
    write_safetensors(os.path.join(out, "big-config.safetensors"), big, header, data)

    with open(os.path.join(out, "big-config.yaml"), "w") as f:
        f.write("model:\n  hidden: [" + ",".join(["1"] * 20_000_000) + "]\n")


if __name__ == "__main__":
    main()
