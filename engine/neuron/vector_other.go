//go:build !amd64

package neuron

// hasAVX2 is false off amd64: the models' Go loops run.
func hasAVX2() bool { return false }

// pscExpAVX2 is never called off amd64.
func pscExpAVX2(c *pscExpCoef, v, ie, ii *float32, ref, exR, inR *int32, n int, mask *uint8) {
	panic("neuron: pscExpAVX2 without AVX2")
}

// pscExpPoissonAVX2 is never called off amd64.
func pscExpPoissonAVX2(c *pscExpPoissonCoef, v, ie, ii *float32, ref, exR, inR, cnt *int32, n int, mask *uint8) {
	panic("neuron: pscExpPoissonAVX2 without AVX2")
}

// pscDeltaAVX2 is never called off amd64.
func pscDeltaAVX2(c *pscDeltaCoef, v *float32, ref, exR, inR, cnt *int32, n int, mask *uint8) {
	panic("neuron: pscDeltaAVX2 without AVX2")
}

// condExpAVX2 is never called off amd64.
func condExpAVX2(c *condExpCoef, v, gex, gin *float32, ref, exR, inR *int32, n int, mask *uint8) {
	panic("neuron: condExpAVX2 without AVX2")
}
