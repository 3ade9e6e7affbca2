//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package live

import "net"

// peerClosed reports whether the other end of c has hung up. Where the
// socket cannot be peeked at without blocking, it says no: every
// subscriber that connected counts for WaitSubscribers.
func peerClosed(net.Conn) bool { return false }
