// Package neuron holds the math of each neuron model: parameters as in NEST
// (float64), propagators precomputed on the host in float64 and rounded to
// float32, and the float32 single-neuron step that every backend runs.
//
// Each model lives in one file whose CUDA twin in kernels/ has the same name
// and the same structure (iaf_psc_exp.go ↔ kernels/iaf_psc_exp.cuh), so one
// can be checked against the other line by line. Every product is rounded
// with an explicit float32(...) conversion so that no compiler fuses a
// multiply and an add; the CUDA side is compiled with -fmad=false. Together
// this makes a step bit-identical on every backend.
//
// Spiking models keep the membrane potential relative to E_L (as NEST does
// for its linear models) except the conductance-based and nonlinear ones
// (iaf_cond_exp, aeif_cond_exp, izhikevich), which keep it absolute.
package neuron
