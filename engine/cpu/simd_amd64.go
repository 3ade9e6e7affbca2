package cpu

// hasAVX2 reports whether the processor and the OS support AVX2.
func hasAVX2() bool

// pscExpAVX2 runs neuron.IafPscExp.Step, with no external current, on
// neurons [0, n) of the given arrays (n a multiple of 8), reading and
// clearing the ring words exR and inR, and writing, per group of eight
// neurons, a byte whose bit j says that neuron 8·group + j fired.
//
//go:noescape
func pscExpAVX2(c *pscExpCoef, v, ie, ii *float32, ref, exR, inR *int32, n int, mask *uint8)

// condExpAVX2 is pscExpAVX2 for neuron.IafCondExp.Step (g_ex, g_in in ge,
// gi), with neuron.Expf inlined.
//
//go:noescape
func condExpAVX2(c *condExpLanes, v, ge, gi *float32, ref, exR, inR *int32, n int, mask *uint8)

// philox8AVX2 writes the Philox4x32-10 blocks of counters
// (first+i, c1, c2, c3), i in [0, n) with n a multiple of 8, under key
// (k0, k1): word j of block i to lj[i].
//
//go:noescape
func philox8AVX2(first, c1, c2, c3, k0, k1 uint32, l0, l1, l2, l3 *uint32, n int)

// pscDeltaAVX2 is pscExpAVX2 for neuron.IafPscDelta.Step, whose input is
// the sum of both ring words and cnt·w (pscDeltaCoef.w).
//
//go:noescape
func pscDeltaAVX2(c *pscDeltaCoef, v *float32, ref, exR, inR, cnt *int32, n int, mask *uint8)
