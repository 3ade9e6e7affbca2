package prefetch

// Line asks for the cache line that holds the byte at address addr to be
// brought into every cache level (PREFETCHT0). addr need not be valid.
//
//go:noescape
func Line(addr uintptr)
