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

// The eight-block code (AVX2 where the processor has it, else Go) equals
// Philox4x32 block by block, for counters whose words carry across lanes.
func TestPhilox8(t *testing.T) {
	x := uint32(1)
	next := func() uint32 { x = x*1664525 + 1013904223; return x }
	for trial := range 200 {
		var buf, ref [32]uint32
		for i := range buf {
			buf[i] = next()
		}
		if trial == 0 {
			for i := range buf {
				buf[i] = 0xFFFFFFFF
			}
		}
		ref = buf
		k := [2]uint32{next(), next()}
		philox8(&buf, k)
		goBuf := ref
		philox8Go(&goBuf, k)
		for b := range 8 {
			want := Philox4x32([4]uint32{ref[b], ref[8+b], ref[16+b], ref[24+b]}, k)
			got := [4]uint32{buf[b], buf[8+b], buf[16+b], buf[24+b]}
			gotGo := [4]uint32{goBuf[b], goBuf[8+b], goBuf[16+b], goBuf[24+b]}
			if got != want || gotGo != want {
				t.Fatalf("trial %d, block %d: philox8 %08x, philox8Go %08x, want %08x", trial, b, got, gotGo, want)
			}
		}
	}
}
