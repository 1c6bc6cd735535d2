#!/usr/bin/env bash
# hostile-inputs.sh: runs lepton on the crafted inputs of issue 10 (image
# bombs, FIFOs, huge or sparse checkpoints, oversized models and configs,
# symlinked folders) and prints, per case, the exit code, the last stderr
# line, the peak RSS and the wall time. Every command runs under a timeout, so
# a hang shows as "timeout" instead of blocking the script.
#
#   scripts/hostile-inputs.sh            (needs LEPTON_DATA_DIR)
#   LEPTON_BIN=/path/to/lepton scripts/hostile-inputs.sh   (another build)
#   HOSTILE_CHECK=1 scripts/hostile-inputs.sh   (fail unless every case is handled)
#
# The crafted files come from scripts/hostile_inputs.py. Sparse files take no
# disk space. The old behaviour of some cases is to allocate tens of GB and
# die; the kernel refuses those allocations at once on a machine with less
# memory, so they do not swap.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${LEPTON_DATA_DIR:?set LEPTON_DATA_DIR to the CIFAR-10 binary directory}"
export LEPTON_DATA_DIR
timeout=${HOSTILE_TIMEOUT:-60}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=${LEPTON_BIN:-}
if [ -z "$bin" ]; then
  bin=$work/lepton
  go build -o "$bin" ./cmd/lepton || exit 1
fi
failed=0

# run NAME EXPECT CMD...: EXPECT is the exit code the fixed lepton gives.
run() {
  local name=$1 expect=$2
  shift 2
  # TERM, then KILL 5 s later; timeout waits, so time sees lepton's RSS.
  /usr/bin/time -f '%M %e' -o "$work/time" timeout -k 5 "$timeout" "$@" >"$work/out" 2>"$work/err" </dev/null
  local rc=$?
  local rss wall line
  read -r rss wall < <(tail -1 "$work/time")
  # The first fatal error or panic line, else the last line.
  line=$(grep -m1 -E '^(fatal error|panic):' "$work/err" || grep . "$work/err" | tail -1)
  line=${line:0:150}
  case $rc in 124 | 137) line="timeout: killed after ${timeout}s" ;; esac
  printf '%-28s exit %-3s %7s KB %6ss  %s\n' "$name" "$rc" "$rss" "$wall" "$line"
  if [ "$rc" != "$expect" ]; then
    failed=1
  fi
}

echo "== setup: a 1-epoch checkpoint and the crafted files"
"$bin" train --set model.hidden=[32] --epochs 1 --out "$work/run" --quiet >/dev/null || exit 1
ck=$work/run/checkpoints/best.safetensors
in=$work/in
python3 scripts/hostile_inputs.py "$in" "$ck" || exit 1
python3 - "$in/ok.png" <<'EOF'
import struct, sys, zlib
w = h = 40
raw = b"".join(b"\x00" + bytes(v for x in range(w) for v in (x * 6, y * 6, 128)) for y in range(h))
def chunk(t, d): return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
open(sys.argv[1], "wb").write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
EOF
p=(predict --checkpoint "$ck")

echo "== 1. image bombs (each with a good image after it: it must still be classified)"
for b in 1x40000000 40000000x1 16x2500000; do
  run "predict bomb-$b" 1 "$bin" "${p[@]}" "$in/bomb-$b.png" "$in/ok.png"
  grep -q "ok.png" "$work/out" || { echo "   ok.png got no output"; failed=1; }
  mkdir -p "$work/ev-$b/cat"
  cp "$in/bomb-$b.png" "$in/ok.png" "$work/ev-$b/cat/"
  run "eval --images bomb-$b" 3 "$bin" eval --checkpoint "$ck" --images "$work/ev-$b"
done

echo "== 2. FIFOs"
mkdir -p "$work/fifo/runs/r" "$work/fifo/run/checkpoints" "$work/fifo/data"
mkfifo "$work/fifo/img.png" "$work/fifo/ck.safetensors" "$work/fifo/cfg.yaml" \
  "$work/fifo/runs/r/report.json" "$work/fifo/run/metrics.csv" "$work/fifo/data/data_batch_1.bin"
cp "$work/run/config.yaml" "$work/fifo/run/"
cp "$work/run/report.json" "$work/fifo/run/"
for f in data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin batches.meta.txt; do
  ln -s "$LEPTON_DATA_DIR/$f" "$work/fifo/data/$f"
done
run "predict FIFO image" 1 "$bin" "${p[@]}" "$work/fifo/img.png"
run "eval --checkpoint FIFO" 4 "$bin" eval --checkpoint "$work/fifo/ck.safetensors"
run "train --config FIFO" 2 "$bin" train --config "$work/fifo/cfg.yaml" --out "$work/fifo/out"
run "config validate FIFO" 2 "$bin" config validate "$work/fifo/cfg.yaml"
run "runs (FIFO report.json)" 0 "$bin" runs "$work/fifo/runs"
run "report (FIFO metrics.csv)" 1 "$bin" report "$work/fifo/run"
run "data info (FIFO batch)" 3 "$bin" data info --data "$work/fifo/data"

echo "== 4. checkpoints that claim more than they hold"
run "predict sparse 100 GB" 4 "$bin" predict --checkpoint "$in/sparse-100g.safetensors" "$in/ok.png"
run "predict 100 GB tensor" 4 "$bin" predict --checkpoint "$in/huge-tensor.safetensors" "$in/ok.png"
run "predict 95 MB config" 4 "$bin" predict --checkpoint "$in/big-config.safetensors" "$in/ok.png"

echo "== 5. models and configs too large"
run "train hidden=[100000,100000]" 2 "$bin" train --set 'model.hidden=[100000,100000]' --epochs 1 --out "$work/big"
run "train --config 40 MB file" 2 "$bin" train --config "$in/big-config.yaml" --out "$work/big2"
run "config validate 40 MB file" 2 "$bin" config validate "$in/big-config.yaml"

echo "== 11. symlinked directories"
mkdir -p "$work/sym/real/cat" "$work/sym/eval"
cp "$in/ok.png" "$work/sym/real/cat/a.png"
ln -s "$work/sym/real" "$work/sym/link"
ln -s "$work/sym/real/cat" "$work/sym/eval/cat"
ln -s .. "$work/sym/real/cat/loop"
run "predict DIR-symlink" 0 "$bin" "${p[@]}" "$work/sym/link"
grep -q "a.png" "$work/out" || { echo "   found no image through the link"; failed=1; }
run "eval symlinked class" 0 "$bin" eval --checkpoint "$ck" --images "$work/sym/eval"

if [ "${HOSTILE_CHECK:-0}" = 1 ] && [ "$failed" != 0 ]; then
  echo "FAIL: some case did not give the expected result"
  exit 1
fi
