#!/usr/bin/env bash
# kill-resume.sh: kills training with SIGKILL at random moments, resumes it
# each time, and checks that the final checkpoints and metrics are
# bit-identical to an uninterrupted run of the same config.
#
#   scripts/kill-resume.sh [KILLS]        (default 20; needs LEPTON_DATA_DIR)
#
# The config is the reference model (10 epochs) with a checkpoint every 10
# steps, so a kill loses at most 10 steps of work.
#
# Each kill comes at a random moment 0-1 s after the process said it
# started training (its "training ..." or "resuming at epoch ..." line on
# stderr), not after it was launched: on a slow or loaded machine, where
# loading the data takes longer, the kills still land in the training loop
# and every round still makes progress. A process killed before its run
# directory existed is started again with the original command, as a user
# would; one killed later is resumed.
set -euo pipefail
cd "$(dirname "$0")/.."
kills=${1:-20}
: "${LEPTON_DATA_DIR:?set LEPTON_DATA_DIR to the CIFAR-10 binary directory}"
export LEPTON_DATA_DIR
bin=$(mktemp -d)/lepton
go build -o "$bin" ./cmd/lepton
work=$(mktemp -d)
trap 'rm -rf "$work" "$(dirname "$bin")"' EXIT
sets=(--config configs/mlp.yaml --epochs 10 --set train.checkpoint_every=10)

strip_seconds() { sed 's/,[^,]*$//' "$1"; }

echo "reference: uninterrupted run"
start=$(date +%s.%N)
"$bin" train "${sets[@]}" --quiet --out "$work/ref" >/dev/null
awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "reference run took %.1fs\n", b - a }'

# launch starts training in the background: a resume when the run
# directory exists, else the original command. stderr goes to $work/err.
launch() {
  : >"$work/err"
  if [ -e "$work/run/config.yaml" ]; then
    "$bin" train --resume "$work/run" >/dev/null 2>"$work/err" &
  else
    "$bin" train "${sets[@]}" --out "$work/run" >/dev/null 2>"$work/err" &
  fi
  pid=$!
}

# started waits until the process announces training (or exits); it fails
# after 300 s.
started() {
  local i
  for i in $(seq 1 3000); do
    grep -qE '^(training|resuming at epoch)' "$work/err" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "no training started within 300 s:"; cat "$work/err"; return 1
}

echo "killed run: SIGKILL at $kills random moments after training starts, resuming each time"
RANDOM=42
launch
for i in $(seq 1 "$kills"); do
  started
  delay=$(awk -v r=$((RANDOM % 1000)) 'BEGIN { printf "%.3f", r / 1000 }')
  sleep "$delay"
  if kill -0 "$pid" 2>/dev/null; then
    kill -9 "$pid"
    wait "$pid" 2>/dev/null || true
    step=$(head -c 65536 "$work/run/checkpoints/last.safetensors" 2>/dev/null | grep -ao '"step": *"[0-9]*"' | head -1 | grep -o '[0-9]*' || true)
    printf 'kill %2d %.3fs into training: last checkpoint at step %s\n' "$i" "$delay" "${step:-none}"
  else
    wait "$pid" || { echo "training failed:"; cat "$work/err"; exit 1; }
    printf 'kill %2d: training had already finished\n' "$i"
  fi
  launch
done
wait "$pid" || { echo "final resume failed:"; cat "$work/err"; exit 1; }
echo "final resume finished: $(grep -o '"status": "[a-z]*"' "$work/run/report.json")"

status=0
for f in checkpoints/last.safetensors checkpoints/best.safetensors; do
  if cmp -s "$work/ref/$f" "$work/run/$f"; then
    echo "identical: $f ($(sha256sum "$work/run/$f" | cut -c1-16))"
  else
    echo "DIFFERENT: $f"; status=1
  fi
done
if diff <(strip_seconds "$work/ref/metrics.csv") <(strip_seconds "$work/run/metrics.csv") >/dev/null; then
  echo "identical: metrics.csv (all columns but wall-clock seconds)"
else
  echo "DIFFERENT: metrics.csv"; status=1
fi
exit $status
