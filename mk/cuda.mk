# mk/cuda.mk: the CUDA toolchain, the kernels' PTX and the cuda build.
# Included from the top-level Makefile; every variable can be overridden on
# the command line (make kernels NVCC=/usr/bin/nvcc).
#
#   make cuda-toolchain  unpack Debian's CUDA 11.8 nvcc, headers and libcuda
#                        stub into $(CUDA_PREFIX) (once; needs root for apt)
#   make kernels         kernels/*.cu -> kernels/ptx/*.ptx (commit the result)
#   make kernels-check   fail if the committed PTX differs from the sources
#   make vet-cuda        go vet -tags cuda ./... against the toolkit headers
#   make cuda            bin/myelin-cuda, the binary with the GPU backend
#   make cuda-test-bin   bin/cuda.test, to copy to a GPU machine and run there
#
# The cuda binary links against the stub; at run time it needs only the
# NVIDIA driver (libcuda.so.1).

# Do not let this file's first target become the including Makefile's
# default goal, whether it is included before or after that goal.
cuda_mk_default_goal := $(.DEFAULT_GOAL)

GO            ?= go
CUDA_PREFIX   ?= $(CURDIR)/.cuda
NVCC          ?= $(CUDA_PREFIX)/usr/lib/nvidia-cuda-toolkit/bin/nvcc
CUDA_INCLUDE  ?= $(CUDA_PREFIX)/usr/include
CUDA_STUBS    ?= $(CUDA_PREFIX)/usr/lib/x86_64-linux-gnu/stubs
CUDA_ARCH     ?= compute_70
# -fmad=false: no fused multiply-add, so kernels round like the Go backend
# (DESIGN.md decision 1). g++ 12 is newer than nvcc 11.8 accepts; for -ptx
# the host compiler only preprocesses, and the output is the same as g++-11's.
NVCCFLAGS     ?= -ptx -arch=$(CUDA_ARCH) -fmad=false -ccbin g++ -allow-unsupported-compiler -O3 -std=c++14
CUDA_CGO_ENV  ?= CGO_ENABLED=1 CGO_CFLAGS="-I$(CUDA_INCLUDE)" CGO_LDFLAGS="-L$(CUDA_STUBS)"
CUDA_BIN      ?= bin/myelin-cuda
VET_CUDA_PKGS ?= ./...
# Extra go build/test flags of the cuda targets (gpu-bins sets -trimpath
# and -ldflags='-s -w' for small binaries to carry to a GPU machine).
CUDA_GOFLAGS  ?=

.PHONY: cuda-toolchain kernels kernels-check vet-cuda lint-cuda cuda cuda-test-bin

cuda-toolchain:
	scripts/cuda-toolchain.sh "$(CUDA_PREFIX)"

kernels:
	NVCC="$(NVCC)" NVCCFLAGS="$(NVCCFLAGS)" scripts/kernels.sh build

kernels-check:
	NVCC="$(NVCC)" NVCCFLAGS="$(NVCCFLAGS)" scripts/kernels.sh check

# Header and stub checks for cgo; fail early with a useful message.
cuda-cgo-env-check = @test -f "$(CUDA_INCLUDE)/cuda.h" -a -f "$(CUDA_STUBS)/libcuda.so" || \
	{ echo "cuda: no cuda.h in $(CUDA_INCLUDE) or no libcuda.so in $(CUDA_STUBS): run 'make cuda-toolchain'" >&2; exit 1; }

vet-cuda:
	$(cuda-cgo-env-check)
	$(CUDA_CGO_ENV) $(GO) vet -tags cuda $(VET_CUDA_PKGS)

lint-cuda:
	$(cuda-cgo-env-check)
	$(CUDA_CGO_ENV) $(STATICCHECK) -tags cuda $(VET_CUDA_PKGS)

cuda:
	$(cuda-cgo-env-check)
	$(CUDA_CGO_ENV) $(GO) build -tags cuda $(CUDA_GOFLAGS) -o $(CUDA_BIN) ./cmd/myelin

cuda-test-bin:
	$(cuda-cgo-env-check)
	$(CUDA_CGO_ENV) $(GO) test -tags cuda -c $(CUDA_GOFLAGS) -o bin/cuda.test ./cuda/

.DEFAULT_GOAL := $(cuda_mk_default_goal)
