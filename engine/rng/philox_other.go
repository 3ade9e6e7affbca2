//go:build !amd64

package rng

// wordsAVX2 reports that there is no vector code: Seq computes its blocks
// with philox8Go.
func wordsAVX2(dst *[64]uint32, s Stream, i uint32, j uint64, nb int) bool { return false }
