//go:build hostemu

package hostemu

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// The construct kernels' block sort (myelin_construct_block_sort), run by
// one block of 1 to 64 threads as fibers that meet at its barriers, sorts
// every length from 0 to 600 and some up to 5,000: ascending keys, each
// payload still beside its key, nothing past the end touched. Keys repeat
// in their high words (rows' words) and are unique in full, as the
// kernels' keys are.
func TestBlockSort(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	const guard = 3
	lengths := make([]int, 0, 620)
	for n := range 601 {
		lengths = append(lengths, n)
	}
	lengths = append(lengths, 1023, 1024, 1025, 2047, 4097, 5000)
	for _, n := range lengths {
		for _, block := range []uint32{1, 2, 3, 5, 32, 64} {
			if n > 300 && block < 32 && n != 1025 {
				continue
			}
			key := make([]uint64, n+guard)
			pa := make([]uint32, n+guard)
			pb := make([]int32, n+guard)
			for i := range n {
				key[i] = uint64(r.IntN(n/3+1))<<32 | uint64(i)
				pa[i], pb[i] = uint32(key[i]), -int32(key[i])
			}
			for i := n; i < n+guard; i++ {
				key[i], pa[i], pb[i] = 777, 9, 5
			}
			want := slices.Clone(key[:n])
			slices.Sort(want)
			blockSort(key, pa, pb, n, block)
			if !slices.Equal(key[:n], want) {
				t.Fatalf("n %d, %d threads: keys not sorted", n, block)
			}
			for i := range n {
				if pa[i] != uint32(key[i]) || pb[i] != -int32(key[i]) {
					t.Fatalf("n %d, %d threads: payload %d (%d, %d) left its key %#x", n, block, i, pa[i], pb[i], key[i])
				}
			}
			for i := n; i < n+guard; i++ {
				if key[i] != 777 || pa[i] != 9 || pb[i] != 5 {
					t.Fatalf("n %d, %d threads: word %d past the end written", n, block, i)
				}
			}
		}
	}
}
