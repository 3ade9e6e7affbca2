package stream_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// A stream written and read back: two populations, one spike block.
func Example() {
	var buf bytes.Buffer
	w, err := stream.NewWriter(&buf, &myelinpb.Header{
		Seed: 1,
		DtMs: 0.1,
		Populations: []*myelinpb.PopulationRange{
			{Name: "E", FirstId: 0, Size: 800},
			{Name: "I", FirstId: 800, Size: 200},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	// Steps 0..2: neurons 3 and 801 fire in step 0, none in step 1,
	// neuron 5 in step 2.
	if err := w.WriteSpikes(0, []uint32{2, 0, 1}, []uint32{3, 801, 5}); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(&myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, Backend: "cpu"}); err != nil {
		log.Fatal(err)
	}

	res, err := stream.ReadAll(&buf)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("steps", res.Steps, "ids", res.IDs)
	times, ids := res.PopulationSpikes("I")
	fmt.Println("I fired at", times, "ms, neurons", ids)
	fmt.Println("per population", res.Trailer.GetPopulationSpikes())
	// Output:
	// steps [0 0 2] ids [3 801 5]
	// I fired at [0.1] ms, neurons [1]
	// per population [2 1]
}
