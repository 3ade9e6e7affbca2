//go:build !linux

package hugepages

// Advise is a no-op where transparent huge pages do not exist.
func Advise[T any](s []T) {}

// Populate does nothing off Linux.
func Populate[T any](s []T, from, to int) {}
