package live

import (
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/myelin-sim/myelin/engine/stream"
	myelinpb "github.com/myelin-sim/myelin/proto"
)

// flakyListener fails its first n Accepts (as with too many open files),
// then accepts from the real listener.
type flakyListener struct {
	net.Listener
	n atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.n.Add(-1) >= 0 {
		return nil, errors.New("accept: too many open files")
	}
	return l.Listener.Accept()
}

// TestAcceptRetries: failed Accepts do not stop the listener; it backs off
// and serves the next subscriber. Before, the first error stopped it for
// the rest of the run.
func TestAcceptRetries(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln}
	fl.n.Store(5)
	s := New(Options{Logf: t.Logf})
	s.mu.Lock()
	s.listeners = append(s.listeners, fl)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.accept(fl, ListenOptions{Queue: DefaultQueue, StallTimeout: time.Second})

	c, err := Dial(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.WaitSubscribers(ctx, 1); err != nil {
		t.Fatalf("the subscriber was never accepted after %d failed Accepts: %v", 5, err)
	}
	var buf []byte
	buf, _ = stream.AppendRecord(buf, &myelinpb.Record{Kind: &myelinpb.Record_Header{Header: &myelinpb.Header{FormatVersion: stream.FormatVersion, DtMs: 0.1}}}, stream.FormatVersion)
	buf, _ = stream.AppendRecord(buf, &myelinpb.Record{Kind: &myelinpb.Record_Trailer{Trailer: &myelinpb.Trailer{}}}, stream.FormatVersion)
	if _, err := s.Write(buf); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	if err != nil || string(got) != string(buf) {
		t.Errorf("subscriber read %d bytes (%v), want the %d-byte stream", len(got), err, len(buf))
	}
}
