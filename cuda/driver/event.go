//go:build cuda

package driver

import (
	"fmt"

	"gorgonia.org/cu"
)

// Event is a CUDA event without timing, whose Synchronize blocks the
// calling thread instead of spinning. Like every driver call, its methods
// must run on the device's thread (Device.Do).
type Event struct {
	name string
	ev   cu.Event
}

// NewEvent creates an event named name (for error messages).
func NewEvent(name string) (*Event, error) {
	ev, err := cu.MakeEvent(cu.BlockingSyncEvent | cu.DisableTiming)
	if err != nil {
		return nil, fmt.Errorf("cuda: cuEventCreate (%s): %w", name, driverErr(err))
	}
	return &Event{name: name, ev: ev}, nil
}

// Record records the event on stream s.
func (e *Event) Record(s *Stream) error {
	if err := driverErr(e.ev.Record(s.s)); err != nil {
		return fmt.Errorf("cuda: cuEventRecord (%s on %s): %w", e.name, s.label(), err)
	}
	return nil
}

// Synchronize waits until the work recorded before the event is done.
func (e *Event) Synchronize() error {
	if err := driverErr(e.ev.Synchronize()); err != nil {
		return fmt.Errorf("cuda: cuEventSynchronize (%s): %w", e.name, err)
	}
	return nil
}

// Destroy releases the event.
func (e *Event) Destroy() error {
	if err := driverErr(cu.DestroyEvent(&e.ev)); err != nil {
		return fmt.Errorf("cuda: cuEventDestroy (%s): %w", e.name, err)
	}
	return nil
}
