//go:build !amd64

package rng

// philox8 computes eight blocks in place (layout as philox8Go).
func philox8(buf *[32]uint32, k [2]uint32) { philox8Go(buf, k) }
