// Package memtest measures what code allocates, for tests that bound the
// memory a hostile input can cost.
package memtest

import "runtime"

// Allocated returns the bytes of heap that f allocates (runtime.MemStats
// TotalAlloc before and after, after a collection), whether or not they
// are still live when it returns. Allocations of other goroutines running
// meanwhile are counted too.
func Allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
