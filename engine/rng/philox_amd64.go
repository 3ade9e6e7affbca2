package rng

import "golang.org/x/sys/cpu"

// philox8AVX2 computes the eight Philox4x32-10 blocks whose counters are
// the columns of buf (word w of block b at buf[8w+b]) under key (k0, k1),
// in place.
//
//go:noescape
func philox8AVX2(buf *[32]uint32, k0, k1 uint32)

// useAVX2 is fixed at start-up: whether philox8 runs the AVX2 code.
var useAVX2 = cpu.X86.HasAVX2 // the processor has it and the OS saves the YMM state

// philox8 computes eight blocks in place (layout as philox8AVX2).
func philox8(buf *[32]uint32, k [2]uint32) {
	if useAVX2 {
		philox8AVX2(buf, k[0], k[1])
		return
	}
	philox8Go(buf, k)
}
