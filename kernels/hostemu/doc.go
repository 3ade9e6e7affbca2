// Package hostemu runs Myelin's CUDA kernels on the host: cgo compiles the
// very sources that nvcc compiles (kernels/*.cu, kernels/*.cuh) with g++
// through a small SIMT shim (simt.h), and Backend drives them with the same
// launch sequence as the CUDA backend (package kernels/launch). Its spikes
// and samples must equal the CPU backend's bit for bit; the parity test
// (go test -tags hostemu ./kernels/hostemu/) checks that on the built-in
// models, so the GPU code is verified on machines without a GPU.
//
// The package needs the build tag hostemu (and a C++ compiler); without it
// it is empty, so that an ordinary build needs no C++.
package hostemu
