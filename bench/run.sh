#!/usr/bin/env bash
# bench/run.sh: lepton against PyTorch on the same model, data, kernel
# class and thread count, training steps only.
#
#   bench/run.sh [ROUNDS]      (needs LEPTON_DATA_DIR; ROUNDS defaults to 3)
#
# Settings (environment, comma-separated lists):
#   MODELS=mlp,best     configs/mlp.yaml (3072-128-64-32-16-10, Adam, batch
#                       128, 40,000 training images) and configs/best.yaml's
#                       model (3072-1024-512-256-10, batch norm, dropout,
#                       AdamW, flip+crop augmentation, batch 256) trained on
#                       BEST_TRAIN_SPLIT's subset (data.val_split=0.7: 15,000
#                       training images, so a run takes ~15 s per side; the
#                       per-image work is that of the full run)
#   KERNELS=avx512,avx2 avx512: lepton LEPTON_KERNEL=avx512 against PyTorch's
#                       AVX-512 paths (TORCH_AVX512_ENV, default
#                       ATEN_CPU_CAPABILITY=avx512 OPENBLAS_CORETYPE=SkylakeX:
#                       PyTorch 1.13 picks AVX2 by itself and OpenBLAS 0.3.21
#                       does not know Zen 5; empty: their own choice); avx2: LEPTON_KERNEL=avx2
#                       against ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell
#                       (TORCH_AVX2_ENV). Without AVX-512 the avx512 rows are
#                       reported as not available.
#   THREADS=1,2         lepton --threads N; PyTorch torch.set_num_threads(N)
#                       with OPENBLAS_NUM_THREADS=1 (its fastest setting)
#   ROUNDS=3            rounds per row; each round runs lepton, then PyTorch
#   LOCK=               command prefix of every timed process, e.g.
#                       "flock /tmp/lepton-bench.lock" on a shared machine
#
# Each run trains 2 epochs; the time kept is epoch 2's training loop
# (lepton: history[1].train_seconds of report.json, validation excluded;
# PyTorch: its epoch-2 loop), the median over the rounds. Each row prints
# the CPU model, the kernel lepton used (report.json) and PyTorch's ATen
# capability and OpenBLAS core (as the process reports them), s/epoch,
# images/s, peak RSS and the ratio lepton/PyTorch of seconds per training
# image (goal <= 0.8); then each side's 2-thread speedup (goal for lepton
# >= 1.7x), and a summary table at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${1:-${ROUNDS:-3}}
MODELS=${MODELS:-mlp,best}
KERNELS=${KERNELS:-avx512,avx2}
THREADS=${THREADS:-1,2}
BEST_TRAIN_SPLIT=${BEST_TRAIN_SPLIT:-0.7}
TORCH_AVX512_ENV=${TORCH_AVX512_ENV-ATEN_CPU_CAPABILITY=avx512 OPENBLAS_CORETYPE=SkylakeX}
TORCH_AVX2_ENV=${TORCH_AVX2_ENV:-ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell}
read -r -a lock <<< "${LOCK:-}"
: "${LEPTON_DATA_DIR:?set LEPTON_DATA_DIR to the CIFAR-10 binary directory}"
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "bench: PyTorch is missing; install it with: apt-get install -y python3-torch" >&2
  exit 1
fi
cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
cpu=${cpu:-unknown CPU}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bin=$tmp/lepton
go build -o "$bin" ./cmd/lepton
# Keep every library to the thread count under test.
export OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
start=$(date +%s)

# rss_run CMD...: runs CMD (under LOCK), appends its peak RSS in MB to $tmp/rss.out.
rss_run() {
  ${lock[@]+"${lock[@]}"} /usr/bin/time -f '%M' -o "$tmp/rss" "$@"
  awk '{ printf "%.0f\n", $1 / 1024 }' "$tmp/rss" >> "$tmp/rss.out"
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# json FILE EXPR: evaluates the Python expression EXPR over r, the JSON in FILE.
json() { "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

: > "$tmp/summary"
for model in ${MODELS//,/ }; do
  case $model in
    mlp) sets=(); torch_args=() ;;
    best) sets=(--set "data.val_split=$BEST_TRAIN_SPLIT"); torch_args=(--val-split "$BEST_TRAIN_SPLIT") ;;
    *) echo "bench: unknown model $model (want mlp or best)" >&2; exit 2 ;;
  esac
  for kernel in ${KERNELS//,/ }; do
    case $kernel in
      avx512) torch_env=$TORCH_AVX512_ENV ;;
      avx2) torch_env=$TORCH_AVX2_ENV ;;
      *) echo "bench: unknown kernel $kernel (want avx512 or avx2)" >&2; exit 2 ;;
    esac
    if ! LEPTON_KERNEL=$kernel "$bin" version >/dev/null 2>"$tmp/err"; then
      for threads in ${THREADS//,/ }; do
        printf '[%s] %s kernel=%s threads=%s: not available (%s)\n' "$cpu" "$model" "$kernel" "$threads" "$(head -1 "$tmp/err")"
        printf '%s %s %s n/a\n' "$model" "$kernel" "$threads" >> "$tmp/summary"
      done
      continue
    fi
    for threads in ${THREADS//,/ }; do
      for f in lepton.sec lepton.rss torch.sec torch.rss; do : > "$tmp/$f"; done
      for r in $(seq 1 "$ROUNDS"); do
        rm -rf "$tmp/run" "$tmp/rss.out"
        rss_run env LEPTON_KERNEL="$kernel" OMP_NUM_THREADS="$threads" "$bin" train --config "configs/$model.yaml" \
          --epochs 2 --threads "$threads" ${sets[@]+"${sets[@]}"} --set train.checkpoint_every=0 \
          --out "$tmp/run" --quiet >/dev/null
        cat "$tmp/rss.out" >> "$tmp/lepton.rss"; rm -f "$tmp/rss.out"
        json "$tmp/run/report.json" 'r["history"][1]["train_seconds"]' >> "$tmp/lepton.sec"
        lk=$(json "$tmp/run/report.json" 'r.get("kernel", "?")')
        ln=$(json "$tmp/run/report.json" 'r["train_images"]')
        # shellcheck disable=SC2086 # torch_env is a list of VAR=value words
        rss_run env $torch_env OMP_NUM_THREADS="$threads" "$PY" bench/pytorch_mlp.py --data "$LEPTON_DATA_DIR" \
          --model "$model" --threads "$threads" --epochs 2 ${torch_args[@]+"${torch_args[@]}"} > "$tmp/torch.out"
        cat "$tmp/rss.out" >> "$tmp/torch.rss"
        grep '"epoch": 2' "$tmp/torch.out" > "$tmp/torch.e2"
        head -1 "$tmp/torch.out" > "$tmp/torch.info"
        json "$tmp/torch.e2" 'r["seconds"]' >> "$tmp/torch.sec"
        tn=$(json "$tmp/torch.e2" 'r["images"]')
        tk=$(json "$tmp/torch.info" 'r["capability"] + "/OpenBLAS " + r["openblas_core"]')
        printf '[%s] %s kernel=%s threads=%d round %d: lepton %.3fs (%s)  pytorch %.3fs (%s)\n' "$cpu" "$model" "$kernel" \
          "$threads" "$r" "$(tail -1 "$tmp/lepton.sec")" "$lk" "$(tail -1 "$tmp/torch.sec")" "$tk"
      done
      ls=$(median < "$tmp/lepton.sec"); ts=$(median < "$tmp/torch.sec")
      lr=$(median < "$tmp/lepton.rss"); tr=$(median < "$tmp/torch.rss")
      printf '%s %s %s %s %s %s %s %s %s %s %s\n' "$model" "$kernel" "$threads" "$ls" "$ts" "$ln" "$tn" "$lr" "$tr" "$lk" "${tk// /_}" >> "$tmp/summary"
      awk -v cpu="$cpu" -v m="$model" -v k="$kernel" -v t="$threads" -v ls="$ls" -v ts="$ts" -v ln="$ln" -v tn="$tn" \
        -v lr="$lr" -v tr="$tr" -v lk="$lk" -v tk="$tk" 'BEGIN {
        printf "[%s] %s kernel=%s threads=%d lepton  (%s): %7.3f s/epoch %7.0f images/s  peak RSS %5d MB\n", cpu, m, k, t, lk, ls, ln / ls, lr
        printf "[%s] %s kernel=%s threads=%d pytorch (%s): %7.3f s/epoch %7.0f images/s  peak RSS %5d MB\n", cpu, m, k, t, tk, ts, tn / ts, tr
        printf "[%s] %s kernel=%s threads=%d lepton/pytorch seconds per training image: %.3f (goal <= 0.8)\n", cpu, m, k, t, (ls / ln) / (ts / tn)
      }'
    done
  done
done

# The 2-thread speedup of each side (1-thread over 2-thread seconds per
# image), and the summary table.
awk -v cpu="$cpu" '
  $4 == "n/a" { na[$1 " " $2] = 1; next }
  { key = $1 " " $2; s[key, $3] = $4; p[key, $3] = $5; if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
  END {
    for (i = 1; i <= n; i++) {
      k = order[i]
      split(k, mk, " ")
      if ((k, 1) in s && (k, 2) in s)
        printf "[%s] %s kernel=%s 2-thread speedup: lepton %.2fx (goal >= 1.7x), pytorch %.2fx\n", cpu, mk[1], mk[2], s[k, 1] / s[k, 2], p[k, 1] / p[k, 2]
    }
  }' "$tmp/summary"
echo
echo "Summary ($cpu; training steps only, epoch 2, median of $ROUNDS rounds; $(( $(date +%s) - start )) s in all):"
echo
echo "| model | kernel | threads | lepton kernel | PyTorch capability/OpenBLAS core | lepton s/epoch | PyTorch s/epoch | lepton images/s | PyTorch images/s | lepton RSS MB | PyTorch RSS MB | lepton/PyTorch s per image |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
awk '
  $4 == "n/a" { printf "| %s | %s | %s | not available on this CPU | | | | | | | | |\n", $1, $2, $3; next }
  { tk = $11; gsub("_", " ", tk)
    printf "| %s | %s | %s | %s | %s | %.3f | %.3f | %.0f | %.0f | %d | %d | %.3f |\n", $1, $2, $3, $10, tk, $4, $5, $6 / $4, $7 / $5, $8, $9, ($4 / $6) / ($5 / $7) }' "$tmp/summary"
