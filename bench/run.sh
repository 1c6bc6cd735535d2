#!/usr/bin/env bash
# bench/run.sh: lepton against PyTorch on the same MLP, data and thread count.
#
#   bench/run.sh [ROUNDS]      (default 3; needs LEPTON_DATA_DIR)
#
# For threads=1 and threads=2, runs lepton and the PyTorch reference
# (bench/pytorch_mlp.py, Debian's python3-torch) alternately, ROUNDS times
# each, training configs/mlp.yaml (3072-128-64-32-16-10, ReLU, Adam, batch
# 128) on the same 40,000 training images for 2 epochs. It takes the second
# epoch's training time (first-epoch warm-up excluded), and prints per side
# the median seconds per epoch, images per second and peak RSS, and the
# ratio of seconds per training image lepton/PyTorch (goal: <= 0.8).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
: "${LEPTON_DATA_DIR:?set LEPTON_DATA_DIR to the CIFAR-10 binary directory}"
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "bench: PyTorch is missing; install it with: apt-get install -y python3-torch" >&2
  exit 1
fi
bin=$(mktemp -d)/lepton
go build -o "$bin" ./cmd/lepton
work=$(mktemp -d)
trap 'rm -rf "$work" "$(dirname "$bin")"' EXIT
# Keep every library to the thread count under test.
export OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

# rss_run CMD...: runs CMD, prints its peak RSS in MB to fd 3.
rss_run() { /usr/bin/time -f '%M' -o "$work/rss" "$@"; awk '{ printf "%.0f\n", $1 / 1024 }' "$work/rss" >&3; }

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

for threads in 1 2; do
  : > "$work/lepton.sec"; : > "$work/lepton.rss"; : > "$work/torch.sec"; : > "$work/torch.rss"
  for r in $(seq 1 "$rounds"); do
    rm -rf "$work/run"
    OMP_NUM_THREADS=$threads rss_run "$bin" train --config configs/mlp.yaml --epochs 2 --threads "$threads" \
      --set train.checkpoint_every=0 --out "$work/run" --quiet >/dev/null 3>>"$work/lepton.rss"
    # Training seconds of epoch 2, from report.json (validation excluded).
    "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["history"][1]["train_seconds"])' "$work/run/report.json" >> "$work/lepton.sec"
    OMP_NUM_THREADS=$threads rss_run "$PY" bench/pytorch_mlp.py --data "$LEPTON_DATA_DIR" --threads "$threads" --epochs 2 \
      > "$work/torch.out" 3>>"$work/torch.rss"
    "$PY" -c 'import json,sys; print([json.loads(l) for l in open(sys.argv[1]) if "epoch" in l][1]["seconds"])' "$work/torch.out" >> "$work/torch.sec"
    printf 'threads=%d round %d: lepton %.2fs  pytorch %.2fs\n' "$threads" "$r" "$(tail -1 "$work/lepton.sec")" "$(tail -1 "$work/torch.sec")"
  done
  ls=$(median < "$work/lepton.sec"); ts=$(median < "$work/torch.sec")
  lr=$(median < "$work/lepton.rss"); tr=$(median < "$work/torch.rss")
  awk -v t="$threads" -v ls="$ls" -v ts="$ts" -v lr="$lr" -v tr="$tr" -v n=40000 'BEGIN {
    printf "threads=%d  lepton : %6.2f s/epoch  %7.0f images/s  peak RSS %5d MB\n", t, ls, n / ls, lr
    printf "threads=%d  pytorch: %6.2f s/epoch  %7.0f images/s  peak RSS %5d MB\n", t, ts, n / ts, tr
    printf "threads=%d  lepton/pytorch seconds per training image: %.3f (goal <= 0.8)\n", t, ls / ts
  }'
done
