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
func lockPartial(f *os.File) error {
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// partialHeld reports whether a live command holds the lock of the
// temporary file at name (lockPartial). A file that cannot be opened or
// locked for another reason counts as held: it is not reported.
func partialHeld(name string) bool {
	f, err := os.Open(name)
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
