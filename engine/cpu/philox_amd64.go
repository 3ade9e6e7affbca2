package cpu

// philox8AVX2 writes the Philox4x32-10 blocks of counters
// (first+i, c1, c2, c3), i in [0, n) with n a multiple of 8, under key
// (k0, k1): word j of block i to lj[i].
//
//go:noescape
func philox8AVX2(first, c1, c2, c3, k0, k1 uint32, l0, l1, l2, l3 *uint32, n int)
