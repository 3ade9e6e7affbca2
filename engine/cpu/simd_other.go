//go:build !amd64

package cpu

// hasAVX2 is false off amd64: the fused loops run in Go.
func hasAVX2() bool { return false }

// pscExpAVX2 is never called off amd64.
func pscExpAVX2(c *pscExpCoef, v, ie, ii *float32, ref, exR, inR *int32, n int, mask *uint8) {
	panic("cpu: pscExpAVX2 without AVX2")
}

// condExpAVX2 is never called off amd64.
func condExpAVX2(c *condExpLanes, v, ge, gi *float32, ref, exR, inR *int32, n int, mask *uint8) {
	panic("cpu: condExpAVX2 without AVX2")
}

// philox8AVX2 is never called off amd64.
func philox8AVX2(first, c1, c2, c3, k0, k1 uint32, l0, l1, l2, l3 *uint32, n int) {
	panic("cpu: philox8AVX2 without AVX2")
}

// pscDeltaAVX2 is never called off amd64.
func pscDeltaAVX2(c *pscDeltaCoef, v *float32, ref, exR, inR, cnt *int32, n int, mask *uint8) {
	panic("cpu: pscDeltaAVX2 without AVX2")
}
