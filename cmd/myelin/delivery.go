package main

import (
	"fmt"

	"github.com/myelin-sim/myelin/engine/backend"
	"github.com/myelin-sim/myelin/kernels/launch"
	"github.com/spf13/pflag"
)

// deliveryFlag is --delivery: how the CUDA backend splits a step's
// delivery among the GPU's blocks (launch.SegmentsMode).
type deliveryFlag struct{ name *string }

// registerDelivery adds --delivery to fs.
func registerDelivery(fs *pflag.FlagSet) deliveryFlag {
	return deliveryFlag{fs.String("delivery", "auto", "cuda backend: how a step's spikes reach their targets: auto, global (work items of a block each), per-spike (a block per spike) or tiled (a block per tile of targets, summed in shared memory; see docs/gpu.md)")}
}

// mode returns the mode the flag names, or an error (exit status 2)
// naming the flag.
func (d deliveryFlag) mode() (launch.SegmentsMode, error) {
	m, err := launch.ParseSegments(*d.name)
	if err != nil {
		return 0, &exitError{2, fmt.Errorf("--%w", err)}
	}
	return m, nil
}

// applyDelivery sets mode on be; auto leaves every backend as it is, and another
// mode needs the CUDA backend (exit status 2 otherwise).
func applyDelivery(be backend.Backend, mode launch.SegmentsMode) error {
	if mode == launch.SegmentsAuto {
		return nil
	}
	if err := setDelivery(be, mode); err != nil {
		return &exitError{2, err}
	}
	return nil
}
