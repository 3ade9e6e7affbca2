//go:build !cuda

package driver

import "errors"

// ErrNoCUDA is the error of every operation in a binary built without the
// cuda build tag.
var ErrNoCUDA = errors.New(`this myelin binary was built without CUDA; build bin/myelin-cuda with "make cuda"`)

// Available reports whether this binary can drive a GPU. Built without the
// cuda tag it never can.
func Available() bool { return false }

// DriverVersion returns the CUDA driver API version; built without the cuda
// tag it returns ErrNoCUDA.
func DriverVersion() (int, error) { return 0, ErrNoCUDA }

// Device is a CUDA device. Built without the cuda tag there are none: Open
// always fails, and the methods exist only so that callers compile in both
// builds.
type Device struct{}

// Open opens the device with the given ordinal. Built without the cuda tag
// it returns ErrNoCUDA.
func Open(ordinal int) (*Device, error) { return nil, ErrNoCUDA }

// Info describes the device; built without the cuda tag it is empty.
func (d *Device) Info() Info { return Info{} }

// FreeMemory returns the free and total device memory in bytes; built
// without the cuda tag it returns ErrNoCUDA.
func (d *Device) FreeMemory() (free, total uint64, err error) { return 0, 0, ErrNoCUDA }

// Close releases the device; built without the cuda tag it does nothing.
func (d *Device) Close() error { return nil }

// IsOutOfMemory reports whether err comes from the driver running out of
// memory; built without the cuda tag no error does.
func IsOutOfMemory(err error) bool { return false }
