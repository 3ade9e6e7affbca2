package hugepages

import "testing"

// Advise is only a hint: slices of any size and alignment stay intact and
// usable after it.
func TestAdviseKeepsData(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 1 << 20, 3<<20 + 7} {
		s := make([]int32, n)
		sub := s[min(3, n):] // an unaligned start
		Advise(s)
		Advise(sub)
		for i := range s {
			s[i] = int32(i)
		}
		for i, v := range s {
			if v != int32(i) {
				t.Fatalf("n = %d: s[%d] = %d after Advise", n, i, v)
			}
		}
	}
}
