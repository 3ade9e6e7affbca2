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

// Populate keeps what is written before, during and after it, for any
// range, including unaligned, empty and out-of-range ones.
func TestPopulateKeepsData(t *testing.T) {
	s := make([]int32, 3<<20+5)
	Advise(s)
	for i := 0; i < len(s)/2; i++ {
		s[i] = int32(i)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Populate(s, 3, len(s)-1)
		Populate(s, 0, 0)
		Populate(s, 10, 5)
		Populate(s, -1, 7)
		Populate(s, 0, len(s)+1)
	}()
	for i := len(s) / 2; i < len(s); i++ {
		s[i] = int32(i)
	}
	<-done
	for i, v := range s {
		if v != int32(i) {
			t.Fatalf("s[%d] = %d after Populate", i, v)
		}
	}
}
