package live_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// writeChunks writes data to w in chunks of random sizes (1 byte to a few
// records), as a bufio.Writer might cut it.
func writeChunks(t testing.TB, w io.Writer, data []byte, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(3000))
		if rng.IntN(4) == 0 {
			n = 1
		}
		if got, err := w.Write(data[:n]); err != nil || got != n {
			t.Fatalf("Write(%d bytes) = %d, %v", n, got, err)
		}
		data = data[n:]
	}
}

// TestReframing: subscribers on TCP and Unix sockets receive exactly the
// bytes written, however the writer cuts them.
func TestReframing(t *testing.T) {
	ts := makeStream(t, 1, 30, 0.01)
	srv := live.New(live.Options{Logf: t.Logf})
	tcp, err := srv.Listen("127.0.0.1:0", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unix, err := srv.Listen("unix:"+filepath.Join(shortDir(t), "s.sock"), live.ListenOptions{Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tcp, "tcp://127.0.0.1:") || !strings.HasPrefix(unix, "unix:") {
		t.Fatalf("addresses %q, %q", tcp, unix)
	}
	if got := srv.Addrs(); !slices.Equal(got, []string{tcp, unix}) {
		t.Errorf("Addrs() = %v", got)
	}
	a, b := subscribe(t, tcp), subscribe(t, unix)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.WaitSubscribers(ctx, 2); err != nil {
		t.Fatal(err)
	}
	writeChunks(t, srv, ts.data, 1)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	expectWhole(t, ts.data, map[string]*reader{"tcp": a, "unix": b})
	st := srv.Stats()
	if st.Joined != 2 || st.Subscribers != 0 || st.Spikes != uint64(len(ts.res.IDs)) || st.Dropped != 0 || st.Records != uint64(len(ts.offsets)-1) {
		t.Errorf("stats %+v; want 2 joined, 0 connected, %d spikes, %d records", st, len(ts.res.IDs), len(ts.offsets)-1)
	}
}

// TestLateJoiner: a subscriber that joins mid-stream gets the header, a gap
// for the steps it missed, then the rest; its trailer counts what it got.
func TestLateJoiner(t *testing.T) {
	ts := makeStream(t, 2, 20, 0.01)
	srv := live.New(live.Options{})
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	early := subscribe(t, addr)
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	cut := ts.offsets[7] // after the header and three blocks (spikes + state)
	if _, err := srv.Write(ts.data[:cut]); err != nil {
		t.Fatal(err)
	}
	late := subscribe(t, addr)
	if err := srv.WaitSubscribers(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Write(ts.data[cut:]); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := early.wait(t); !bytes.Equal(got, ts.data) {
		t.Error("the early subscriber did not get the stream as written")
	}
	res := readAll(t, late.wait(t))
	if len(res.Gaps) != 1 || res.Gaps[0].GetFirstStep() != 0 || res.Gaps[0].GetLastStep() != 300 {
		t.Fatalf("late joiner's gaps: %v, want one of steps [0, 300)", res.Gaps)
	}
	checkSubset(t, res, ts.res)
	if got, want := uint64(len(res.IDs))+missed(res), uint64(len(ts.res.IDs)); got != want {
		t.Errorf("received %d + missed %d != %d written", len(res.IDs), missed(res), want)
	}
	// Trailer: per-population counts of what it received.
	var perPop [2]uint64
	for _, id := range res.IDs {
		perPop[min(id/800, 1)]++
	}
	if got := res.Trailer.GetPopulationSpikes(); len(got) != 2 || got[0] != perPop[0] || got[1] != perPop[1] {
		t.Errorf("late trailer population_spikes %v, want %v", got, perPop)
	}
	if res.Trailer.GetBackend() != "test" || res.Trailer.GetStatus() != myelinpb.Trailer_COMPLETE {
		t.Errorf("late trailer lost its fields: %v", res.Trailer)
	}
	// State samples: only those written after it joined.
	if got := len(res.State[0].Steps); got != 10*(20-3) {
		t.Errorf("late joiner got %d state samples, want %d", got, 10*(20-3))
	}
}

// dropRunBytes bounds what a subscriber that reads nothing takes in before
// its queue (ListenOptions.Queue 1) is full: the server's write buffer for
// it (64 KiB), what its socket holds (a few KiB with SendBuffer 4096), the
// record being written and the one queued, with room to spare.
const dropRunBytes = 160 << 10

// dropStream returns a stream for a Drop subscriber that reads nothing: a
// run of spike blocks of more than dropRunBytes, then spike and state
// blocks in turn. The run makes spike blocks find the subscriber's queue
// full, and be dropped, before any state block does, whatever the
// scheduling: the writer never waits for a spike block in Drop mode. With
// state blocks from the start, the first record to find the queue full
// was a spike block or a state block depending on how far the
// subscriber's goroutine had got (it writes a record at once when nothing
// else is queued, and several together otherwise), and in the second case
// the writer waited at that state block, the subscriber was cut off after
// StallTimeout, and nothing was dropped: TestDropGaps and TestDropStall
// failed about one run in ten under -race.
func dropStream(t *testing.T, seed uint64) *testStream {
	t.Helper()
	const spikeRun = 40 // blocks of about 5 KB each
	ts := makeStreamStateFrom(t, seed, spikeRun+20, 0.05, spikeRun)
	if n := ts.offsets[1+spikeRun] - ts.offsets[1]; n <= dropRunBytes {
		t.Fatalf("the run of spike blocks before the first state block is %d bytes, want more than %d", n, dropRunBytes)
	}
	return ts
}

// TestDropGaps: a Drop subscriber that does not read loses spike blocks,
// is told of each run of them in a gap, and still gets every state block
// and the trailer.
func TestDropGaps(t *testing.T) {
	ts := dropStream(t, 3)
	srv := live.New(live.Options{Logf: t.Logf})
	path := filepath.Join(shortDir(t), "d.sock")
	if _, err := srv.Listen("unix:"+path, live.ListenOptions{OnSlow: live.Drop, Queue: 1, SendBuffer: 4096}); err != nil {
		t.Fatal(err)
	}
	c := dialUnixConn(t, path)
	defer c.Close()
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	// The subscriber reads nothing until some spikes were dropped for it.
	// Meanwhile the writer drops spike blocks (dropStream: some must be)
	// and waits at the first state block, which is never dropped, for at
	// most the default StallTimeout (5 s).
	got := make(chan []byte)
	go func() {
		// At most 20 s: if nothing is ever dropped the writer waits at the
		// state block for this reader, and the test must fail (no gaps)
		// rather than hang.
		for end := time.Now().Add(20 * time.Second); srv.Stats().Dropped == 0 && time.Now().Before(end); {
			time.Sleep(2 * time.Millisecond)
		}
		b, _ := io.ReadAll(c)
		got <- b
	}()
	writeChunks(t, srv, ts.data, 3)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	res := readAll(t, <-got)
	if len(res.Gaps) == 0 {
		t.Fatal("no gaps: the subscriber kept up")
	}
	checkSubset(t, res, ts.res)
	if got, want := uint64(len(res.IDs))+missed(res), uint64(len(ts.res.IDs)); got != want {
		t.Errorf("received %d + missed %d != %d written", len(res.IDs), missed(res), want)
	}
	if st := srv.Stats(); st.Dropped != missed(res) || st.Gaps != uint64(len(res.Gaps)) {
		t.Errorf("stats %+v; the stream has %d gaps missing %d spikes", st, len(res.Gaps), missed(res))
	}
	if got, want := len(res.State[0].Steps), len(ts.res.State[0].Steps); got != want {
		t.Errorf("%d state samples, want all %d", got, want)
	}
	if res.Trailer.GetTotalSpikes() != uint64(len(res.IDs)) {
		t.Errorf("trailer total %d, stream holds %d", res.Trailer.GetTotalSpikes(), len(res.IDs))
	}
}

// TestDisconnect: a subscriber that hangs up does not fail the writer, in
// Block mode, and the others still get everything.
func TestDisconnect(t *testing.T) {
	ts := makeStream(t, 4, 60, 0.02)
	srv := live.New(live.Options{})
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{Queue: 1, SendBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}
	good := subscribe(t, addr)
	quitter, err := live.Dial(context.Background(), addr)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitSubscribers(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 100)
		io.ReadFull(quitter, buf)
		quitter.Close()
	}()
	writeChunks(t, srv, ts.data, 4)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if got := good.wait(t); !bytes.Equal(got, ts.data) {
		t.Error("the remaining subscriber did not get the whole stream")
	}
}

// TestAbort: Abort releases a writer blocked on a subscriber that stopped
// reading.
func TestAbort(t *testing.T) {
	ts := makeStream(t, 5, 60, 0.02)
	srv := live.New(live.Options{})
	path := filepath.Join(shortDir(t), "a.sock")
	if _, err := srv.Listen("unix:"+path, live.ListenOptions{Queue: 1, SendBuffer: 4096}); err != nil {
		t.Fatal(err)
	}
	c := dialUnixConn(t, path) // never reads
	defer c.Close()
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := srv.Write(ts.data)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Write returned (%v) although the subscriber reads nothing", err)
	case <-time.After(200 * time.Millisecond):
	}
	srv.Abort()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Abort did not release the writer")
	}
	if n, err := srv.Write([]byte{1, 2, 3}); n != 3 || err != nil {
		t.Errorf("Write after Abort = %d, %v; want it discarded", n, err)
	}
	if err := srv.Close(); err != nil {
		t.Logf("Close after Abort: %v", err)
	}
}

// TestFilter: a filtered server serves only the selected neurons, in a
// stream the reader accepts, with counts and header to match.
func TestFilter(t *testing.T) {
	ts := makeStream(t, 6, 10, 0.01)
	srv, r := serveFiltered(t, "E@100:50, E@120:100 ,", "127.0.0.1:0")
	if _, err := srv.Write(ts.data); err == nil || !strings.Contains(err.Error(), "takes its stream from StreamWriter") {
		t.Errorf("Write to a filtered server: %v, want a refusal", err)
	}
	if err := replay(srv, ts.data); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	res := readAll(t, r.wait(t))
	var want []uint32
	var wantSteps []uint64
	for i, id := range ts.res.IDs {
		if id >= 100 && id < 220 {
			want, wantSteps = append(want, id), append(wantSteps, ts.res.Steps[i])
		}
	}
	if !slices.Equal(res.IDs, want) || !slices.Equal(res.Steps, wantSteps) {
		t.Errorf("filtered stream has %d spikes, want the %d of E[100, 220)", len(res.IDs), len(want))
	}
	pops := res.Header.GetPopulations()
	if !pops[0].GetRecorded() || pops[1].GetRecorded() {
		t.Errorf("served header: recorded E=%v I=%v, want true, false", pops[0].GetRecorded(), pops[1].GetRecorded())
	}
	if got := res.Trailer.GetPopulationSpikes(); len(got) != 2 || got[0] != uint64(len(want)) || got[1] != 0 {
		t.Errorf("trailer population_spikes %v, want [%d 0]", got, len(want))
	}
	if len(res.State[0].Steps) != len(ts.res.State[0].Steps) {
		t.Errorf("state of E: %d samples, want %d", len(res.State[0].Steps), len(ts.res.State[0].Steps))
	}

	// I only: the state series of E is not served.
	srv, r = serveFiltered(t, "I", "127.0.0.1:0")
	if err := replay(srv, ts.data); err != nil {
		t.Fatal(err)
	}
	srv.Close()
	res = readAll(t, r.wait(t))
	if len(res.State[0].Steps) != 0 {
		t.Errorf("filter I served %d samples of E", len(res.State[0].Steps))
	}
	for _, id := range res.IDs {
		if id < 800 {
			t.Fatalf("filter I served neuron %d", id)
		}
	}

	// A population the stream does not have.
	fx, _ := live.ParseFilter("X")
	srv = live.New(live.Options{Filter: fx})
	if err := replay(srv, ts.data); err == nil || !strings.Contains(err.Error(), `no population "X" (have E, I)`) {
		t.Errorf("filter X: %v", err)
	}
}

// replay feeds a stream to a server through its StreamWriter, block by
// block, as a run does.
func replay(srv *live.Server, data []byte) error {
	rd := stream.NewReader(bytes.NewReader(data))
	var w *stream.Writer
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch k := rec.GetKind().(type) {
		case *myelinpb.Record_Header:
			if w, err = srv.StreamWriter(k.Header); err != nil {
				return err
			}
		case *myelinpb.Record_Spikes:
			_, ids := rd.Spikes()
			err = w.WriteSpikes(k.Spikes.GetFirstStep(), k.Spikes.GetCounts(), ids)
		case *myelinpb.Record_State:
			b := k.State
			err = w.WriteState(b.GetSeries(), b.GetFirstStep(), b.GetNumSamples(), b.GetValues())
		case *myelinpb.Record_Gap:
			err = w.WriteGap(k.Gap.GetFirstStep(), k.Gap.GetLastStep(), k.Gap.GetMissedSpikes())
		case *myelinpb.Record_Trailer:
			err = w.Close(k.Trailer)
		}
		if err == nil {
			err = w.Flush()
		}
		if err != nil {
			return err
		}
	}
}

func TestParseFilter(t *testing.T) {
	for _, bad := range []string{"", ",", "@1:2", "E@1", "E@a:1", "E@1:0"} {
		if _, err := live.ParseFilter(bad); err == nil {
			t.Errorf("ParseFilter(%q) accepted", bad)
		}
	}
	f, err := live.ParseFilter("E@0:10,I")
	if err != nil || f.String() != "E@0:10,I" {
		t.Fatalf("ParseFilter: %v, %v", f, err)
	}
	if err := f.Check(map[string]uint32{"E": 5, "I": 1}); err == nil || !strings.Contains(err.Error(), "not all within") {
		t.Errorf("Check of a range past the population: %v", err)
	}
}

func TestAddr(t *testing.T) {
	for _, tc := range []struct{ in, network, address string }{
		{"127.0.0.1:5000", "tcp", "127.0.0.1:5000"},
		{":0", "tcp", ":0"},
		{"tcp://localhost:80", "tcp", "localhost:80"},
		{"tcp://[::1]:80", "tcp", "[::1]:80"},
		{"unix:/tmp/x.sock", "unix", "/tmp/x.sock"},
	} {
		n, a, err := live.ParseAddr(tc.in)
		if err != nil || n != tc.network || a != tc.address {
			t.Errorf("ParseAddr(%q) = %q, %q, %v", tc.in, n, a, err)
		}
		if !live.IsAddr(tc.in) {
			t.Errorf("IsAddr(%q) = false", tc.in)
		}
	}
	for _, bad := range []string{"unix:", "localhost", "host:http", "host:70000", "run.myelin"} {
		if _, _, err := live.ParseAddr(bad); err == nil {
			t.Errorf("ParseAddr(%q) accepted", bad)
		}
	}
	for _, s := range []string{"run.myelin", "out/brunel.myelin", "C:file"} {
		if live.IsAddr(s) {
			t.Errorf("IsAddr(%q) = true", s)
		}
	}
}

// TestRefused: Dial names the address and says nothing is serving there.
func TestRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	_, err = live.Dial(context.Background(), addr)
	if err == nil || !errors.Is(err, syscall.ECONNREFUSED) || !strings.Contains(err.Error(), "connect to "+addr) || !strings.Contains(err.Error(), "nothing is serving there") {
		t.Errorf("Dial of a closed port: %v", err)
	}
	_, err = live.Dial(context.Background(), "unix:"+filepath.Join(shortDir(t), "none.sock"))
	if err == nil || !strings.Contains(err.Error(), "nothing is serving there") {
		t.Errorf("Dial of a missing socket: %v", err)
	}
}

// TestUnixSocketFile: a stale socket file is replaced; a regular file is
// not.
func TestUnixSocketFile(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "s.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // leaves a stale socket file
	srv := live.New(live.Options{})
	if _, err := srv.Listen("unix:"+path, live.ListenOptions{}); err != nil {
		t.Errorf("stale socket: %v", err)
	}
	srv.Close()
	file := filepath.Join(dir, "data.myelin")
	os.WriteFile(file, []byte("keep me"), 0o644)
	srv = live.New(live.Options{})
	if _, err := srv.Listen("unix:"+file, live.ListenOptions{}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Errorf("listening on a regular file: %v", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Error("the regular file was changed")
	}
	srv.Close()
}

// TestWaitCancelled: WaitSubscribers gives up with the context.
func TestWaitCancelled(t *testing.T) {
	srv := live.New(live.Options{})
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := srv.WaitSubscribers(ctx, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitSubscribers: %v", err)
	}
}

// TestBadInput: bytes that are not a record stream fail Write; a stream
// cut inside a record makes Close say so.
func TestBadInput(t *testing.T) {
	srv := live.New(live.Options{})
	if _, err := srv.Write(bytes.Repeat([]byte{0xff}, 12)); err == nil {
		t.Error("Write of garbage succeeded")
	}
	ts := makeStream(t, 8, 2, 0.01)
	srv = live.New(live.Options{})
	if _, err := srv.Write(ts.data[:len(ts.data)-3]); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err == nil || !strings.Contains(err.Error(), "ended inside a record") {
		t.Errorf("Close after a cut stream: %v", err)
	}
	if _, err := srv.Write(ts.data); !errors.Is(err, live.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
}

// TestLateAfterTrailer: once the stream is complete nobody can join.
func TestLateAfterTrailer(t *testing.T) {
	ts := makeStream(t, 9, 2, 0.01)
	srv := live.New(live.Options{})
	addr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Write(ts.data); err != nil {
		t.Fatal(err)
	}
	if c, err := live.Dial(context.Background(), addr); err == nil {
		// Accepted before the listener closed: it must get nothing.
		b, _ := io.ReadAll(c)
		c.Close()
		if len(b) != 0 {
			t.Errorf("a subscriber after the trailer got %d bytes", len(b))
		}
	}
	srv.Close()
}

// TestDropStall: in Drop mode, a subscriber that reads nothing at all has
// spike blocks dropped, is disconnected once a state block has waited
// StallTimeout for room, and the writer goes on.
func TestDropStall(t *testing.T) {
	ts := dropStream(t, 10)
	srv := live.New(live.Options{Logf: t.Logf})
	path := filepath.Join(shortDir(t), "st.sock")
	if _, err := srv.Listen("unix:"+path, live.ListenOptions{OnSlow: live.Drop, Queue: 1, SendBuffer: 4096, StallTimeout: 50 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	c := dialUnixConn(t, path) // never reads
	defer c.Close()
	if err := srv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := srv.Write(ts.data)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the writer is stuck behind a stalled Drop subscriber")
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Subscribers != 0 || st.Dropped == 0 {
		t.Errorf("stats %+v; want the subscriber gone after drops", st)
	}
}
