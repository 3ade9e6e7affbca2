package rng

import "golang.org/x/sys/cpu"

// philoxWords8AVX2 writes the eight blocks of counters (i, j+b, jhi,
// purpose), b < 8, under key (k0, k1) to dst[:32] in draw order; j+7 must
// not wrap.
//
//go:noescape
func philoxWords8AVX2(dst *[64]uint32, i, j, jhi, purpose, k0, k1 uint32)

// philoxWords16AVX2 is philoxWords8AVX2 for sixteen blocks (dst[:64]).
//
//go:noescape
func philoxWords16AVX2(dst *[64]uint32, i, j, jhi, purpose, k0, k1 uint32)

// useAVX2 is fixed at start-up: whether Seq runs the AVX2 code.
var useAVX2 = cpu.X86.HasAVX2 // the processor has it and the OS saves the YMM state

// wordsAVX2 writes nb (8 or 16) blocks of item i from block j on to dst
// in draw order with AVX2, and reports whether it could (the processor
// has AVX2 and the blocks' counters do not carry into their third word).
func wordsAVX2(dst *[64]uint32, s Stream, i uint32, j uint64, nb int) bool {
	if !useAVX2 || uint32(j) > ^uint32(0)-15 {
		return false
	}
	if nb == 16 {
		philoxWords16AVX2(dst, i, uint32(j), uint32(j>>32), s.purpose, s.key[0], s.key[1])
	} else {
		philoxWords8AVX2(dst, i, uint32(j), uint32(j>>32), s.purpose, s.key[0], s.key[1])
	}
	return true
}
