//go:build !cuda

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/kernels/launch"
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

// setDelivery chooses the CUDA backend's delivery; this binary was built
// without CUDA, so be is another backend.
func setDelivery(be backend.Backend, mode launch.SegmentsMode) error {
	return fmt.Errorf("--delivery %v: needs the cuda backend (this run has %s)", mode, be.Name())
}
