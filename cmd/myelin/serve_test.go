package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
)

// `myelin serve` driven through stdin/stdout gives the spikes of one
// `myelin run` of the same total duration, over the command line.
func TestServeEqualsRun(t *testing.T) {
	dir := t.TempDir()
	code, specText, _ := myelin(t, "spec", "brunel", "--set", "n=1000,duration_ms=120")
	if code != 0 {
		t.Fatal("spec failed")
	}
	specFile := filepath.Join(dir, "brunel.textproto")
	if err := os.WriteFile(specFile, []byte(specText), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "run.myelin")
	if code, _, errOut := myelin(t, "run", specFile, "--backend", "cpu", "-o", out, "-q"); code != 0 {
		t.Fatalf("run: exit %d: %s", code, errOut)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want, err := stream.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}

	var in bytes.Buffer
	cmds := []*myelinpb.Command{
		{Id: 1, Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{SpecText: specText, Backend: "cpu", Threads: 1}}},
		{Id: 2, Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 45.5}}},
		{Id: 3, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}},
		{Id: 4, Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 74.5}}},
		{Id: 5, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}},
		{Id: 6, Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: -1}}},
	}
	for _, c := range cmds {
		if _, err := protodelim.MarshalTo(&in, c); err != nil {
			t.Fatal(err)
		}
	}
	var stdout, stderr bytes.Buffer
	// stdin ends after the last command: the session ends cleanly.
	if code := dispatch(context.Background(), &env{stdout: &stdout, stderr: &stderr, stdin: &in}, []string{"serve"}); code != 0 {
		t.Fatalf("serve: exit %d: %s", code, stderr.String())
	}
	var steps []uint64
	var ids []uint32
	var last *myelinpb.Reply
	for i := range cmds {
		rep := &myelinpb.Reply{}
		if err := protodelim.UnmarshalFrom(&stdout, rep); err != nil {
			t.Fatalf("reply %d: %v", i+1, err)
		}
		if rep.GetId() != uint64(i+1) {
			t.Fatalf("reply %d has id %d", i+1, rep.GetId())
		}
		if i < len(cmds)-1 && rep.GetError() != "" {
			t.Fatalf("reply %d: %s", i+1, rep.GetError())
		}
		steps = append(steps, rep.GetData().GetSpikeSteps()...)
		ids = append(ids, rep.GetData().GetSpikeIds()...)
		last = rep
	}
	if !strings.HasPrefix(last.GetError(), "run: duration_ms") {
		t.Errorf("negative run: error %q, want one naming run and duration_ms", last.GetError())
	}
	if len(want.IDs) < 100 || !slices.Equal(steps, want.Steps) || !slices.Equal(ids, want.IDs) {
		t.Errorf("serve read %d spikes, run wrote %d; they differ", len(ids), len(want.IDs))
	}
}

func TestServeFlags(t *testing.T) {
	if code, _, errOut := myelin(t, "serve", "extra"); code != 2 || !strings.Contains(errOut, "no arguments") {
		t.Errorf("serve extra: exit %d, %q", code, errOut)
	}
	for _, c := range []struct{ args, want string }{
		{"--socket /nonexistent/s --reply-stall 0", "--reply-stall 0s: want a duration > 0"},
		{"--socket /nonexistent/s --reply-stall -1s", "--reply-stall -1s: want a duration > 0"},
		{"--reply-stall 5s", "--reply-stall applies to the clients of --socket"},
		{"--socket /nonexistent/s --client-idle 0", "--client-idle 0s: want a duration > 0"},
		{"--socket /nonexistent/s --client-idle -2m", "--client-idle -2m0s: want a duration > 0"},
		{"--socket /nonexistent/s --client-idle soon", `invalid argument "soon" for "--client-idle" flag`},
		{"--client-idle 5s", "--client-idle applies to the clients of --socket"},
		{"--reply-stall 5s --client-idle 5s", "--reply-stall and --client-idle apply to the clients of --socket"},
	} {
		if code, _, errOut := myelin(t, append([]string{"serve"}, strings.Fields(c.args)...)...); code != 2 || !strings.Contains(errOut, c.want) {
			t.Errorf("serve %s: exit %d, %q; want 2 and %q", c.args, code, errOut, c.want)
		}
	}
	if code, _, _ := myelin(t, "serve", "--help"); code != 0 {
		t.Errorf("serve --help: exit %d", code)
	}
}

// With --socket, clients are served one after another until interrupted.
func TestServeSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "myelin.sock")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		done <- dispatch(ctx, &env{stdout: &bytes.Buffer{}, stderr: &stderr, stdin: strings.NewReader("")}, []string{"serve", "--socket", sock})
	}()
	for client := 0; client < 2; client++ {
		var conn net.Conn
		var err error
		for try := 0; try < 200; try++ {
			if conn, err = net.Dial("unix", sock); err == nil {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		if _, err := protodelim.MarshalTo(conn, &myelinpb.Command{Id: 7, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}}); err != nil {
			t.Fatal(err)
		}
		rep := &myelinpb.Reply{}
		if err := protodelim.UnmarshalFrom(bufio.NewReader(conn), rep); err != nil {
			t.Fatal(err)
		}
		if rep.GetId() != 7 || !strings.HasPrefix(rep.GetError(), "read: no network loaded") {
			t.Errorf("client %d: reply %v", client, rep)
		}
		conn.Close()
	}
	cancel()
	awaitServeExit(t, done, &stderr)
}

// A --socket client that sends a run and never reads its reply is dropped
// after --reply-stall, with a line on stderr saying why, and the next
// client is served (before: it waited for ever).
func TestServeSocketReplyStall(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "myelin.sock")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var stderr syncBuffer
	go func() {
		done <- dispatch(ctx, &env{stdout: &bytes.Buffer{}, stderr: &stderr, stdin: strings.NewReader("")}, []string{"serve", "--socket", sock, "--reply-stall", "300ms"})
	}()
	dial := func() net.Conn {
		t.Helper()
		for try := 0; try < 200; try++ {
			if conn, err := net.Dial("unix", sock); err == nil {
				return conn
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("dial %s: no server", sock)
		return nil
	}
	// 1,000 neurons probed at every step: 8 MB of samples in 200 ms.
	spec := "dt_ms: 0.1 populations { name: \"E\" size: 1000 iaf_psc_exp {} } recording { state { population: \"E\" count: 1000 every: 1 } }"
	stalled := dial()
	defer stalled.Close()
	for i, c := range []*myelinpb.Command{
		{Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{SpecText: spec, Threads: 1}}},
		{Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 200, Read: true}}},
	} {
		c.Id = uint64(i + 1)
		if _, err := protodelim.MarshalTo(stalled, c); err != nil {
			t.Fatal(err)
		}
	}
	next := dial()
	defer next.Close()
	t0 := time.Now()
	if _, err := protodelim.MarshalTo(next, &myelinpb.Command{Id: 9, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}}); err != nil {
		t.Fatal(err)
	}
	got := make(chan *myelinpb.Reply, 1)
	go func() {
		rep := &myelinpb.Reply{}
		if err := protodelim.UnmarshalFrom(bufio.NewReader(next), rep); err != nil {
			rep.Error = err.Error()
		}
		got <- rep
	}()
	select {
	case rep := <-got:
		if rep.GetId() != 9 || !strings.HasPrefix(rep.GetError(), "read: no network loaded") {
			t.Errorf("the next client's reply: %v", rep)
		}
		t.Logf("the next client was served %v after it connected", time.Since(t0))
	case <-time.After(20 * time.Second):
		t.Fatalf("the next client was not served; stderr: %s", stderr.String())
	}
	if log := stderr.String(); !strings.Contains(log, "client ended: reply to command 2 (") || !strings.Contains(log, "took no byte of the reply for 300ms; the client was dropped") {
		t.Errorf("stderr does not say why the client was dropped:\n%s", log)
	}
	cancel()
	awaitServeExit(t, done, &stderr)
}

// awaitServeExit waits for an interrupted `serve --socket` (done gets its
// exit code) and checks that it exits 0 within 10 s.
func awaitServeExit(t *testing.T, done <-chan int, stderr fmt.Stringer) {
	t.Helper()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("serve --socket: exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve --socket did not stop when interrupted")
	}
}
