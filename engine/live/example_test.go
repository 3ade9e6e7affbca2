package live_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"

	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// A stream written to a "file" and served live on a loopback TCP port to
// one subscriber. In a simulation, the writer is sim.Run's: give it
// io.MultiWriter(file, srv) as sim.Options.Out.
func Example() {
	srv := live.New(live.Options{})
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{OnSlow: live.Block})
	if err != nil {
		log.Fatal(err)
	}
	conn, err := live.Dial(context.Background(), addr)
	if err != nil {
		log.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(conn) // until the server hangs up after the trailer
		conn.Close()
		got <- b
	}()
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil { // myelin run --wait 1
		log.Fatal(err)
	}

	var file bytes.Buffer
	w, err := stream.NewWriter(io.MultiWriter(&file, srv), &myelinpb.Header{
		DtMs:        0.1,
		Populations: []*myelinpb.PopulationRange{{Name: "E", FirstId: 0, Size: 10, Recorded: true}},
	})
	if err != nil {
		log.Fatal(err)
	}
	if err := w.WriteSpikes(0, []uint32{2, 0, 1}, []uint32{3, 7, 5}); err != nil {
		log.Fatal(err)
	}
	if err := w.Close(&myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE}); err != nil {
		log.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		log.Fatal(err)
	}

	live := <-got
	res, err := stream.ReadAll(bytes.NewReader(live))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("subscriber got neurons", res.IDs, "at steps", res.Steps)
	fmt.Println("same bytes as the file:", bytes.Equal(live, file.Bytes()))
	// Output:
	// subscriber got neurons [3 7 5] at steps [0 0 2]
	// same bytes as the file: true
}
