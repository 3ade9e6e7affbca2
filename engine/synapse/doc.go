// Package synapse holds the math of Myelin's dynamic synapse models. Each
// model keeps it in one Go file here and one CUDA file of the same name in
// kernels/ (tsodyks_markram.go and kernels/tsodyks_markram.cuh, stdp.go and
// kernels/stdp.cuh), statement for statement, so that the CPU backend and
// the GPU give the same bits.
package synapse
