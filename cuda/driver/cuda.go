// Package driver is Myelin's general GPU driver layer over the CUDA driver
// API: devices, contexts, modules, buffers, pinned memory, streams, events,
// graphs and launches. It knows nothing of Myelin's networks; package cuda
// builds the Myelin backend on it.
//
// The real implementation needs the build tag "cuda" (make cuda): it uses
// gorgonia.org/cu, whose package initialisation calls cuInit and exits the
// process when there is no NVIDIA driver or GPU, so the default build must
// not import it. Without the tag this package only reports that the binary
// was built without CUDA (Available is false, Open fails with ErrNoCUDA).
//
// With the tag, a Device owns one CUDA context bound to a dedicated, locked
// OS thread; every CUDA call runs on that thread through Device.Do. Modules
// are loaded from PTX (see package kernels), device buffers, pinned host
// buffers, streams, CUDA graphs and cooperative launches are thin wrappers
// whose errors name the kernel, buffer, sizes and launch geometry.
package driver

// Info describes a CUDA device: what a run's trailer and "myelin plan"
// report about the GPU.
type Info struct {
	Ordinal           int    // device ordinal, as in CUDA_VISIBLE_DEVICES order
	Name              string // e.g. "NVIDIA H100 80GB HBM3"
	ComputeMajor      int    // compute capability, major
	ComputeMinor      int    // compute capability, minor
	SMs               int    // streaming multiprocessors
	TotalMemory       uint64 // device memory in bytes
	DriverVersion     int    // CUDA driver API version, 1000*major + 10*minor (12040 is 12.4)
	CooperativeLaunch bool   // whether the device supports cooperative (grid-synchronised) kernels
}
