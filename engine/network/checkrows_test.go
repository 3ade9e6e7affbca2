package network

import (
	"strings"
	"testing"
)

// checkRows accepts well-formed rows and names the first fault of a
// device's words: a target outside the network, a delay above the
// longest, a row out of order.
func TestCheckRows(t *testing.T) {
	const dbits, port, n, maxDelay = 8, 0x80, 3, 5
	w := func(target, delay uint32) uint32 { return target<<dbits | delay }
	good := []uint32{w(0, 1), w(2, 5) | port, w(1, 3), w(1, 4)}
	ptr := []uint64{0, 2, 2, 4}
	if err := checkRows(ptr, good, dbits, port, n, maxDelay, 2); err != nil {
		t.Fatalf("well-formed rows: %v", err)
	}
	for _, c := range []struct {
		name string
		at   int
		word uint32
		want string
	}{
		{"target", 1, w(3, 1), "row 0, synapse 1: target 3 of 3 neurons"},
		{"delay", 3, w(1, 6), "row 2, synapse 1: a delay of 6 steps"},
		{"order", 2, w(2, 1), "row 2: not sorted at synapse 1"},
	} {
		bad := append([]uint32(nil), good...)
		bad[c.at] = c.word
		err := checkRows(ptr, bad, dbits, port, n, maxDelay, 2)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
	if err := checkRows(ptr, good[:3], dbits, port, n, maxDelay, 1); err == nil {
		t.Error("3 words for rows of 4: no error")
	}
	if err := checkRows(nil, nil, dbits, port, n, maxDelay, 1); err == nil {
		t.Error("no row pointers: no error")
	}
}
