//go:build !linux

package main

// resetPeakRSS is unsupported here: peakRSS reports nothing.
func resetPeakRSS() bool { return false }

// peakRSS is unsupported here.
func peakRSS() (uint64, bool) { return 0, false }
