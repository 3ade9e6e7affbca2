//go:build !cuda

package main

import (
	"context"
	"errors"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// cudaBuilt says whether this binary has the CUDA backend built in.
const cudaBuilt = false

// errNoCUDABuild is openCUDA's error in a binary built without CUDA.
var errNoCUDABuild = errors.New("this myelin binary was built without CUDA")

// openCUDA returns the CUDA backend; this binary was built without it.
func openCUDA() (backend.Backend, error) { return nil, errNoCUDABuild }

// cudaBackend returns the CUDA backend; this binary was built without it.
func cudaBackend() (backend.Backend, bool) { return nil, false }

// buildOnDevice builds on the GPU; this binary was built without CUDA.
func buildOnDevice(context.Context, *env, backend.Backend, *myelinpb.Network, network.Options, bool) (*network.Network, error) {
	return nil, errNoCUDABuild
}
