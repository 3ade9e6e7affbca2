package network

import (
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/rng"
)

// sortRowStable orders a row by packed word as a stable sort does, moving
// the weights along, for nearly sorted rows (insertion) and shuffled ones
// (past the budget), with many equal words.
func TestSortRowStable(t *testing.T) {
	q := rng.NewStream(9, 0).Seq(0)
	var tmp []uint64
	for trial := range 400 {
		n := int(q.Uint32()%300) + 1
		p := make([]uint32, n)
		w := make([]int32, n)
		for i := range p {
			p[i] = uint32(i) / 3 // runs of equal words
			w[i] = int32(q.Uint32())
		}
		swaps := int(q.Uint32() % 8)
		if trial%4 == 0 {
			swaps = 4 * n // shuffled: beyond the insertion budget
		}
		for range swaps {
			i, j := q.Intn(uint32(n)), q.Intn(uint32(n))
			p[i], p[j] = p[j], p[i]
			w[i], w[j] = w[j], w[i]
		}
		type syn struct {
			p uint32
			w int32
		}
		want := make([]syn, n)
		for i := range p {
			want[i] = syn{p[i], w[i]}
		}
		slices.SortStableFunc(want, func(a, b syn) int { return int(int64(a.p) - int64(b.p)) })
		tmp = sortRowStable(p, w, tmp)
		for i := range want {
			if p[i] != want[i].p || w[i] != want[i].w {
				t.Fatalf("trial %d (%d swaps), position %d: (%d, %d), want (%d, %d)", trial, swaps, i, p[i], w[i], want[i].p, want[i].w)
			}
		}
	}
}
