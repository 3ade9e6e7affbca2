//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package live

import (
	"net"
	"syscall"
)

// peerClosed reports whether the other end of c has hung up (or reset the
// connection), without waiting and without taking any byte: it peeks at
// the socket. A subscriber sends nothing after its token, so a readable
// end of stream means the client closed its side. A half-closing client
// that still reads looks the same; it is still served, it only does not
// count for WaitSubscribers.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var b [1]byte
	err = rc.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n > 0: // bytes after the token: still there
		case rerr == syscall.EAGAIN || rerr == syscall.EWOULDBLOCK || rerr == syscall.EINTR: // nothing to read: still there
		case rerr != nil: // reset, not connected
			closed = true
		default: // end of stream
			closed = true
		}
		return true
	})
	return closed || err != nil
}
