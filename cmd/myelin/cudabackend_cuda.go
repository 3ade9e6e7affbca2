//go:build cuda

package main

import (
	"fmt"
	"os"

	"github.com/myelin-sim/myelin/cuda"
	"github.com/myelin-sim/myelin/engine/backend"
)

// cudaBackend returns the CUDA backend on device 0 (the first device that
// CUDA_VISIBLE_DEVICES leaves visible), or false if no device can be opened.
// The backend owns the device: closing it releases the context. A device
// that is visible but cannot be opened (driver too old, out of memory,
// exclusive mode) is reported on stderr, since the caller only learns that
// there is no CUDA backend.
func cudaBackend() (backend.Backend, bool) {
	if !cuda.Available() {
		return nil, false
	}
	be, err := cuda.OpenBackend(0, nil)
	if err != nil {
		fmt.Fprintf(os.Stderr, "myelin-cuda: cannot use the GPU: %v\n", err)
		return nil, false
	}
	return be, true
}
