//go:build unix

package main

import (
	"os"
	"syscall"
)

// lockPartial takes an exclusive advisory lock (flock) on f, a temporary
// file this command has just created, for as long as f is open: the
// kernel drops it when the process ends however it ends, so a partial
// file that nobody holds was left by a command that was killed.
//
// It waits for the lock: another command's partialHeld may hold it for the
// moment of its test, and giving up then would leave this command's file
// looking abandoned for the whole run.
func lockPartial(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
}

// partialHeld reports whether a live command holds the lock of the
// temporary file at name (lockPartial). A file that cannot be opened or
// locked for another reason counts as held: it is not reported.
func partialHeld(name string) bool {
	// Non-blocking, in case the name is a FIFO by now.
	f, err := os.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return true
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return true
	}
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return false
}
