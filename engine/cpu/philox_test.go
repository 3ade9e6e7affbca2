package cpu

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/neuron"
	"github.com/myelin-sim/myelin/engine/rng"
)

// The eight-wide Philox gives exactly rng.Philox4x32, also when the first
// counter word wraps.
func TestPhilox8MatchesRng(t *testing.T) {
	if !neuron.HasVector() {
		t.Skip("no AVX2")
	}
	q := rng.NewStream(9, 0).Seq(0)
	const n = 64
	var l [4][n]uint32
	for trial := 0; trial < 200; trial++ {
		g, c1, c2, c3 := q.Uint32(), q.Uint32(), q.Uint32(), q.Uint32()
		key := [2]uint32{q.Uint32(), q.Uint32()}
		if trial == 0 {
			g = ^uint32(0) - 20
		}
		philox8AVX2(g, c1, c2, c3, key[0], key[1], &l[0][0], &l[1][0], &l[2][0], &l[3][0], n)
		for i := uint32(0); i < n; i++ {
			want := rng.Philox4x32([4]uint32{g + i, c1, c2, c3}, key)
			if got := [4]uint32{l[0][i], l[1][i], l[2][i], l[3][i]}; got != want {
				t.Fatalf("counter (%#x, %#x, %#x, %#x) key %#x: %x, want %x", g+i, c1, c2, c3, key, got, want)
			}
		}
	}
}
