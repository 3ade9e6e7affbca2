//go:build !amd64

package cpu

// philox8AVX2 is never called off amd64.
func philox8AVX2(first, c1, c2, c3, k0, k1 uint32, l0, l1, l2, l3 *uint32, n int) {
	panic("cpu: philox8AVX2 without AVX2")
}
