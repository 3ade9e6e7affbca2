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
