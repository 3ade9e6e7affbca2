package stream

import (
	"bytes"
	"slices"
	"testing"
)

// TestSelect: a Writer with a selection encodes only the selected ids and
// series, keeps every step, and its trailer counts what it wrote.
func TestSelect(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, testHeader())
	if err != nil {
		t.Fatal(err)
	}
	w.Select(func(id uint32) bool { return id%2 == 0 }, func(s uint32) bool { return s == 7 })
	if err := w.WriteSpikes(0, []uint32{3, 0, 2}, []uint32{1, 2, 4, 5, 7}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteSpikes(3, []uint32{2}, []uint32{3}); err == nil {
		t.Error("counts that do not add up were accepted under a selection")
	}
	if err := w.WriteState(1, 0, 1, []float32{1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteState(7, 0, 1, []float32{9}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	res, err := ReadAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.IDs, []uint32{2, 4}) || !slices.Equal(res.Steps, []uint64{0, 0}) {
		t.Errorf("selected spikes %v at %v, want [2 4] at [0 0]", res.IDs, res.Steps)
	}
	if len(res.State[1].Steps) != 0 || len(res.State[7].Steps) != 1 || res.Trailer.GetTotalSpikes() != 2 {
		t.Errorf("series 1: %d samples, series 7: %d, trailer %d spikes; want 0, 1, 2", len(res.State[1].Steps), len(res.State[7].Steps), res.Trailer.GetTotalSpikes())
	}
}
