package rng

import "testing"

// Known-answer vectors from Random123's kat_vectors for philox4x32_10.
func TestPhiloxKnownAnswers(t *testing.T) {
	cases := []struct {
		c    [4]uint32
		k    [2]uint32
		want [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff}, [4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
		{[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0}, [4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
	}
	for _, c := range cases {
		if got := Philox4x32(c.c, c.k); got != c.want {
			t.Errorf("Philox4x32(%08x, %08x) = %08x, want %08x", c.c, c.k, got, c.want)
		}
	}
}

func TestSeqMatchesAddressedDraws(t *testing.T) {
	s := NewStream(0x1234_5678_9abc, Purpose(KindPoisson, 3))
	q := s.Seq(77)
	for j := uint64(0); j < 200; j++ {
		if a, b := q.Uint32(), s.Uint32(77, j); a != b {
			t.Fatalf("draw %d: sequential %d, addressed %d", j, a, b)
		}
	}
}

func TestUniformMoments(t *testing.T) {
	q := NewStream(7, Purpose(KindInit, 0)).Seq(0)
	const n = 200000
	var sum, sum2 float64
	for i := 0; i < n; i++ {
		u := q.Float64()
		if u <= 0 || u >= 1 {
			t.Fatalf("draw %d = %v outside (0,1)", i, u)
		}
		sum += u
		sum2 += u * u
	}
	mean, vr := sum/n, sum2/n-(sum/n)*(sum/n)
	if d := mean - 0.5; d > 0.003 || d < -0.003 {
		t.Errorf("mean %v, want 0.5", mean)
	}
	if d := vr - 1.0/12; d > 0.002 || d < -0.002 {
		t.Errorf("variance %v, want 1/12", vr)
	}
}

// Blocks written in draw order (AVX2, eight or sixteen at a time, where
// the processor has it; else Go) equal Philox4x32 block by block, for
// random items, keys and positions, positions near 2^32 blocks (where the
// AVX2 code hands over to Go) and all-ones counters.
func TestWordsMatchBlocks(t *testing.T) {
	x := uint32(1)
	next := func() uint32 { x = x*1664525 + 1013904223; return x }
	for trial := range 300 {
		s := Stream{key: [2]uint32{next(), next()}, purpose: next()}
		i, j := next(), uint64(next())<<(trial%33)
		switch trial {
		case 0:
			s, i, j = Stream{key: [2]uint32{^uint32(0), ^uint32(0)}, purpose: ^uint32(0)}, ^uint32(0), 1<<32-16
		case 1, 2, 3:
			j = 1<<32 - 20 + uint64(trial)*3
		}
		for _, nb := range []int{8, 16} {
			var dst, ref [64]uint32
			s.words(&dst, i, j, nb)
			for b := range nb {
				jb := j + uint64(b)
				blk := Philox4x32([4]uint32{i, uint32(jb), uint32(jb >> 32), s.purpose}, s.key)
				copy(ref[4*b:], blk[:])
			}
			if dst != ref {
				t.Fatalf("trial %d, %d blocks from %d: %08x, want %08x", trial, nb, j, dst[:4*nb], ref[:4*nb])
			}
		}
	}
}

// A sequence equals the addressed draws across many refills, after resets
// part way through a buffer.
func TestSeqAcrossRefills(t *testing.T) {
	s := NewStream(99, Purpose(KindWeight, 5))
	q := s.Seq(3)
	for _, n := range []uint64{5, 32, 33, 200, 1000} {
		q.Reset(uint32(n))
		for j := range n {
			if a, b := q.Uint32(), s.Uint32(uint32(n), j); a != b {
				t.Fatalf("item %d, draw %d: sequential %d, addressed %d", n, j, a, b)
			}
		}
	}
}
