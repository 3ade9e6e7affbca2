package neuron

import "golang.org/x/sys/cpu"

// hasAVX2 reports whether the processor and the OS support AVX2
// (golang.org/x/sys/cpu checks the OS's YMM state saving too).
func hasAVX2() bool { return cpu.X86.HasAVX2 }

// pscExpAVX2 runs IafPscExp.Step, with no external current, on neurons
// [0, n) of the given arrays (n a multiple of 8), reading and clearing the
// ring words exR and inR, and writing, per group of eight neurons, a byte
// whose bit j says that neuron 8·group + j fired.
//
//go:noescape
func pscExpAVX2(c *pscExpCoef, v, ie, ii *float32, ref, exR, inR *int32, n int, mask *uint8)

// pscExpPoissonAVX2 is pscExpAVX2 with a Poisson input: cnt·wEx joins the
// excitatory ring words, cnt·wIn the inhibitory ones (pscExpPoissonCoef).
//
//go:noescape
func pscExpPoissonAVX2(c *pscExpPoissonCoef, v, ie, ii *float32, ref, exR, inR, cnt *int32, n int, mask *uint8)

// pscDeltaAVX2 is pscExpAVX2 for IafPscDelta.Step, whose input is the sum
// of both ring words and cnt·w (pscDeltaCoef.w).
//
//go:noescape
func pscDeltaAVX2(c *pscDeltaCoef, v *float32, ref, exR, inR, cnt *int32, n int, mask *uint8)

// condExpAVX2 is pscExpAVX2 for IafCondExp.Step, whose state is V and the
// two conductances.
//
//go:noescape
func condExpAVX2(c *condExpCoef, v, gex, gin *float32, ref, exR, inR *int32, n int, mask *uint8)
