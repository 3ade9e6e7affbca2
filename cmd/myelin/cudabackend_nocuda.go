//go:build !cuda

package main

import "github.com/myelin-sim/myelin/engine/backend"

// cudaBackend returns the CUDA backend; this binary was built without it.
func cudaBackend() (backend.Backend, bool) { return nil, false }
