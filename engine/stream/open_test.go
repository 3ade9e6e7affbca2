package stream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// mkfifo makes a FIFO in a temporary folder, or skips the test.
func mkfifo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stream.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	return path
}

// TestOpenRegularFile: a regular file is opened as it is, an *os.File,
// and reads whole.
func TestOpenRegularFile(t *testing.T) {
	ts := makeTestStream(t, 1, 4, 20)
	path := filepath.Join(t.TempDir(), "run.myelin")
	if err := os.WriteFile(path, ts.data, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := f.(*os.File); !ok {
		t.Errorf("Open of a regular file returned a %T, want *os.File", f)
	}
	res, err := ReadAll(f)
	if err != nil || res.Trailer == nil {
		t.Fatalf("ReadAll: %v (trailer %v)", err, res.Trailer)
	}
	if _, err := Open(context.Background(), filepath.Join(t.TempDir(), "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want a not-exist error", err)
	}
}

// TestOpenFIFOWaitStops: opening a FIFO that no writer opens ends when the
// context is done, with an error that wraps the context's, and the
// abandoned open is released: no reader is left on the FIFO. Before
// (os.Open), the open blocked until a writer came, whatever the context.
func TestOpenFIFOWaitStops(t *testing.T) {
	fifo := mkfifo(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	f, err := Open(ctx, fifo)
	if err == nil {
		f.Close()
		t.Fatal("Open of a FIFO without a writer succeeded")
	}
	if !errors.Is(err, context.Canceled) || time.Since(start) > 2*time.Second {
		t.Fatalf("Open: %v after %v, want context.Canceled within 2 s", err, time.Since(start))
	}
	// The reader of the abandoned open goes away: a writer that does not
	// wait then finds none (ENXIO).
	deadline := time.Now().Add(5 * time.Second)
	for {
		w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if errors.Is(err, syscall.ENXIO) {
			break
		}
		if err == nil {
			w.Close()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned open still holds the FIFO 5 s later (%v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := Open(ctx, fifo); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a done context: %v, want context.Canceled", err)
	}
}

// TestOpenFIFOReadStops: a read that waits on a FIFO whose writer sends a
// part of a stream and then nothing ends when the context is done.
func TestOpenFIFOReadStops(t *testing.T) {
	fifo := mkfifo(t)
	ts := makeTestStream(t, 1, 4, 20)
	// O_RDWR opens a FIFO without waiting (Linux) and counts as a writer.
	w, err := os.OpenFile(fifo, os.O_RDWR, 0)
	if err != nil {
		t.Skip("cannot hold a FIFO open for writing:", err)
	}
	defer w.Close()
	if _, err := w.Write(ts.data[:ts.offsets[2]]); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := Open(ctx, fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd := NewReader(f)
	for range 2 {
		if _, err := rd.Next(); err != nil {
			t.Fatal(err)
		}
	}
	next := make(chan error, 1)
	go func() {
		_, err := rd.Next()
		next <- err
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-next:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Next on a stalled FIFO after the cancel: %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next on a stalled FIFO still waits 5 s after the cancel")
	}
}

// TestOpenFIFOWholeStream: a FIFO whose writer writes a whole stream and
// closes reads as the file would.
func TestOpenFIFOWholeStream(t *testing.T) {
	fifo := mkfifo(t)
	ts := makeTestStream(t, 3, 6, 30)
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(ts.data)
		w.Close()
	}()
	f, err := Open(context.Background(), fifo)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got bytes.Buffer
	if _, err := io.Copy(&got, f); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), ts.data) {
		t.Errorf("read %d bytes through the FIFO, want the %d written", got.Len(), len(ts.data))
	}
}
