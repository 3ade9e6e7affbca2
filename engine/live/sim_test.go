package live_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/cpu"
	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/engine/models"
	"github.com/myelin-sim/myelin/engine/network"
	"github.com/myelin-sim/myelin/engine/sim"
	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// buildModel builds a built-in model with the given parameters.
func buildModel(t testing.TB, name string, set map[string]string) *network.Network {
	t.Helper()
	s, err := models.Spec(name, set)
	if err != nil {
		t.Fatal(err)
	}
	net, err := network.Build(s, network.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// TestLiveRun is the acceptance test: a Brunel run (N = 1000,
// 300 ms) streams to a file and to a live server with three subscribers:
//
//   - fast: TCP, Block mode; it must get every spike (byte for byte the
//     file);
//   - slow: Unix socket, Drop mode with a one-record queue and a small
//     socket buffer, reading nothing until spikes were dropped for it and
//     slowly after that; its
//     received spikes plus the missed spikes its gaps report must equal the
//     total, and each gap must count exactly the spikes of its steps;
//   - quitter: TCP, reads 100 bytes and hangs up; the run must not notice.
func TestLiveRun(t *testing.T) {
	net := buildModel(t, "brunel", map[string]string{"n": "1000", "duration_ms": "300"})
	dir := shortDir(t)
	srv := live.New(live.Options{Logf: t.Logf})
	fastAddr, err := srv.Listen("127.0.0.1:0", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	slowAddr, err := srv.Listen("unix:"+filepath.Join(dir, "slow.sock"), live.ListenOptions{OnSlow: live.Drop, Queue: 1, SendBuffer: 4096})
	if err != nil {
		t.Fatal(err)
	}

	fast := subscribe(t, fastAddr)
	slowConn, err := live.Dial(context.Background(), slowAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer slowConn.Close()
	if err := srv.WaitSubscribers(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	quitter, err := live.Dial(context.Background(), fastAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.WaitSubscribers(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	go func() {
		io.ReadFull(quitter, make([]byte, 100))
		quitter.Close()
	}()
	slowData := make(chan []byte, 1)
	go func() {
		first := make([]byte, 1)
		if _, err := io.ReadFull(slowConn, first); err != nil {
			slowData <- nil
			return
		}
		deadline := time.Now().Add(20 * time.Second)
		for srv.Stats().Dropped == 0 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		// Then read slowly: 256 bytes a millisecond, so that it falls
		// behind again now and then.
		data, buf := first, make([]byte, 256)
		for {
			n, err := slowConn.Read(buf)
			data = append(data, buf[:n]...)
			if err != nil {
				break
			}
			time.Sleep(time.Millisecond)
		}
		slowData <- data
	}()

	var file bytes.Buffer
	start := time.Now()
	res, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(2), Out: io.MultiWriter(&file, srv)})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("run: %d steps in %v, status %v", res.Steps, time.Since(start), res.Status)
	if res.Status != myelinpb.Trailer_COMPLETE {
		t.Fatalf("run status %v", res.Status)
	}

	want := readAll(t, file.Bytes())
	total := want.Trailer.GetTotalSpikes()
	if total < 1000 {
		t.Fatalf("the run fired only %d spikes", total)
	}

	gotFast := fast.wait(t)
	if !bytes.Equal(gotFast, file.Bytes()) {
		t.Fatalf("fast subscriber: %d bytes differ from the %d-byte file stream", len(gotFast), file.Len())
	}
	fastRes := readAll(t, gotFast)
	if uint64(len(fastRes.IDs)) != total || len(fastRes.Gaps) != 0 {
		t.Errorf("fast subscriber: %d spikes, %d gaps; want all %d and none", len(fastRes.IDs), len(fastRes.Gaps), total)
	}

	var slowRes = readAll(t, <-slowData)
	if len(slowRes.Gaps) == 0 {
		t.Fatal("the slow subscriber has no gaps: it was not slow")
	}
	checkSubset(t, slowRes, want)
	received, reported := uint64(len(slowRes.IDs)), missed(slowRes)
	if received+reported != total {
		t.Errorf("slow subscriber: received %d + reported missed %d = %d, want the total %d", received, reported, received+reported, total)
	}
	if slowRes.Trailer.GetTotalSpikes() != received {
		t.Errorf("slow subscriber's trailer counts %d spikes, it received %d", slowRes.Trailer.GetTotalSpikes(), received)
	}
	t.Logf("total %d spikes; slow subscriber received %d, missed %d in %d gaps", total, received, reported, len(slowRes.Gaps))
	if st := srv.Stats(); st.Spikes != total || st.Dropped != reported {
		t.Errorf("server stats %+v; want %d spikes, %d dropped", st, total, reported)
	}
}

// fileAndServer is a sim.Outputs: a file and a (filtered) live server, each
// with its own Writer.
type fileAndServer struct {
	file io.Writer
	srv  *live.Server
}

func (f *fileAndServer) Write(p []byte) (int, error) { return f.file.Write(p) }

func (f *fileAndServer) Writers(h *myelinpb.Header) ([]*stream.Writer, error) {
	fw, err := stream.NewWriter(f.file, h)
	if err != nil {
		return nil, err
	}
	lw, err := f.srv.StreamWriter(h)
	if err != nil {
		return nil, err
	}
	return []*stream.Writer{fw, lw}, nil
}

// TestLiveRunFiltered: a filtered server beside a file; the served spikes
// are the file's spikes of the selected neurons, filtered as the run
// encodes them (StreamWriter), never decoded and encoded again.
func TestLiveRunFiltered(t *testing.T) {
	net := buildModel(t, "brunel", map[string]string{"n": "1000", "duration_ms": "100"})
	srv, r := serveFiltered(t, "E@0:100,I@0:10", "unix:"+filepath.Join(shortDir(t), "f.sock"))
	var file bytes.Buffer
	if _, err := sim.Run(context.Background(), net, sim.Options{Backend: cpu.New(1), Out: &fileAndServer{&file, srv}}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, file.Bytes())
	got := readAll(t, r.wait(t))
	n := 0
	for i, id := range want.IDs {
		if id < 100 || (id >= 800 && id < 810) {
			if n >= len(got.IDs) || got.IDs[n] != id || got.Steps[n] != want.Steps[i] {
				t.Fatalf("served spike %d differs from the file's", n)
			}
			n++
		}
	}
	if n != len(got.IDs) || n == 0 {
		t.Errorf("served %d spikes, the file has %d of the selected neurons", len(got.IDs), n)
	}
}
