package main

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	myelinpb "github.com/myelin-sim/myelin/proto"
	"google.golang.org/protobuf/encoding/protodelim"
)

// SIGINT or SIGTERM to `myelin serve` during a long run: the run stops
// promptly, the client gets the state reached and its data with an error
// saying the run was interrupted, and the process exits cleanly.
func TestServeSignalStopsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "myelin")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	code, specText, _ := myelin(t, "spec", "brunel", "--set", "n=1000")
	if code != 0 {
		t.Fatal("spec failed")
	}
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cmd := exec.Command(bin, "serve")
			var stderr syncBuffer
			cmd.Stderr = &stderr
			in, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			out := bufio.NewReader(stdout)
			read := func() (*myelinpb.Reply, error) {
				rep := &myelinpb.Reply{}
				err := protodelim.UnmarshalOptions{MaxSize: 1 << 30}.UnmarshalFrom(out, rep)
				return rep, err
			}
			if _, err := protodelim.MarshalTo(in, &myelinpb.Command{Id: 1, Kind: &myelinpb.Command_Load{Load: &myelinpb.LoadCommand{SpecText: specText, Threads: 1}}}); err != nil {
				t.Fatal(err)
			}
			if rep, err := read(); err != nil || rep.GetError() != "" {
				t.Fatalf("load: %v %s (stderr %s)", err, rep.GetError(), stderr.String())
			}
			if _, err := protodelim.MarshalTo(in, &myelinpb.Command{Id: 2, Kind: &myelinpb.Command_Run{Run: &myelinpb.RunCommand{DurationMs: 1e7, Read: true}}}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Second)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			sent := time.Now()
			type result struct {
				rep     *myelinpb.Reply
				readErr error
				replyAt time.Duration
				waitErr error
			}
			ended := make(chan result, 1)
			go func() {
				var r result
				r.rep, r.readErr = read()
				r.replyAt = time.Since(sent)
				r.waitErr = cmd.Wait()
				ended <- r
			}()
			select {
			case r := <-ended:
				if r.readErr != nil {
					t.Fatalf("no reply to the interrupted run: %v (stderr %s)", r.readErr, stderr.String())
				}
				if r.replyAt > 2*time.Second {
					t.Errorf("reply after %v, want < 2 s", r.replyAt)
				}
				if r.rep.GetId() != 2 || !strings.HasPrefix(r.rep.GetError(), "run: interrupted at step") {
					t.Errorf("reply %d: error %q, want run: interrupted at step ...", r.rep.GetId(), r.rep.GetError())
				}
				if ran := r.rep.GetRan(); ran.GetStep() == 0 || ran.GetData().GetEndStep() != ran.GetStep() || len(ran.GetData().GetSpikeIds()) == 0 {
					t.Errorf("interrupted run: step %d, data to step %d, %d spikes; want what was simulated", ran.GetStep(), ran.GetData().GetEndStep(), len(ran.GetData().GetSpikeIds()))
				}
				if r.waitErr != nil || time.Since(sent) > 3*time.Second {
					t.Errorf("exit after %v: %v, want status 0 within 3 s; stderr %s", time.Since(sent), r.waitErr, stderr.String())
				}
				if !strings.Contains(stderr.String(), "interrupted") {
					t.Errorf("stderr %q does not say serve was interrupted", stderr.String())
				}
			case <-time.After(20 * time.Second):
				t.Fatalf("serve still running 20 s after %v", sig)
			}
		})
	}
}

// exited is how a command ended.
type exited struct {
	code   int
	stderr string
}

// serveSocket runs `myelin serve --socket sock` until ctx ends; how it
// ended comes on the returned channel.
func serveSocket(ctx context.Context, sock string) <-chan exited {
	done := make(chan exited, 1)
	go func() {
		var stderr syncBuffer
		code := dispatch(ctx, &env{stdout: &bytes.Buffer{}, stderr: &stderr, stdin: strings.NewReader("")}, []string{"serve", "--socket", sock})
		done <- exited{code, stderr.String()}
	}()
	return done
}

// A socket file left by a server that crashed is replaced; a live socket
// or any other file at the path is left alone, with an error.
func TestServeSocketStale(t *testing.T) {
	dir := t.TempDir()
	t.Run("stale", func(t *testing.T) {
		sock := filepath.Join(dir, "stale.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		ln.(*net.UnixListener).SetUnlinkOnClose(false) // as after a crash
		ln.Close()
		if st, err := os.Lstat(sock); err != nil || st.Mode()&os.ModeSocket == 0 {
			t.Fatalf("no stale socket to test with: %v", err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := serveSocket(ctx, sock)
		var conn net.Conn
		for try := 0; ; try++ {
			select {
			case r := <-done:
				t.Fatalf("serve --socket on a stale socket: exit %d: %s", r.code, r.stderr)
			default:
			}
			if conn, err = net.Dial("unix", sock); err == nil {
				break
			}
			if try == 500 {
				t.Fatalf("dial: %v", err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		defer conn.Close()
		if _, err := protodelim.MarshalTo(conn, &myelinpb.Command{Id: 3, Kind: &myelinpb.Command_Read{Read: &myelinpb.ReadCommand{}}}); err != nil {
			t.Fatal(err)
		}
		rep := &myelinpb.Reply{}
		if err := protodelim.UnmarshalFrom(bufio.NewReader(conn), rep); err != nil || rep.GetId() != 3 {
			t.Fatalf("reply %v, %v", rep, err)
		}
		conn.Close()
		cancel()
		select {
		case r := <-done:
			if r.code != 0 {
				t.Errorf("exit %d: %s", r.code, r.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("serve --socket did not stop")
		}
	})
	t.Run("regular file", func(t *testing.T) {
		path := filepath.Join(dir, "notes.txt")
		if err := os.WriteFile(path, []byte("keep me"), 0o644); err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-serveSocket(context.Background(), path):
			if r.code != 1 || !strings.Contains(r.stderr, "not a socket") {
				t.Errorf("exit %d, stderr %q; want 1 and \"not a socket\"", r.code, r.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("serve --socket on a regular file did not fail")
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "keep me" {
			t.Errorf("the file was touched: %q, %v", b, err)
		}
	})
	t.Run("live", func(t *testing.T) {
		sock := filepath.Join(dir, "live.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		select {
		case r := <-serveSocket(context.Background(), sock):
			if r.code != 1 || !strings.Contains(r.stderr, "in use") {
				t.Errorf("exit %d, stderr %q; want 1 and \"in use\"", r.code, r.stderr)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("serve --socket on a live socket did not fail")
		}
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Errorf("the live server's socket no longer answers: %v", err)
		} else {
			c.Close()
		}
	})
}
