package sim

import (
	"bytes"
	"slices"
	"testing"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// A block with more spikes than a record may hold is written as several
// records of consecutive steps, and reads back the same.
func TestLargeBlocksAreSplit(t *testing.T) {
	h := &myelinpb.Header{DtMs: 0.1, TotalSteps: 100, Populations: []*myelinpb.PopulationRange{{Name: "A", Size: 100, Recorded: true}}}
	var buf bytes.Buffer
	w, err := stream.NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	s := &recorder{ws: []*stream.Writer{w}, maxIDs: 7}
	counts := []uint32{3, 0, 5, 9, 2, 2, 1}
	var ids []uint32
	for _, c := range counts {
		for j := uint32(0); j < c; j++ {
			ids = append(ids, j*10)
		}
	}
	if err := s.writeSpikes(w, 40, counts, ids); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	r := stream.NewReader(bytes.NewReader(buf.Bytes()))
	var blocks []int
	var gotSteps []uint64
	var gotIDs []uint32
	for {
		rec, err := r.Next()
		if err != nil {
			break
		}
		if b := rec.GetSpikes(); b != nil {
			steps, bid, err := stream.DecodeSpikes(b)
			if err != nil {
				t.Fatal(err)
			}
			blocks = append(blocks, len(bid))
			gotSteps, gotIDs = append(gotSteps, steps...), append(gotIDs, bid...)
		}
	}
	// 3+0 | 5 | 9 (a step is never split) | 2+2+1
	if !slices.Equal(blocks, []int{3, 5, 9, 5}) {
		t.Errorf("records of %v spikes, want [3 5 9 5]", blocks)
	}
	if !slices.Equal(gotIDs, ids) || gotSteps[0] != 40 || gotSteps[len(gotSteps)-1] != 46 {
		t.Errorf("split blocks do not read back the same spikes: steps %v", gotSteps)
	}
}
