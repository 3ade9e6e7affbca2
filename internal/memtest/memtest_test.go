package memtest

import "testing"

var sink []byte

// TestAllocated: a 1 MiB slice made inside f is counted, and little else.
func TestAllocated(t *testing.T) {
	got := Allocated(func() { sink = make([]byte, 1<<20) })
	if got < 1<<20 || got > 1<<20+64<<10 {
		t.Errorf("Allocated = %d bytes, want 1 MiB (+ at most 64 KiB)", got)
	}
	if got := Allocated(func() {}); got > 64<<10 {
		t.Errorf("Allocated of nothing = %d bytes", got)
	}
}
