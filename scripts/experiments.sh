#!/usr/bin/env bash
# experiments.sh: trains configs/mlp.yaml, configs/best.yaml and ablations
# of best.yaml (one training control removed at a time) into experiments/,
# then writes docs/results.md from the runs' report.json files with
# "lepton runs --output markdown".
#
#   scripts/experiments.sh [EPOCHS_FOR_ABLATIONS]     (needs LEPTON_DATA_DIR)
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LEPTON_DATA_DIR:?set LEPTON_DATA_DIR to the CIFAR-10 binary directory}"
ablation_epochs=${1:-20}
make build >/dev/null
bin=bin/lepton
out=experiments
mkdir -p "$out" docs

run() { # name config [--set ...]
  local name=$1 config=$2; shift 2
  if [ -f "$out/$name/report.json" ] && grep -q '"status": "finished"' "$out/$name/report.json"; then
    echo "$name: already finished"; return
  fi
  echo "$name: training" >&2
  "$bin" train --config "$config" --set "name=$name" "$@" --out "$out/$name" --force --quiet >/dev/null
}

run mlp configs/mlp.yaml
run best configs/best.yaml
run best-"$ablation_epochs"ep configs/best.yaml --epochs "$ablation_epochs"
run no-augmentation configs/best.yaml --epochs "$ablation_epochs" --set data.augment.flip=false --set data.augment.crop=false
run no-batch-norm configs/best.yaml --epochs "$ablation_epochs" --set model.batch_norm=false
run no-dropout configs/best.yaml --epochs "$ablation_epochs" --set model.dropout=[]
run no-label-smoothing configs/best.yaml --epochs "$ablation_epochs" --set train.label_smoothing=0
run adam-constant-lr configs/best.yaml --epochs "$ablation_epochs" --set train.optimizer.name=adam --set train.optimizer.weight_decay=0 --set train.schedule.name=constant --set train.optimizer.lr=0.001
# The regularizers pay off over a full run: ablate them at best.yaml's length too.
run no-augmentation-full configs/best.yaml --set data.augment.flip=false --set data.augment.crop=false
run no-dropout-full configs/best.yaml --set model.dropout=[]

# effect NAME BASELINE: test accuracy of NAME minus BASELINE's, from the runs table.
csv=$("$bin" runs "$out" --output csv)
acc() { echo "$csv" | awk -F, -v n="$1" '$1 == n { print $5 }'; }
effect() { awk -v a="$(acc "$1")" -v b="$(acc "$2")" -v n="$1" -v base="$2" -v what="$3" \
  'BEGIN { printf "| %s | %s | %s | %.2f |\n", what, n, base, (b - a) * 100 }'; }

{
  echo "# Results"
  echo
  echo "Produced by \`scripts/experiments.sh $ablation_epochs\` on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')),"
  echo "$(date -u +%Y-%m-%d), lepton $(git describe --always --dirty 2>/dev/null). The table is \`lepton runs $out --output markdown\`;"
  echo "test accuracy is the final checkpoint's on the 10,000 CIFAR-10 test images, minutes are wall-clock training time."
  echo
  "$bin" runs "$out" --sort name --output markdown
  echo
  echo "Runs: \`mlp\` is the reference model (configs/mlp.yaml). \`best\` is configs/best.yaml. The ablations train best.yaml for"
  echo "$ablation_epochs epochs with one control removed, compared with \`best-${ablation_epochs}ep\` (best.yaml for the same epochs);"
  echo "the \`-full\` ones remove a regularizer over best.yaml's whole run, compared with \`best\`."
  echo
  echo "## What each control adds"
  echo
  echo "Test accuracy of the run with the control minus the run without it, in percentage points (negative: it cost accuracy)."
  echo
  echo "| control | run without it | run with it | test accuracy added (points) |"
  echo "| --- | --- | --- | --- |"
  effect no-batch-norm best-"$ablation_epochs"ep "batch normalization ($ablation_epochs epochs)"
  effect adam-constant-lr best-"$ablation_epochs"ep "AdamW + cosine schedule vs Adam at a constant 1e-3 ($ablation_epochs epochs)"
  effect no-augmentation best-"$ablation_epochs"ep "flip + crop augmentation ($ablation_epochs epochs)"
  effect no-dropout best-"$ablation_epochs"ep "dropout ($ablation_epochs epochs)"
  effect no-label-smoothing best-"$ablation_epochs"ep "label smoothing ($ablation_epochs epochs)"
  effect no-augmentation-full best "flip + crop augmentation (full run)"
  effect no-dropout-full best "dropout (full run)"
  effect mlp best "everything: configs/best.yaml vs configs/mlp.yaml"
} > docs/results.md
cat docs/results.md
