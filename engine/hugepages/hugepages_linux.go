//go:build linux

package hugepages

import (
	"syscall"
	"unsafe"
)

// Advise asks Linux to back a large, not yet touched slice with
// transparent huge pages. Synapse arrays are filled and read in scattered
// order, so 2 MiB pages save most TLB misses and page faults; the advice is
// only a hint, and failure changes nothing but speed.
func Advise[T any](s []T) {
	if len(s) == 0 {
		return
	}
	var zero T
	n := uintptr(len(s)) * unsafe.Sizeof(zero)
	if n < 4<<20 {
		return
	}
	const page = 4096
	p := unsafe.Pointer(&s[0])
	start := uintptr(p)
	skip := (page - start%page) % page // madvise wants a page-aligned start
	if n <= skip+page {
		return
	}
	b := unsafe.Slice((*byte)(unsafe.Add(p, skip)), (n-skip)&^(page-1))
	_ = syscall.Madvise(b, syscall.MADV_HUGEPAGE)
}

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14).
const madvPopulateWrite = 23

// Populate faults in the pages of s[from:to] as writable (of a slice that
// Advise may have advised) without touching their contents, so that it
// can run while other goroutines write into s. Page faults on this machine
// serialize, so doing them ahead of the writes, beside other work, saves
// their wait. It is only a hint: on kernels without MADV_POPULATE_WRITE, or
// on any error, it does nothing.
func Populate[T any](s []T, from, to int) {
	if from < 0 || to > len(s) || from >= to {
		return
	}
	var zero T
	size := unsafe.Sizeof(zero)
	const page = 4096
	start := uintptr(unsafe.Pointer(&s[from]))
	end := start + uintptr(to-from)*size
	start = (start + page - 1) &^ (page - 1)
	end &^= page - 1
	if end <= start {
		return
	}
	_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, start, end-start, madvPopulateWrite)
}
