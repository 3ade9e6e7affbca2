# Myelin. The two commands of the quick start:
#   make run    build bin/myelin and simulate the built-in Brunel network on the CPU
#   make test   vet, unit tests, the host emulation of the CUDA kernels, brief fuzzing
GO       ?= go
PYTHON   ?= /usr/bin/python3
# Fuzzing runs a fixed number of inputs per target (a few seconds each
# here): with a duration instead, the Go fuzzer fails now and then with
# "context deadline exceeded" when its time runs out while it minimises a
# new input. FUZZSCALE multiplies every count (FUZZSCALE=20 fuzzes longer).
FUZZSCALE ?= 1
fuzzn = $(shell echo $$(( $(1) * $(FUZZSCALE) )))x

.PHONY: all build run test unit hostemu hostemu-asan fma-check fuzz vet lint lint-python python-deps bench bench-short gpu-bins gpu-oneshot gpu-test gpu-bench proto proto-check proto-tools clean

all: build

build:
	$(GO) build -o bin/myelin ./cmd/myelin

run: build
	mkdir -p out
	./bin/myelin run brunel --out out/brunel.myelin

vet:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted" >&2; exit 1; fi
	$(GO) vet ./...

# staticcheck (pinned; fetched through the Go module proxy) over the plain
# build and the host emulation. CI also runs it with the cuda tag (lint-cuda
# in mk/cuda.mk, which needs the CUDA headers of make cuda-toolchain).
# Beyond its defaults, the form of doc comments and receiver names.
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2 -checks inherit,ST1016,ST1020,ST1021,ST1022

lint: lint-python
	$(STATICCHECK) ./...
	$(STATICCHECK) -tags hostemu ./kernels/...

# pyflakes over the Python reader, pynn_myelin, the examples and the tests
# (not the generated *_pb2.py, nor pynn_myelin/__init__.py, which re-exports
# PyNN's names on purpose), with Debian's python3-pyflakes (python-deps).
PYFLAKES_FILES = $(filter-out %_pb2.py %/__init__.py,$(wildcard python/*.py python/pynn_myelin/*.py python/tests/*.py python/examples/*.py))
lint-python: python-deps
	@if $(PYTHON) -c 'import pyflakes' 2>/dev/null; then $(PYTHON) -m pyflakes $(PYFLAKES_FILES); \
	  else echo "lint-python: pyflakes missing for $(PYTHON) (Debian's python3-pyflakes); skipped" >&2; fi

test: vet fma-check python-deps unit hostemu fuzz python-test

unit:
	$(GO) test -count=1 ./...

# The twinned arithmetic has no fused multiply-add on any architecture
# (scripts/fma-check.sh builds it for arm64 and reads the instructions).
fma-check:
	scripts/fma-check.sh

hostemu:
	$(GO) test -count=1 -tags hostemu ./kernels/hostemu/

# The host emulation again, its C++ (the CUDA kernels, compiled for the
# host) under AddressSanitizer and UndefinedBehaviorSanitizer: an
# out-of-bounds access to a device buffer or a signed overflow in a kernel
# fails the test, as compute-sanitizer would on a GPU, for every parity
# case. Needs gcc's libasan and libubsan; about 8 minutes on 2 cores (CI
# runs it; make test does not).
SANITIZE = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
hostemu-asan:
	CGO_CXXFLAGS="$(SANITIZE) -g" CGO_LDFLAGS="-fsanitize=address,undefined" ASAN_OPTIONS=detect_leaks=0 \
	  $(GO) test -count=1 -timeout 40m -asan -tags hostemu ./kernels/hostemu/

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParseValidate$$' -fuzztime=$(call fuzzn,60000) -fuzzminimizetime=50x ./engine/spec/
	$(GO) test -run='^$$' -fuzz='^FuzzReader$$' -fuzztime=$(call fuzzn,50000) -fuzzminimizetime=50x ./engine/stream/
	$(GO) test -run='^$$' -fuzz='^FuzzBuildRun$$' -fuzztime=$(call fuzzn,50000) -fuzzminimizetime=50x ./engine/network/
	$(GO) test -run='^$$' -fuzz='^FuzzAnalyzePath$$' -fuzztime=$(call fuzzn,5000) -fuzzminimizetime=50x ./cmd/myelin/
	$(GO) test -run='^$$' -fuzz='^FuzzLiveClient$$' -fuzztime=$(call fuzzn,6000) -fuzzminimizetime=50x ./cmd/myelin/

# The Python reader needs numpy and protobuf; pynn_myelin (python/) also
# needs PyNN, Neo and pytest, and make lint pyflakes. Debian packages them
# for the system python.
# Installing needs root; without it the Python tests skip.
PYTHON_DEBS = python3-numpy python3-protobuf python3-pynn python3-neo python3-pytest python3-pyflakes

python-deps:
	@$(PYTHON) -c 'import numpy, google.protobuf, pyNN, neo, pytest, pyflakes' 2>/dev/null || \
	  { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
	    (apt-get update -qq && apt-get install -y -qq $(PYTHON_DEBS)) >/dev/null 2>&1; } || \
	  echo "python-deps: numpy/protobuf/PyNN/neo/pytest for $(PYTHON) not all installed; the Python tests will skip" >&2

# pynn_myelin's tests run against bin/myelin. Without pytest or PyNN they
# are skipped with a note (pytest's "no tests ran" is never reached).
.PHONY: python-test
python-test: build
	@if $(PYTHON) -c 'import pytest, pyNN, neo' 2>/dev/null; then \
	  MYELIN_BIN=$(CURDIR)/bin/myelin $(PYTHON) -m pytest -q -p no:cacheprovider python/tests; \
	else echo "python-test: skipped (pytest, PyNN or neo missing for $(PYTHON); run make python-deps as root)"; fi

bench-short:
	$(GO) test -run='^$$' -bench=. -benchtime=1x ./bench/

bench:
	$(GO) test -run='^$$' -bench=. -benchtime=1x -timeout=60m ./bench/ | tee bench/last-run.txt

# GPU: build the binaries here (needs `make cuda-toolchain`), carry bin/ to
# the GPU machine and run `make gpu-oneshot` there (scripts/gpu-oneshot.sh:
# preflight, parity, sanitizer, benchmarks, command line, Go benchmarks,
# brunel 1 M, in at most 540 s). gpu-bins strips symbols and paths so that bin/ stays small
# (about 40 MB for the three) and writes bin/BUILD.txt (commit, date, Go) for the summary.
GPU_GOFLAGS ?= -trimpath -ldflags='-s -w'

gpu-bins:
	$(GO) build $(GPU_GOFLAGS) -o bin/myelin ./cmd/myelin
	$(MAKE) --no-print-directory cuda cuda-test-bin CUDA_GOFLAGS="$(GPU_GOFLAGS)"
	@{ echo "commit $$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo -dirty)"; \
	  echo "built $$(date -u +%FT%TZ) with $$($(GO) env GOVERSION)"; } >bin/BUILD.txt
	@du -ch bin/myelin bin/myelin-cuda bin/cuda.test | tail -n 1 | sed 's/total/in bin\/ (myelin, myelin-cuda, cuda.test)/'

gpu-oneshot:
	scripts/gpu-oneshot.sh

# The longer suites (15-25 minutes: every sanitizer tool, 1 s parity,
# -benchtime 3x): for a visit longer than gpu-oneshot's.
gpu-test:
	scripts/gpu-test.sh

gpu-bench:
	scripts/gpu-bench.sh

# Generated protobuf code is committed; proto-check fails when it is stale.
proto:
	scripts/proto.sh build

proto-check:
	scripts/proto.sh check

# protoc (Debian's protobuf-compiler) and protoc-gen-go, pinned to the
# version that generated the committed code.
proto-tools:
	@command -v protoc >/dev/null || { apt-get update -qq && apt-get install -y -qq protobuf-compiler >/dev/null; }
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.12

clean:
	rm -rf bin out

include mk/cuda.mk
