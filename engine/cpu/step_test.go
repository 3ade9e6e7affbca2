package cpu

import (
	"testing"

	"github.com/myelin-sim/myelin/engine/rng"
)

// The bucket index must return exactly what a plain scan of the table does,
// for every table shape the builder makes.
func TestPoissonIndexMatchesScan(t *testing.T) {
	tables := [][]uint32{{^uint32(0)}, {1 << 31, ^uint32(0)}, {0, 0, 5, 1 << 24, 1<<24 + 1, 3 << 30, ^uint32(0)}}
	q := rng.NewStream(1, 0).Seq(0)
	for _, thr := range tables {
		ix := newPoissonIndex(7, thr)
		for i := 0; i < 200000; i++ {
			u := q.Uint32()
			if i < 256 {
				u = uint32(i) << 24
			}
			want := uint32(len(thr) - 1)
			for k, v := range thr {
				if u < v {
					want = uint32(k)
					break
				}
			}
			if got := ix.count(u); got != 7+want {
				t.Fatalf("table %v, u = %#x: count %d, scan gives %d", thr, u, got, 7+want)
			}
		}
	}
}
