//go:build cuda

package main

import (
	"fmt"

	"github.com/myelin-sim/myelin/cuda"
	"github.com/myelin-sim/myelin/cuda/driver"
	"github.com/myelin-sim/myelin/engine/backend"
)

// cudaBuilt says whether this binary has the CUDA backend built in.
const cudaBuilt = true

// openCUDA returns the CUDA backend on device 0 (the first device that
// CUDA_VISIBLE_DEVICES leaves visible), or why no device can be used
// (none visible, driver too old, out of memory, exclusive mode). The
// backend owns the device: closing it releases the context.
func openCUDA() (backend.Backend, error) {
	if !driver.Available() {
		return nil, fmt.Errorf("the CUDA driver shows no device (CUDA_VISIBLE_DEVICES may hide them)")
	}
	be, err := cuda.OpenBackend(0, nil)
	if err != nil {
		return nil, fmt.Errorf("cannot use the GPU: %w", err)
	}
	return be, nil
}

// cudaBackend returns the CUDA backend on device 0, or false if no device
// can be opened; the reason is lost (openCUDA keeps it).
func cudaBackend() (backend.Backend, bool) {
	be, err := openCUDA()
	return be, err == nil
}
