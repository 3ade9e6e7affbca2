package stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/myelin-sim/myelin/internal/fifo"
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
		f, err = fifo.Open(ctx, name, os.O_RDONLY)
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
