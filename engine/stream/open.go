package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// Open opens the stream file name for reading until ctx is done. A regular
// file, whose reads do not block, is returned as its *os.File (the caller
// checks ctx between records). Anything else (a FIFO, a device) may block,
// so it is watched: opening a FIFO waits for its writer only until ctx is
// done, and once ctx is done the file is closed, so that a read blocked on
// it returns at once. Either way the error wraps ctx's error
// (context.Canceled when Ctrl-C cancelled it); test for it with errors.Is.
func Open(ctx context.Context, name string) (io.ReadCloser, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if st.Mode().IsRegular() {
		return os.Open(name)
	}
	var f *os.File
	if st.Mode()&os.ModeNamedPipe != 0 {
		f, err = openFIFO(ctx, name)
	} else {
		f, err = os.Open(name)
	}
	if err != nil {
		return nil, err
	}
	w := &watchedFile{f: f, ctx: ctx}
	w.stop = context.AfterFunc(ctx, func() { f.Close() })
	return w, nil
}

// openFIFO opens a FIFO for reading, which blocks until a writer opens it,
// in a goroutine, so that ctx can end the wait. The goroutine is then
// released (releaseFIFO) rather than left blocked.
func openFIFO(ctx context.Context, name string) (*os.File, error) {
	if ctx.Err() != nil {
		return nil, fmt.Errorf("open %s: stopped before a writer opened the FIFO: %w", name, context.Cause(ctx))
	}
	type opened struct {
		f   *os.File
		err error
	}
	done := make(chan opened, 1)
	go func() {
		f, err := os.Open(name)
		done <- opened{f, err}
	}()
	select {
	case o := <-done:
		return o.f, o.err
	case <-ctx.Done():
		go releaseFIFO(name, func() (*os.File, bool) {
			select {
			case o := <-done:
				return o.f, true
			case <-time.After(fifoRetry):
				return nil, false
			}
		})
		return nil, fmt.Errorf("open %s: stopped before a writer opened the FIFO: %w", name, context.Cause(ctx))
	}
}

// fifoRetry is how often releaseFIFO tries to end a FIFO open, and
// fifoRetries how many times before it leaves the opener blocked.
const (
	fifoRetry   = 20 * time.Millisecond
	fifoRetries = 250
)

// releaseFIFO ends an abandoned blocking open of the FIFO name: it opens
// the FIFO for writing without blocking (which succeeds once the reader's
// open is waiting) and closes it at once, which lets the reader's open
// return; opened reports the reader's file when its open has returned,
// which is then closed.
func releaseFIFO(name string, opened func() (*os.File, bool)) {
	for range fifoRetries {
		if w, err := os.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		if f, ok := opened(); ok {
			if f != nil {
				f.Close()
			}
			return
		}
	}
}

// watchedFile is a file that is closed when its context is done.
type watchedFile struct {
	f    *os.File
	ctx  context.Context
	stop func() bool
}

// Read reads from the file; once the context is done it fails with an
// error that wraps the context's.
func (w *watchedFile) Read(p []byte) (int, error) {
	n, err := w.f.Read(p)
	if err != nil && w.ctx.Err() != nil {
		return n, fmt.Errorf("read %s: %w", w.f.Name(), context.Cause(w.ctx))
	}
	return n, err
}

// Close stops watching the context and closes the file.
func (w *watchedFile) Close() error {
	w.stop()
	if err := w.f.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}
