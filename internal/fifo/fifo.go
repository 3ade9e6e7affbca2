// Package fifo opens FIFOs (named pipes) so that Ctrl-C can end the wait
// for the other end. Opening a FIFO waits until it has both a reader and a
// writer; Open waits only until a context is done, and a wait it gives up
// leaves no file open and, within milliseconds, no goroutine behind.
package fifo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Open opens the FIFO name for reading (flag os.O_RDONLY) or for writing
// (os.O_WRONLY). It waits for the other end (a writer, a reader) only
// until ctx is done; the error then names the FIFO and wraps ctx's cause
// (context.Canceled when Ctrl-C cancelled it): test for it with errors.Is.
// Other errors are os.OpenFile's. A file opened for writing is in
// non-blocking mode, which Go's poller hides: its writes wait as usual.
//
// A writer waits by polling: an open for writing that does not block fails
// (ENXIO) while the FIFO has no reader, and is tried again every poll. A
// reader cannot: an open for reading that does not block succeeds at once,
// and its reads find the end of the file until a writer comes. Its open
// blocks in a goroutine instead, which a done ctx abandons and then
// releases: the FIFO is opened for writing without blocking, which lets the
// abandoned open return, and the file that open returns is closed.
func Open(ctx context.Context, name string, flag int) (*os.File, error) {
	switch flag {
	case os.O_RDONLY:
		return openRead(ctx, name)
	case os.O_WRONLY:
		return openWrite(ctx, name)
	}
	return nil, fmt.Errorf("open %s: flag %#x: want os.O_RDONLY or os.O_WRONLY", name, flag)
}

// poll is how often a writer's open tries a FIFO that has no reader yet.
const poll = 50 * time.Millisecond

// stopped is the error of an open that ctx stopped before the other end
// (who: "a reader", "a writer") opened the FIFO name.
func stopped(ctx context.Context, name, who string) error {
	return fmt.Errorf("open %s: stopped before %s opened the FIFO: %w", name, who, context.Cause(ctx))
}

// openWrite opens the FIFO name for writing, without blocking, again every
// poll while it has no reader, until ctx is done.
func openWrite(ctx context.Context, name string) (*os.File, error) {
	for {
		f, err := os.OpenFile(name, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if !errors.Is(err, syscall.ENXIO) {
			return f, err
		}
		select {
		case <-ctx.Done():
			return nil, stopped(ctx, name, "a reader")
		case <-time.After(poll):
		}
	}
}

// openRead opens the FIFO name for reading, which blocks until a writer
// opens it, in a goroutine, so that ctx can end the wait. The goroutine is
// then released (release) rather than left blocked.
func openRead(ctx context.Context, name string) (*os.File, error) {
	if ctx.Err() != nil {
		return nil, stopped(ctx, name, "a writer")
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
		go release(name, func() (*os.File, bool) {
			select {
			case o := <-done:
				return o.f, true
			case <-time.After(retry):
				return nil, false
			}
		})
		return nil, stopped(ctx, name, "a writer")
	}
}

// retry is how often release tries to end an abandoned open, and retries
// how many times before it leaves the opener blocked (the FIFO is gone).
const (
	retry   = 20 * time.Millisecond
	retries = 250
)

// release ends an abandoned blocking open of the FIFO name for reading: it
// opens the FIFO for writing without blocking (which succeeds once the
// reader's open is waiting) and closes it at once, which lets the reader's
// open return; opened reports the reader's file when its open has
// returned, which is then closed.
func release(name string, opened func() (*os.File, bool)) {
	for range retries {
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
