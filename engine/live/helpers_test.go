package live_test

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// testStream is a synthetic stream: its bytes and the offsets at which its
// records start.
type testStream struct {
	data    []byte
	offsets []int
	res     *stream.Result
}

// makeStream writes a stream of `blocks` spike blocks of 100 steps among
// populations E [0, 800) and I [800, 1000), with a state series of E
// sampled every 10 steps, and a trailer.
func makeStream(t testing.TB, seed uint64, blocks int, p float64) *testStream {
	t.Helper()
	return makeStreamStateFrom(t, seed, blocks, p, 0)
}

// makeStreamStateFrom is makeStream with state blocks only from spike
// block stateFrom on: the stream starts with a run of stateFrom spike
// blocks, which a Drop subscriber's writer never waits for.
func makeStreamStateFrom(t testing.TB, seed uint64, blocks int, p float64, stateFrom int) *testStream {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	var buf bytes.Buffer
	h := &myelinpb.Header{
		Seed: seed, DtMs: 0.1, TotalSteps: uint64(blocks) * 100,
		Populations: []*myelinpb.PopulationRange{
			{Name: "E", FirstId: 0, Size: 800, Model: "iaf_psc_delta", Recorded: true},
			{Name: "I", FirstId: 800, Size: 200, Model: "iaf_psc_delta", Recorded: true},
		},
		StateSeries: []*myelinpb.StateSeries{{Id: 0, Population: "E", Variable: "V_m", NeuronIds: []uint32{0, 1}, Every: 10}},
	}
	w, err := stream.NewWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	ts := &testStream{offsets: []int{0}}
	mark := func() {
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		ts.offsets = append(ts.offsets, buf.Len())
	}
	mark()
	for b := range blocks {
		var counts, ids []uint32
		for range 100 {
			var c uint32
			for id := range uint32(1000) {
				if rng.Float64() < p {
					ids = append(ids, id)
					c++
				}
			}
			counts = append(counts, c)
		}
		if err := w.WriteSpikes(uint64(b)*100, counts, ids); err != nil {
			t.Fatal(err)
		}
		mark()
		if b < stateFrom {
			continue
		}
		vals := make([]float32, 20)
		for i := range vals {
			vals[i] = float32(b) + float32(i)/100
		}
		if err := w.WriteState(0, uint64(b)*100, 10, vals); err != nil {
			t.Fatal(err)
		}
		mark()
	}
	if err := w.Close(&myelinpb.Trailer{Status: myelinpb.Trailer_COMPLETE, StepsDone: uint64(blocks) * 100, Backend: "test"}); err != nil {
		t.Fatal(err)
	}
	ts.data = buf.Bytes()
	ts.offsets = append(ts.offsets, len(ts.data)) // the end of the trailer
	ts.res, err = stream.ReadAll(bytes.NewReader(ts.data))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// shortDir returns a temporary directory with a short path, for Unix
// socket names (at most 107 bytes).
func shortDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "msink")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// reader is a subscriber that reads everything into memory.
type reader struct {
	done chan struct{}
	data []byte
	err  error
}

// subscribe connects to addr and reads until the server hangs up.
func subscribe(t testing.TB, addr string) *reader {
	t.Helper()
	return subscribeToken(t, addr, "")
}

// subscribeToken is subscribe presenting token (none when empty).
func subscribeToken(t testing.TB, addr, token string) *reader {
	t.Helper()
	c, err := live.DialToken(context.Background(), addr, token)
	if err != nil {
		t.Fatal(err)
	}
	r := &reader{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		defer c.Close()
		r.data, r.err = io.ReadAll(c)
	}()
	return r
}

// wait waits for the reader to finish and returns what it read.
func (r *reader) wait(t testing.TB) []byte {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		t.Fatal("subscriber did not finish")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.data
}

// readAll decodes a served stream.
func readAll(t testing.TB, data []byte) *stream.Result {
	t.Helper()
	res, err := stream.ReadAll(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("served stream: %v", err)
	}
	return res
}

// missed sums the missed spikes of a stream's gaps.
func missed(res *stream.Result) uint64 {
	var n uint64
	for _, g := range res.Gaps {
		n += g.GetMissedSpikes()
	}
	return n
}

// checkSubset checks that the spikes of got are spikes of want, in order,
// that every spike of want is in got unless it lies in one of got's gaps,
// and that each gap's missed count is the number of want's spikes in its
// steps.
func checkSubset(t testing.TB, got, want *stream.Result) {
	t.Helper()
	inGap := func(step uint64) int {
		for i, g := range got.Gaps {
			if step >= g.GetFirstStep() && step < g.GetLastStep() {
				return i
			}
		}
		return -1
	}
	perGap := make([]uint64, len(got.Gaps))
	j := 0
	for i := range want.IDs {
		if g := inGap(want.Steps[i]); g >= 0 {
			perGap[g]++
			continue
		}
		if j >= len(got.IDs) || got.Steps[j] != want.Steps[i] || got.IDs[j] != want.IDs[i] {
			t.Fatalf("spike %d (step %d, neuron %d) of the original is missing from the served stream without a gap", i, want.Steps[i], want.IDs[i])
		}
		j++
	}
	if j != len(got.IDs) {
		t.Fatalf("served stream has %d spikes that are not in the original", len(got.IDs)-j)
	}
	for i, g := range got.Gaps {
		if g.GetMissedSpikes() != perGap[i] {
			t.Errorf("gap %d [%d, %d) reports %d missed spikes, the original has %d there", i, g.GetFirstStep(), g.GetLastStep(), g.GetMissedSpikes(), perGap[i])
		}
	}
}

// dialUnixConn is net.Dial for tests that need the raw connection.
func dialUnixConn(t testing.TB, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// serveFiltered starts a server that serves filter on addr and connects
// one subscriber, waiting until the server counts it.
func serveFiltered(t *testing.T, filter, addr string) (*live.Server, *reader) {
	t.Helper()
	f, err := live.ParseFilter(filter)
	if err != nil {
		t.Fatal(err)
	}
	srv := live.New(live.Options{Filter: f})
	at, err := srv.Listen(addr, live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r := subscribe(t, at)
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	return srv, r
}

// listenIdleAndGood listens on the Unix socket path with opts and connects
// two subscribers, waiting until the server counts both: idle, which never
// reads (closed when the test ends), and good, which does.
func listenIdleAndGood(t *testing.T, srv *live.Server, path string, opts live.ListenOptions) (idle net.Conn, good *reader) {
	t.Helper()
	addr, err := srv.Listen("unix:"+path, opts)
	if err != nil {
		t.Fatal(err)
	}
	idle = dialUnixConn(t, path)
	t.Cleanup(func() { idle.Close() })
	good = subscribe(t, addr)
	if err := srv.WaitSubscribers(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	return idle, good
}

// expectWhole checks that each named subscriber received want, the whole
// stream, byte for byte.
func expectWhole(t testing.TB, want []byte, readers map[string]*reader) {
	t.Helper()
	for name, r := range readers {
		if got := r.wait(t); !bytes.Equal(got, want) {
			t.Errorf("%s subscriber: got %d bytes, want the %d written", name, len(got), len(want))
		}
	}
}
