//go:build cuda

package main

import (
	"github.com/myelin-sim/myelin/cuda"
	"github.com/myelin-sim/myelin/engine/backend"
)

// cudaBackend returns the CUDA backend on device 0 (the first device that
// CUDA_VISIBLE_DEVICES leaves visible), or false if no device can be opened.
// The backend owns the device: closing it releases the context.
func cudaBackend() (backend.Backend, bool) {
	if !cuda.Available() {
		return nil, false
	}
	be, err := cuda.OpenBackend(0, nil)
	if err != nil {
		return nil, false
	}
	return be, true
}
