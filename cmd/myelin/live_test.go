package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/stream"
)

// socketDir returns a temporary directory with a path short enough for Unix
// socket names.
func socketDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "mcli")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// TestRunListen: `myelin run --listen` serves the stream to `myelin analyze`
// (Unix socket, block) and `myelin export` (TCP on a port the run picks and
// prints, drop) while --out gets the file; --wait 2 makes both see the
// whole run.
func TestRunListen(t *testing.T) {
	dir := socketDir(t)
	file := filepath.Join(dir, "run.myelin")
	sock := filepath.Join(dir, "live.sock")
	csv := filepath.Join(dir, "live.csv")

	var runErr syncBuffer
	type result struct {
		code int
		out  string
	}
	runDone := make(chan result, 1)
	go func() {
		var out syncBuffer
		code := dispatch(context.Background(), &env{stdout: &out, stderr: &runErr, stdin: strings.NewReader("")},
			[]string{"run", "brunel", "--set", "n=1000", "--duration", "200", "--backend", "cpu", "-o", file,
				"--listen", "unix:" + sock, "--listen", "127.0.0.1:0", "--on-slow", "block", "--on-slow", "drop", "--wait", "2"})
		runDone <- result{code, out.String()}
	}()

	// The TCP port is chosen by the run, which prints it.
	portRE := regexp.MustCompile(`serving on (tcp://127\.0\.0\.1:\d+) \(slow subscribers: drop\)`)
	var tcpAddr string
	for deadline := time.Now().Add(10 * time.Second); tcpAddr == ""; {
		if m := portRE.FindStringSubmatch(runErr.String()); m != nil {
			tcpAddr = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the run did not say where it serves:\n%s", runErr.String())
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if !strings.Contains(runErr.String(), "serving on unix:"+sock+" (slow subscribers: block)") {
		t.Errorf("stderr lacks the Unix address:\n%s", runErr.String())
	}

	analyzed := make(chan result, 1)
	go func() {
		code, out, errOut := cli(context.Background(), "analyze", "unix:"+sock)
		analyzed <- result{code, out + errOut}
	}()
	code, _, errOut := cli(context.Background(), "export", tcpAddr, "-o", csv)
	if code != 0 {
		t.Fatalf("export %s: exit %d: %s", tcpAddr, code, errOut)
	}
	a := <-analyzed
	r := <-runDone
	if r.code != 0 {
		t.Fatalf("run: exit %d:\n%s\n%s", r.code, r.out, runErr.String())
	}
	if a.code != 0 {
		t.Fatalf("analyze: exit %d: %s", a.code, a.out)
	}
	if !strings.Contains(runErr.String(), "waiting for 2 subscribers") || !strings.Contains(r.out, "status COMPLETE") {
		t.Errorf("run output:\n%s\n%s", r.out, runErr.String())
	}

	_, res := readStreamFile(t, file)
	// analyze over the socket saw every spike: its E and I rows.
	for i, p := range res.Header.GetPopulations() {
		row := regexp.MustCompile(`(?m)^` + p.GetName() + ` +\d+ +(\d+) `).FindStringSubmatch(a.out)
		if row == nil || row[1] != itoa(res.Trailer.GetPopulationSpikes()[i]) {
			t.Errorf("analyze over the socket, population %s: %v; want %d spikes:\n%s", p.GetName(), row, res.Trailer.GetPopulationSpikes()[i], a.out)
		}
	}
	// export over TCP (drop mode): rows + reported missed = total.
	data, err := os.ReadFile(csv)
	if err != nil {
		t.Fatal(err)
	}
	rows := bytes.Count(data, []byte("\n")) - 1
	missed := 0
	if m := regexp.MustCompile(`(\d+) spikes were dropped`).FindStringSubmatch(errOut); m != nil {
		if missed, err = strconv.Atoi(m[1]); err != nil {
			t.Fatal(err)
		}
	}
	if uint64(rows+missed) != res.Trailer.GetTotalSpikes() {
		t.Errorf("export over TCP: %d rows + %d missed, want %d spikes", rows, missed, res.Trailer.GetTotalSpikes())
	}
}

// readStreamFile reads a stream file and fails the test on any error.
func readStreamFile(t *testing.T, path string) ([]byte, *stream.Result) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := stream.ReadAll(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data, res
}

// TestRunListenErrors: the live flags are checked before anything runs.
func TestRunListenErrors(t *testing.T) {
	dir := socketDir(t)
	regular := filepath.Join(dir, "file")
	os.WriteFile(regular, nil, 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--wait", "1"}, 2, "myelin run: --wait applies only to a live stream: add --listen ADDR\n"},
		{[]string{"--queue", "8", "--listen-max", "3", "--listen-stall", "1s"}, 2, "myelin run: --queue, --listen-stall and --listen-max apply only to a live stream: add --listen ADDR\n"},
		{[]string{"--listen-token", "x"}, 2, "myelin run: --listen-token applies only to a live stream: add --listen ADDR\n"},
		{[]string{"--listen", "127.0.0.1:0", "--on-slow", "fast"}, 2, `on-slow policy "fast": want block or drop`},
		{[]string{"--listen", "127.0.0.1:0", "--on-slow", "drop", "--on-slow", "block", "--on-slow", "drop"}, 2, "--on-slow given 3 times for 1 --listen"},
		{[]string{"--listen", "127.0.0.1:0", "--listen-filter", "X"}, 1, `no population "X" (have E, I)`},
		{[]string{"--listen", "127.0.0.1:0", "--listen-filter", "E@790:20"}, 1, "not all within"},
		{[]string{"--listen", "localhost"}, 1, "want HOST:PORT, tcp://HOST:PORT or unix:PATH"},
		{[]string{"--listen", "unix:" + regular}, 1, "exists and is not a socket"},
		{[]string{"--listen", "127.0.0.1:0", "--queue", "0"}, 2, "--queue"},
		{[]string{"--listen", "127.0.0.1:0", "--queue", "100000000000"}, 2, "--queue 100000000000: at most 16384 records per subscriber"},
		{[]string{"--listen", "127.0.0.1:0", "--listen-max", "0"}, 2, "--listen-max 0: want 1 to 4096 subscribers at once"},
		{[]string{"--listen", "127.0.0.1:0", "--listen-max", "1000000"}, 2, "--listen-max 1000000: want 1 to 4096 subscribers at once"},
		{[]string{"--listen", "127.0.0.1:0", "--wait", "3", "--listen-max", "2"}, 2, "--wait 3: at most 2 subscribers may be connected at once (--listen-max 2); raise --listen-max"},
		{[]string{"--listen", "127.0.0.1:0", "--wait", "257"}, 2, "--wait 257: at most 256 subscribers may be connected at once (--listen-max 256)"},
	} {
		args := append([]string{"run", "brunel", "--set", "n=100", "--duration", "10", "--backend", "cpu", "-q"}, tc.args...)
		code, _, errOut := cli(context.Background(), args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// TestRunListenInterruptedWait: Ctrl-C while waiting for subscribers ends
// the run with exit 130 before it simulates anything.
func TestRunListenInterruptedWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	code, _, errOut := cli(ctx, "run", "brunel", "--set", "n=100", "--duration", "10", "--backend", "cpu", "-q", "--listen", "127.0.0.1:0", "--wait", "1")
	if code != 130 || !strings.Contains(errOut, "interrupted while waiting for 1 subscriber;") {
		t.Errorf("exit %d, %q", code, errOut)
	}
}

// TestRunListenTokenAndWarning: --listen on a non-loopback address warns;
// with --listen-token, analyze without the token gets nothing and analyze
// --token gets the run.
func TestRunListenTokenAndWarning(t *testing.T) {
	var runErr syncBuffer
	runDone := make(chan int, 1)
	go func() {
		var out syncBuffer
		runDone <- dispatch(context.Background(), &env{stdout: &out, stderr: &runErr, stdin: strings.NewReader("")},
			[]string{"run", "brunel", "--set", "n=200", "--duration", "50", "--backend", "cpu", "-q",
				"--listen", "0.0.0.0:0", "--listen-token", "tok-123", "--wait", "1", "--listen-stall", "2s"})
	}()
	portRE := regexp.MustCompile(`serving on tcp://\S+:(\d+) \(slow subscribers: block, token required\)`)
	var port string
	for deadline := time.Now().Add(10 * time.Second); port == ""; {
		if m := portRE.FindStringSubmatch(runErr.String()); m != nil {
			port = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("the run did not say where it serves:\n%s", runErr.String())
		} else {
			time.Sleep(5 * time.Millisecond)
		}
	}
	if !strings.Contains(runErr.String(), "warning: --listen 0.0.0.0:0 accepts connections from other machines") {
		t.Errorf("no warning for a non-loopback --listen:\n%s", runErr.String())
	}
	addr := "127.0.0.1:" + port
	code, _, errOut := cli(context.Background(), "analyze", addr, "--token", "wrong")
	if code == 0 || !strings.Contains(errOut, "not a Myelin stream (input is empty)") || !strings.Contains(errOut, "sent nothing: it may have refused the token") {
		t.Errorf("analyze with a wrong token: exit %d, %s", code, errOut)
	}
	code, out, errOut := cli(context.Background(), "analyze", addr, "--token", "tok-123")
	if code != 0 || !strings.Contains(out, "COMPLETE") {
		t.Errorf("analyze with the token: exit %d\n%s\n%s", code, out, errOut)
	}
	if c := <-runDone; c != 0 {
		t.Errorf("run: exit %d\n%s", c, runErr.String())
	}
	// Loopback: no warning.
	var quietErr syncBuffer
	dispatch(context.Background(), &env{stdout: &syncBuffer{}, stderr: &quietErr, stdin: strings.NewReader("")},
		[]string{"run", "brunel", "--set", "n=100", "--duration", "5", "--backend", "cpu", "-q", "--listen", "127.0.0.1:0"})
	if strings.Contains(quietErr.String(), "warning") {
		t.Errorf("warning for a loopback address:\n%s", quietErr.String())
	}
}

// TestRunListenFilter: `run --listen-filter` serves the selected neurons
// (filtered as the run encodes them) while --out gets everything.
func TestRunListenFilter(t *testing.T) {
	dir := socketDir(t)
	file, sock := filepath.Join(dir, "all.myelin"), filepath.Join(dir, "f.sock")
	runDone := make(chan string, 1)
	go func() {
		var out, errOut syncBuffer
		code := dispatch(context.Background(), &env{stdout: &out, stderr: &errOut, stdin: strings.NewReader("")},
			[]string{"run", "brunel", "--set", "n=500", "--duration", "100", "--backend", "cpu", "-q", "-o", file,
				"--listen", "unix:" + sock, "--listen-filter", "E@0:50,I", "--wait", "1"})
		runDone <- strconv.Itoa(code) + " " + errOut.String()
	}()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			break
		} else if time.Now().After(deadline) {
			t.Fatal("the run did not listen")
		}
	}
	var served bytes.Buffer
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := served.ReadFrom(c); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if r := <-runDone; !strings.HasPrefix(r, "0 ") {
		t.Fatalf("run: %s", r)
	}
	all := readResult(t, file)
	got, err := stream.ReadAll(bytes.NewReader(served.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var want []uint32
	for _, id := range all.IDs {
		if id < 50 || id >= 400 { // E [0, 400): 0..49; I [400, 500): all
			want = append(want, id)
		}
	}
	if !slices.Equal(got.IDs, want) || len(want) == 0 {
		t.Errorf("served %d spikes, want the file's %d of E@0:50 and I", len(got.IDs), len(want))
	}
	if p := got.Header.GetPopulations(); !p[0].GetRecorded() || !p[1].GetRecorded() {
		t.Errorf("served header marks a selected population unrecorded")
	}
}

// readResult reads a stream file.
func readResult(t *testing.T, path string) *stream.Result {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	res, err := stream.ReadAll(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return res
}
