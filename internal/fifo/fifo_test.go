package fifo

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mkfifo makes a FIFO in a temporary folder, or skips the test.
func mkfifo(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "test.fifo")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	return path
}

// openOn counts this process's open files that are the file name, or
// returns -1 where /proc/self/fd does not list them.
func openOn(name string) int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && l == name {
			n++
		}
	}
	return n
}

// modes are the two opens, named.
var modes = []struct {
	name string
	flag int
	who  string
}{{"read", os.O_RDONLY, "a writer"}, {"write", os.O_WRONLY, "a reader"}}

// TestOpenStops: an open of a FIFO whose other end never comes ends
// promptly when the context is done, with an error that names the FIFO
// and wraps the context's, and leaves no file open on the FIFO and no
// goroutine behind; with a context done before, it fails at once.
func TestOpenStops(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			fifo := mkfifo(t)
			goroutines := runtime.NumGoroutine()
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(100*time.Millisecond, cancel)
			start := time.Now()
			f, err := Open(ctx, fifo, m.flag)
			if err == nil {
				f.Close()
				t.Fatal("Open of a FIFO without its other end succeeded")
			}
			if d := time.Since(start); !errors.Is(err, context.Canceled) || d > 2*time.Second {
				t.Fatalf("Open: %v after %v, want context.Canceled within 2 s", err, d)
			}
			if want := "open " + fifo + ": stopped before " + m.who + " opened the FIFO"; !strings.Contains(err.Error(), want) {
				t.Errorf("Open: %q, want it to say %q", err, want)
			}
			deadline := time.Now().Add(5 * time.Second)
			for {
				files, n := openOn(fifo), runtime.NumGoroutine()
				if files <= 0 && n <= goroutines {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("5 s after the cancel: %d files open on the FIFO, %d goroutines (%d before)", files, n, goroutines)
				}
				time.Sleep(10 * time.Millisecond)
			}
			start = time.Now()
			if _, err := Open(ctx, fifo, m.flag); !errors.Is(err, context.Canceled) || time.Since(start) > time.Second {
				t.Errorf("Open with a done context: %v after %v, want context.Canceled at once", err, time.Since(start))
			}
		})
	}
}

// TestOpenMeets: an open waits for the other end, which comes later, and
// what is written passes.
func TestOpenMeets(t *testing.T) {
	const msg = "spikes"
	t.Run("read", func(t *testing.T) {
		fifo := mkfifo(t)
		go func() {
			time.Sleep(100 * time.Millisecond)
			if w, err := os.OpenFile(fifo, os.O_WRONLY, 0); err == nil {
				w.WriteString(msg)
				w.Close()
			}
		}()
		f, err := Open(context.Background(), fifo, os.O_RDONLY)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got, err := io.ReadAll(f); string(got) != msg || err != nil {
			t.Errorf("read %q (%v), want %q", got, err, msg)
		}
	})
	t.Run("write", func(t *testing.T) {
		fifo := mkfifo(t)
		read := make(chan string, 1)
		go func() {
			time.Sleep(100 * time.Millisecond)
			got, _ := os.ReadFile(fifo) // waits for the writer
			read <- string(got)
		}()
		f, err := Open(context.Background(), fifo, os.O_WRONLY)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(msg); err != nil {
			t.Error(err)
		}
		if err := f.Close(); err != nil {
			t.Error(err)
		}
		select {
		case got := <-read:
			if got != msg {
				t.Errorf("the reader got %q, want %q", got, msg)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the reader got nothing in 5 s")
		}
	})
}

// TestOpenFlag: a flag other than os.O_RDONLY and os.O_WRONLY is refused,
// naming the file.
func TestOpenFlag(t *testing.T) {
	fifo := mkfifo(t)
	if f, err := Open(context.Background(), fifo, os.O_RDWR); err == nil || !strings.Contains(err.Error(), fifo) {
		if f != nil {
			f.Close()
		}
		t.Errorf("Open with os.O_RDWR: %v, want an error naming the FIFO", err)
	}
}
