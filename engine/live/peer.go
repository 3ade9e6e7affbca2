package live

import "net"

// PeerClosed reports whether the other end of c has hung up (or reset the
// connection), without waiting and without taking any byte: it peeks at
// the socket. A peer that sent bytes not yet read is still there. Where a
// socket cannot be peeked at without blocking, it says no.
func PeerClosed(c net.Conn) bool { return peerClosed(c) }
