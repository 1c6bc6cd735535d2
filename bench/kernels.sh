#!/usr/bin/env bash
# bench/kernels.sh: lepton's Go benchmarks of one training step and of each
# matrix product of the step, for configs/mlp.yaml's and configs/best.yaml's
# models, each kernel and 1 and 2 threads (internal/model/*_bench_test.go),
# plus the bare micro-kernels (internal/blas BenchmarkKernel), written in
# the format benchstat reads.
#
#   bench/kernels.sh                      # OUT=bench/out/kernels.txt
#   BEFORE=old.txt bench/kernels.sh       # then compare old.txt with OUT
#   BEFORE=old.txt OUT=new.txt COUNT=0 bench/kernels.sh   # compare only
#
# Settings (environment): COUNT runs of every benchmark (default 6, the
# fewest for which benchstat gives a confidence interval; 0: run nothing),
# BENCHTIME per run (default 200ms), FILTER (a go test -bench regexp,
# default '^Benchmark(Step|GEMM)$' and the blas micro-kernels; e.g.
# 'BenchmarkStep/model=best/kernel=avx2' for those only), LOCK (a command
# prefix for each run, e.g. "flock /tmp/lepton-bench.lock", so that
# benchmarks on a shared machine never overlap; each run takes well under a
# minute with the defaults). The test binaries are built once; each of the
# COUNT passes runs every benchmark once, so slow drift of the machine
# spreads over all of them instead of biasing the last.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
count=${COUNT:-6}
benchtime=${BENCHTIME:-200ms}
filter=${FILTER:-^Benchmark(Step|GEMM)\$}
out=${OUT:-bench/out/kernels.txt}
read -r -a lock <<< "${LOCK:-}"

if [ "$count" -gt 0 ]; then
  mkdir -p "$(dirname "$out")"
  bin=$(mktemp -d)
  trap 'rm -rf "$bin"' EXIT
  "$GO" test -c -o "$bin/model.test" ./internal/model
  "$GO" test -c -o "$bin/blas.test" ./internal/blas
  cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
  # The frequency the %peak metric assumes, calibrated once so that every
  # pass uses the same (LEPTON_BENCH_MHZ set by the caller wins): the
  # benchmark parents print it before filtering their sub-benchmarks.
  mhz_from="set by the caller"
  if [ -z "${LEPTON_BENCH_MHZ:-}" ]; then
    mhz_from="calibrated once by bench/kernels.sh"
    LEPTON_BENCH_MHZ=$(cd internal/model && ${lock[@]+"${lock[@]}"} "$bin/model.test" -test.run '^$' -test.bench '^BenchmarkStep$/model=none' |
      sed -n 's/^# peak-assumption: \([0-9.]*\) MHz.*/\1/p')
  fi
  export LEPTON_BENCH_MHZ
  # Comment lines: benchstat ignores them (a "key: value" label that
  # differs between two files would keep it from comparing them).
  {
    echo "# commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo -dirty)"
    echo "# cpu-model: ${cpu:-unknown}"
    echo "# settings: COUNT=$count BENCHTIME=$benchtime FILTER=$filter"
    echo "# core-mhz: $LEPTON_BENCH_MHZ ($mhz_from)"
  } > "$out"
  for i in $(seq 1 "$count"); do
    echo "bench-kernels: pass $i of $count" >&2
    # Run from the package directories: the model benchmarks read ../../configs.
    (cd internal/model && ${lock[@]+"${lock[@]}"} "$bin/model.test" -test.run '^$' -test.bench "$filter" \
      -test.benchtime "$benchtime" -test.count 1 -test.benchmem) | tee -a "$out" | sed -n '/^\(Benchmark\|# peak\)/p' >&2
    if [ -z "${FILTER:-}" ]; then
      (cd internal/blas && ${lock[@]+"${lock[@]}"} "$bin/blas.test" -test.run '^$' -test.bench '^BenchmarkKernel$' \
        -test.benchtime "$benchtime" -test.count 1) | tee -a "$out" | sed -n '/^Benchmark/p' >&2
    fi
  done
  echo "bench-kernels: wrote $out" >&2
fi

if [ -n "${BEFORE:-}" ]; then
  bs=$(command -v benchstat || true)
  if [ -z "$bs" ] && [ -x "$("$GO" env GOPATH)/bin/benchstat" ]; then bs=$("$GO" env GOPATH)/bin/benchstat; fi
  if [ -z "$bs" ]; then
    echo "bench-kernels: installing benchstat (go install golang.org/x/perf/cmd/benchstat@latest)" >&2
    if GOFLAGS= "$GO" install golang.org/x/perf/cmd/benchstat@latest; then
      bs=$("$GO" env GOPATH)/bin/benchstat
    else
      echo "bench-kernels: benchstat is not installed and cannot be fetched; compare with: benchstat $BEFORE $out" >&2
      exit 1
    fi
  fi
  "$bs" "$BEFORE" "$out"
fi
