package live

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Address prefixes.
const (
	tcpPrefix  = "tcp://"
	unixPrefix = "unix:"
)

// ParseAddr splits an address into a network ("tcp" or "unix") and the
// address net.Dial and net.Listen take. It accepts HOST:PORT, :PORT,
// tcp://HOST:PORT and unix:PATH.
func ParseAddr(addr string) (network, address string, err error) {
	switch {
	case strings.HasPrefix(addr, unixPrefix):
		path := strings.TrimPrefix(addr, unixPrefix)
		if path == "" {
			return "", "", fmt.Errorf("address %q: unix: needs a socket path, e.g. unix:/tmp/myelin.sock", addr)
		}
		return "unix", path, nil
	case strings.HasPrefix(addr, tcpPrefix):
		address = strings.TrimPrefix(addr, tcpPrefix)
	default:
		address = addr
	}
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return "", "", fmt.Errorf("address %q: want HOST:PORT, tcp://HOST:PORT or unix:PATH (%v)", addr, err)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || (p == 0 && port != "0") {
		return "", "", fmt.Errorf("address %q: port %q is not a number in [0, 65535]", addr, port)
	}
	return "tcp", net.JoinHostPort(host, port), nil
}

// IsAddr reports whether s is written as a socket address: with a tcp:// or
// unix: prefix, or as HOST:PORT with a numeric port. Callers that also
// accept file names should prefer an existing file of that name.
func IsAddr(s string) bool {
	if strings.HasPrefix(s, tcpPrefix) || strings.HasPrefix(s, unixPrefix) {
		return true
	}
	_, port, err := net.SplitHostPort(s)
	if err != nil || port == "" {
		return false
	}
	_, err = strconv.ParseUint(port, 10, 16)
	return err == nil
}

// FormatAddr writes a listening address in the form ParseAddr reads:
// tcp://HOST:PORT or unix:PATH.
func FormatAddr(a net.Addr) string {
	if a.Network() == "unix" {
		return unixPrefix + a.String()
	}
	return tcpPrefix + a.String()
}

// Dial connects to a server's address (see ParseAddr). A refused or missing
// server gives an error that names the address and says what to check.
func Dial(ctx context.Context, addr string) (net.Conn, error) {
	network, address, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, network, address)
	if err != nil {
		hint := ""
		if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, os.ErrNotExist) {
			hint = " (nothing is serving there: start a run with --listen " + addr + ", or check the address)"
		}
		return nil, fmt.Errorf("connect to %s: %w%s", addr, err, hint)
	}
	return c, nil
}

// DialToken connects like Dial and, when token is not empty, presents it
// (the token and a newline) as a server with ListenOptions.Token expects. A
// server that refuses the token closes the connection without sending
// anything: the reader then sees an empty input.
func DialToken(ctx context.Context, addr, token string) (net.Conn, error) {
	c, err := Dial(ctx, addr)
	if err != nil || token == "" {
		return c, err
	}
	if strings.ContainsAny(token, "\r\n") {
		c.Close()
		return nil, fmt.Errorf("connect to %s: the token must be one line", addr)
	}
	if _, err := c.Write([]byte(token + "\n")); err != nil {
		c.Close()
		return nil, fmt.Errorf("connect to %s: sending the token: %w", addr, err)
	}
	return c, nil
}

// IsLoopback reports whether a listening address accepts connections only
// from this machine: a Unix socket, or TCP on a loopback address or
// "localhost". ":PORT", 0.0.0.0 and any other host accept connections from
// other machines.
func IsLoopback(addr string) bool {
	network, address, err := ParseAddr(addr)
	if err != nil {
		return false
	}
	if network == "unix" {
		return true
	}
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listen opens a listener on addr, replacing a stale Unix socket file.
func listen(addr string) (net.Listener, error) {
	network, address, err := ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	if network == "unix" {
		if err := RemoveStaleSocket(address); err != nil {
			return nil, fmt.Errorf("listen on %s: %w", addr, err)
		}
	}
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

// RemoveStaleSocket removes path when it is a Unix socket that nobody
// serves (one left by a server that crashed); it does nothing when path
// does not exist. A live socket or any other existing file is an error
// and is left alone, so that a typo cannot delete a file.
func RemoveStaleSocket(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("%s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%s is in use by another server", path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.Remove(path)
}
