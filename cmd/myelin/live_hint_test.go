package main

import (
	"bufio"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// hangUpServer listens on network/addr and closes every connection
// without a byte, as a live server does with a subscriber whose token is
// missing or wrong, or one beyond --listen-max: with readToken, after it
// has read a line (the token a client sends), else at once. send, when
// set, is written first. It returns the address as analyze takes it.
func hangUpServer(t *testing.T, network, addr string, readToken bool, send []byte) string {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if readToken {
				bufio.NewReader(c).ReadString('\n')
			}
			c.Write(send)
			c.Close()
		}
	}()
	if network == "unix" {
		return "unix:" + addr
	}
	return ln.Addr().String()
}

// TestLiveEmptyHint: when a live address (tcp or unix) sends nothing,
// analyze and export say why a server may do so: a token is needed (no
// --token given) or was refused (one given), or --listen-max subscribers
// were connected. An empty file, or a live source that sends bytes that are
// not a stream, gets no such hint. Before, both said only "stream: record 0
// at byte 0: not a Myelin stream (input is empty)".
func TestLiveEmptyHint(t *testing.T) {
	t.Setenv(tokenEnv, "")
	dir := socketDir(t)
	tcp := hangUpServer(t, "tcp", "127.0.0.1:0", false, nil)
	unix := hangUpServer(t, "unix", filepath.Join(dir, "h.sock"), false, nil)
	tcpToken := hangUpServer(t, "tcp", "127.0.0.1:0", true, nil)
	unixToken := hangUpServer(t, "unix", filepath.Join(dir, "t.sock"), true, nil)
	garbage := hangUpServer(t, "tcp", "127.0.0.1:0", false, []byte("not a stream at all\n"))
	empty := filepath.Join(dir, "empty.myelin")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	const (
		isEmpty  = "not a Myelin stream (input is empty)"
		needs    = "sent nothing: it may need a token (a run started with --listen-token: give it with --token or $MYELIN_LISTEN_TOKEN)"
		refused  = "sent nothing: it may have refused the token (the --token or $MYELIN_LISTEN_TOKEN given is not the run's --listen-token)"
		listenMx = "it may have refused the connection because --listen-max subscribers were already connected"
	)
	for _, c := range []struct {
		args []string
		want []string // "" entries skipped
		not  string
	}{
		{[]string{"analyze", tcp}, []string{isEmpty, "the server at " + tcp + " " + needs, listenMx}, ""},
		{[]string{"analyze", unix}, []string{isEmpty, "the server at " + unix + " " + needs, listenMx}, ""},
		{[]string{"export", tcp}, []string{isEmpty, needs, listenMx}, ""},
		{[]string{"analyze", tcpToken, "--token", "wrong"}, []string{isEmpty, refused, listenMx}, "may need a token"},
		{[]string{"export", unixToken, "--token", "wrong"}, []string{isEmpty, refused, listenMx}, "may need a token"},
		// A server that hangs up before it reads the token sent (one beyond
		// --listen-max): sending it fails, or the reader sees a reset or an
		// empty input, as the hang-up and the token cross.
		{[]string{"analyze", tcp, "--token", "x"}, []string{listenMx}, ""},
		{[]string{"export", unix, "--token", "x"}, []string{listenMx}, ""},
		{[]string{"analyze", empty}, []string{isEmpty}, "sent nothing"},
		{[]string{"export", empty}, []string{isEmpty}, "sent nothing"},
		{[]string{"analyze", garbage}, []string{"not a Myelin stream"}, "sent nothing"},
	} {
		code, _, errOut := cli(context.Background(), c.args...)
		if code != 1 {
			t.Errorf("%v: exit %d, want 1: %s", c.args, code, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", c.args, w, errOut)
			}
		}
		if c.not != "" && strings.Contains(errOut, c.not) {
			t.Errorf("%v: stderr has %q:\n%s", c.args, c.not, errOut)
		}
	}
	// The token from the environment counts as given.
	t.Setenv(tokenEnv, "wrong")
	if _, _, errOut := cli(context.Background(), "analyze", tcpToken); !strings.Contains(errOut, refused) {
		t.Errorf("analyze with $%s set: %s", tokenEnv, errOut)
	}
}
