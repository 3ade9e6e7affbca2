//go:build cuda

package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/myelin-sim/myelin/cuda"
	"github.com/myelin-sim/myelin/cuda/driver"
	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/kernels/launch"
	myelinpb "github.com/myelin-sim/myelin/proto"
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

// buildOnDevice builds spec with its synapses made on be's GPU
// (network.BuildOn); a network that the device does not build is built on
// the host, with a note on stderr unless quiet.
func buildOnDevice(ctx context.Context, e *env, be backend.Backend, spec *myelinpb.Network, opt network.Options, quiet bool) (*network.Network, error) {
	cb, ok := be.(*cuda.Backend)
	if !ok {
		return nil, fmt.Errorf("--device-build: needs the cuda backend (this run has %s)", be.Name())
	}
	c, release, err := cb.Constructor(nil)
	if err != nil {
		return nil, err
	}
	opt.KeepOnDevice = true // the backend adopts the arrays: no copy back, no upload
	net, err := network.BuildOn(ctx, spec, opt, c)
	if rerr := release(); rerr != nil {
		if net != nil && net.Syn.Resident != nil {
			net.Syn.Resident.Arrays.Release()
		}
		net, err = nil, errors.Join(err, rerr)
	}
	if errors.Is(err, network.ErrNotOnDevice) {
		if !quiet {
			fmt.Fprintf(e.stderr, "--device-build: built on the host: %v\n", err)
		}
		return network.BuildContext(ctx, spec, opt)
	}
	return net, err
}

// setDelivery has the CUDA backend be split each step's delivery among
// the GPU's blocks by mode (--delivery) for the network it loads next.
func setDelivery(be backend.Backend, mode launch.SegmentsMode) error {
	cb, ok := be.(*cuda.Backend)
	if !ok {
		return fmt.Errorf("--delivery %v: needs the cuda backend (this run has %s)", mode, be.Name())
	}
	return cb.SetSegments(mode)
}
