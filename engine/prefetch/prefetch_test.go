package prefetch

import (
	"testing"
	"unsafe"
)

// TestLineAnyAddress: a hint neither faults nor changes memory, whether
// the address is valid, past the end of an array, nil or far out of range.
func TestLineAnyAddress(t *testing.T) {
	s := make([]uint32, 64)
	for i := range s {
		s[i] = uint32(i)
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	for _, a := range []uintptr{base, base + 60, base + 4*64, base + 1<<40, 0, ^uintptr(0)} {
		Line(a)
	}
	for i, v := range s {
		if v != uint32(i) {
			t.Fatalf("s[%d] = %d after the hints, want %d", i, v, i)
		}
	}
}
