# lepton's make targets. The two commands for a fresh machine:
#   make train   # fetch CIFAR-10 if needed, then train configs/mlp.yaml
#   make test    # vet, cross-compiles, arm64 tests under qemu, the whole test suite (what CI runs)

GO      ?= go
BIN     := bin/lepton
CONFIG  ?= configs/mlp.yaml
DATASET ?= cifar10
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all build train test vet fmt clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lepton

# Train the default config; fetches the data set first when none is found
# (a data set that is there but invalid is reported, not downloaded over).
train: build
	@$(BIN) data fetch --if-missing $(DATASET)
	$(BIN) train --config $(CONFIG)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

test: vet cross qemu-test
	$(GO) test -count=1 -timeout 20m ./...

# Builds everywhere Go runs: every package, the tests included (go vet
# type-checks them), for each of CROSS.
CROSS ?= linux/arm64 darwin/arm64 windows/amd64
.PHONY: cross qemu-test
cross:
	@set -e; for t in $(CROSS); do \
	  echo "cross-compile $$t"; \
	  GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) build ./...; \
	  GOOS=$${t%/*} GOARCH=$${t#*/} $(GO) vet ./...; \
	done

# Runs the linux/arm64 tests of the portable kernels (internal/blas,
# internal/model) under qemu-aarch64 (Debian: apt-get install qemu-user)
# when it is installed; says so and skips otherwise.
QEMU        ?= qemu-aarch64
QEMU_PKGS   ?= internal/blas internal/model
QEMU_OUT    ?= $(or $(TMPDIR),/tmp)/lepton-qemu
qemu-test:
	@if ! command -v $(QEMU) >/dev/null 2>&1; then \
	  echo "qemu-test: $(QEMU) not installed (apt-get install qemu-user): linux/arm64 tests not run"; exit 0; fi; \
	set -e; mkdir -p $(QEMU_OUT); for p in $(QEMU_PKGS); do \
	  GOOS=linux GOARCH=arm64 $(GO) test -c -o $(QEMU_OUT)/$$(basename $$p).test ./$$p; \
	  echo "qemu-test: $$p (linux/arm64 under $(QEMU))"; \
	  (cd $$p && $(QEMU) $(QEMU_OUT)/$$(basename $$p).test -test.short -test.count=1) || exit 1; \
	done

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# --- Interoperability checks (ONNX export, PyTorch parity) -------------------
# Both use a checkpoint: PARITY_CKPT, by default the best checkpoint of a
# one-epoch run trained into PARITY_RUN when it is missing (about 15 s; the
# data comes from LEPTON_DATA_DIR or the cache, as for "make train").
# The Python modules come from Debian packages (python3-onnx, python3-torch),
# installed with apt-get when missing; elsewhere install onnx / torch yourself
# (pip) and set PYTHON.
PYTHON      ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
PARITY_RUN  ?= /tmp/parity-run
PARITY_CKPT ?= $(PARITY_RUN)/checkpoints/best.safetensors
ONNX_OUT    ?= $(PARITY_RUN)/model.onnx

.PHONY: onnx-check parity py-onnx py-torch

$(PARITY_RUN)/checkpoints/best.safetensors: | build
	$(BIN) train --config configs/mlp.yaml --set train.epochs=1 --out $(PARITY_RUN) --force --quiet

# apt-get install a Debian package when a Python module is missing ($1 module, $2 package).
define py_need
	@$(PYTHON) -c "import $(1)" 2>/dev/null || { \
	  if command -v apt-get >/dev/null 2>&1; then \
	    echo "installing $(2) (the Python $(1) module) with apt-get"; \
	    SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	    $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $(2) >/dev/null; \
	  fi; \
	  $(PYTHON) -c "import $(1)" 2>/dev/null || { \
	    echo "$(PYTHON) lacks the $(1) module: install $(2) (Debian/Ubuntu) or 'pip install $(1)', or set PYTHON"; exit 1; }; }
endef

py-onnx:
	$(call py_need,onnx,python3-onnx)

py-torch:
	$(call py_need,torch,python3-torch)

# Export the checkpoint to ONNX and run the official checker on it.
onnx-check: build py-onnx $(PARITY_CKPT)
	$(BIN) export --checkpoint $(PARITY_CKPT) --format onnx $(ONNX_OUT)
	$(PYTHON) -c "import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, full_check=True); \
	print('onnx %s: check_model OK: %s (ir_version %d, opset %d, nodes %s)' % (onnx.__version__, sys.argv[1], m.ir_version, m.opset_import[0].version, ' '.join(n.op_type for n in m.graph.node)))" $(ONNX_OUT)

# Compare lepton's logits with the same weights in torch.nn.Sequential.
parity: build py-torch $(PARITY_CKPT)
	$(PYTHON) scripts/torch_parity.py --lepton $(BIN) --checkpoint $(PARITY_CKPT)

# lepton against PyTorch (bench/run.sh): configs/mlp.yaml's and
# configs/best.yaml's models, lepton's avx512 and avx2 kernels (PyTorch's
# defaults, and ATEN_CPU_CAPABILITY=avx2 OPENBLAS_CORETYPE=Haswell), 1 and 2
# threads, ROUNDS rounds each; about 10 minutes with the defaults. Parts:
#   make bench MODELS=best KERNELS=avx2 THREADS=2 ROUNDS=5
# BENCH_LOCK prefixes every timed process (e.g. "flock /tmp/x.lock").
.PHONY: bench
MODELS  ?= mlp,best
KERNELS ?= avx512,avx2
THREADS ?= 1,2
ROUNDS  ?= 3
BENCH_LOCK ?=
# PyTorch is measured on OpenBLAS (Debian's default libblas is the slow
# reference BLAS), so the bench installs libopenblas0-pthread when missing.
bench: py-torch
	@ldconfig -p | grep -q libopenblas || { \
	  SUDO=$$(test "$$(id -u)" -eq 0 || echo sudo); \
	  echo "installing libopenblas0-pthread for PyTorch"; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq libopenblas0-pthread >/dev/null; }
	PYTHON=$(PYTHON) MODELS=$(MODELS) KERNELS=$(KERNELS) THREADS=$(THREADS) LOCK='$(BENCH_LOCK)' \
	  bash bench/run.sh $(ROUNDS)

# Exact-resume check: SIGKILL training 20 times at random moments, resume
# each time, compare with an uninterrupted run (needs LEPTON_DATA_DIR).
.PHONY: kill-resume fuzz
kill-resume:
	bash scripts/kill-resume.sh 20

# Run each fuzz target for FUZZTIME (default 2m); CI runs their seed corpora
# (testdata/fuzz/...) as ordinary tests.
FUZZTIME ?= 2m
fuzz:
	$(GO) test ./internal/data -run '^$$' -fuzz '^FuzzReadBatch$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/data -run '^$$' -fuzz '^FuzzParseIDX$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/checkpoint -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/config -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/imaging -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/serve -run '^$$' -fuzz '^FuzzScanner$$' -fuzztime $(FUZZTIME)
	$(GO) test ./internal/serve -run '^$$' -fuzz '^FuzzNumberFloat32$$' -fuzztime $(FUZZTIME)

# Slurm end-to-end tests (cmd/lepton/slurm_test.go, build tag slurm) on a
# real single-node cluster of this machine: scripts/slurm-local.sh installs
# Debian's slurmctld, slurmd, slurm-client and munge when missing, starts
# the daemons, and stops them afterwards (unless they were already up).
# Needs LEPTON_DATA_DIR (the real CIFAR-10 data); about a minute.
.PHONY: test-slurm
test-slurm:
	@was_up=; bash scripts/slurm-local.sh is-up && was_up=1; \
	bash scripts/slurm-local.sh up && eval "$$(bash scripts/slurm-local.sh env)" && \
	$(GO) vet -tags slurm ./cmd/lepton && \
	$(GO) test -tags slurm -count=1 -timeout 15m -run '^TestSlurm' -v ./cmd/lepton; rc=$$?; \
	test -n "$$was_up" || bash scripts/slurm-local.sh down; exit $$rc

# Load and fault benchmark of "lepton serve" (bench/serveload): V2 FP32 and
# PNG requests at concurrency 1, 8 and 64 with batching on and off, then a
# SOAK-long run at concurrency 64 with 10% malformed requests. Loopback only.
# The model is configs/mlp.yaml trained for one epoch into SERVE_RUN when
# SERVE_CKPT is missing (about 15 s; data from LEPTON_DATA_DIR or the cache).
# The load points' client is SERVE_CLIENT: raw (prepared keep-alive
# HTTP/1.1, as wrk) or net/http. Smoke run: make bench-serve SERVE_POINT=5s SOAK=15s
SERVE_RUN   ?= /tmp/bench-serve-run
SERVE_CKPT  ?= $(SERVE_RUN)/checkpoints/best.safetensors
SERVE_POINT ?= 20s
SOAK        ?= 60s
SERVE_ARGS  ?=
SERVE_CLIENT ?= raw

.PHONY: bench-serve
$(SERVE_RUN)/checkpoints/best.safetensors: | build
	$(BIN) train --config configs/mlp.yaml --set train.epochs=1 --out $(SERVE_RUN) --force --quiet

bench-serve: build $(SERVE_CKPT)
	$(GO) run ./bench/serveload -lepton $(BIN) -checkpoint $(SERVE_CKPT) -duration $(SERVE_POINT) -soak $(SOAK) -client $(SERVE_CLIENT) -server-args "$(SERVE_ARGS)"

# Go benchmarks of one training step of configs/mlp.yaml's and
# configs/best.yaml's models and of each matrix product the step computes,
# per kernel (avx512, avx2) and 1 and 2 threads, with GFLOP/s and %peak
# (bench/kernels.sh), written to BENCH_OUT for benchstat. With BEFORE=file,
# compares that earlier output with the new one (benchstat; installed with
# go install when missing). COUNT=0 compares without running.
#   make bench-kernels BENCH_OUT=before.txt
#   make bench-kernels BEFORE=before.txt
# BENCH_FILTER is a go test -bench regexp (default: the step and GEMM
# benchmarks and the blas micro-kernels), e.g. BenchmarkStep/model=best.
# On a machine shared with other benchmarks: BENCH_LOCK="flock /tmp/x.lock".
BENCH_OUT    ?= bench/out/kernels.txt
BENCH_COUNT  ?= 6
BENCH_TIME   ?= 200ms
BENCH_FILTER ?=
BENCH_LOCK   ?=
BEFORE       ?=
.PHONY: bench-kernels
bench-kernels:
	GO=$(GO) OUT=$(BENCH_OUT) COUNT=$(BENCH_COUNT) BENCHTIME=$(BENCH_TIME) FILTER='$(BENCH_FILTER)' \
	  LOCK='$(BENCH_LOCK)' BEFORE='$(BEFORE)' bash bench/kernels.sh
