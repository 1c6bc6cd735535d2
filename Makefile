# lepton's make targets. The two commands for a fresh machine:
#   make train   # fetch CIFAR-10 if needed, then train configs/mlp.yaml
#   make test    # vet + the whole test suite (what CI runs)

GO      ?= go
BIN     := bin/lepton
CONFIG  ?= configs/mlp.yaml
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
export PATH := $(PATH):/usr/local/go/bin

.PHONY: all build train test vet fmt fuzz clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/lepton

# Train the default config; fetches the data set first when none is found.
train: build
	@$(BIN) data info >/dev/null 2>&1 || $(BIN) data fetch
	$(BIN) train --config $(CONFIG)

vet:
	$(GO) vet ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

test: vet
	$(GO) test -count=1 -timeout 20m ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
