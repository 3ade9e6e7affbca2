package live_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/live"
	"github.com/myelin-sim/myelin/internal/pytest"
)

// TestPythonLive checks python/myelin_stream.py against live servers: it
// reads one stream over TCP (read_stream("tcp://...")) and over a Unix
// socket (connect + iter_records) at once, splits spikes by population and
// into per-neuron trains, reads a stream with a gap, and reports a refused
// address clearly (python/check_live.py).
func TestPythonLive(t *testing.T) {
	py := pytest.Python(t)
	dir := shortDir(t)
	ts := makeStream(t, 11, 20, 0.01)

	// A gapped stream: what a subscriber that joined after 5 blocks got.
	gsrv := live.New(live.Options{})
	gaddr, err := gsrv.Listen("127.0.0.1:0", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gsrv.Write(ts.data[:ts.offsets[11]]); err != nil {
		t.Fatal(err)
	}
	late := subscribe(t, gaddr)
	if err := gsrv.WaitSubscribers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if _, err := gsrv.Write(ts.data[ts.offsets[11]:]); err != nil {
		t.Fatal(err)
	}
	gsrv.Close()
	gapped := filepath.Join(dir, "gapped.myelin")
	if err := os.WriteFile(gapped, late.wait(t), 0o644); err != nil {
		t.Fatal(err)
	}

	srv := live.New(live.Options{})
	tcp, err := srv.Listen("127.0.0.1:0", live.ListenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	unix, err := srv.Listen("unix:"+filepath.Join(dir, "py.sock"), live.ListenOptions{Queue: 2})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "tcp://" + ln.Addr().String()
	ln.Close()

	type popSpikes struct {
		TimesMs  []float64 `json:"times_ms"`
		LocalIDs []uint32  `json:"local_ids"`
		Size     uint32    `json:"size"`
	}
	pops := map[string]popSpikes{}
	for _, p := range ts.res.Header.GetPopulations() {
		times, ids := ts.res.PopulationSpikes(p.GetName())
		pops[p.GetName()] = popSpikes{times, ids, p.GetSize()}
	}
	exp := map[string]any{
		"tcp": tcp, "unix": unix, "refused": refused, "gapped": gapped,
		"steps": ts.res.Steps, "ids": ts.res.IDs, "total": len(ts.res.IDs),
		"populations": pops, "spike_blocks": 20,
		"duration_ms": float64(ts.res.Trailer.GetStepsDone()) * ts.res.Header.GetDtMs(),
	}
	js, err := json.Marshal(exp)
	if err != nil {
		t.Fatal(err)
	}
	jsPath := filepath.Join(dir, "expected.json")
	if err := os.WriteFile(jsPath, js, 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(py, filepath.Join(pytest.Dir(), "check_live.py"), jsPath)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.WaitSubscribers(ctx, 2); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("python did not connect: %v\n%s", err, out.Bytes())
	}
	writeChunks(t, srv, ts.data, 11)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s check_live.py: %v\n%s", py, err, out.Bytes())
	}
	t.Logf("%s", bytes.TrimSpace(out.Bytes()))
}
