//go:build !amd64

package prefetch

// Line asks for the cache line that holds the byte at address addr to be
// brought into the cache; on this architecture it does nothing.
func Line(addr uintptr) {}
