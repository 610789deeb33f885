package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// loopback is the only address the local run listens on: the services have no
// authentication, so they must not be reachable from the network by default.
const loopback = "127.0.0.1"

// portSpec names one listener for error messages: which service wanted the
// port and which flag changes it.
type portSpec struct {
	service string
	port    int
	flag    string
}

// listenAll binds every spec on loopback, in order, before anything starts,
// so a taken port is reported before any service has logged a line. On error
// it closes what it had bound and returns a message naming the port, the
// service and the flag to change it.
func listenAll(specs []portSpec) ([]net.Listener, error) {
	var lns []net.Listener
	for _, s := range specs {
		ln, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(s.port)))
		if err != nil {
			for _, l := range lns {
				l.Close()
			}
			return nil, portError(s, err)
		}
		lns = append(lns, ln)
	}
	return lns, nil
}

// checkFree reports whether the port of s can be bound on loopback now (the
// container run's pre-flight check: Docker's own message for a taken port is
// far less clear).
func checkFree(s portSpec) error {
	if s.port == 0 {
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(loopback, strconv.Itoa(s.port)))
	if err != nil {
		return portError(s, err)
	}
	return ln.Close()
}

// portError turns a failed listen into a message a newcomer can act on.
func portError(s portSpec, err error) error {
	switch {
	case isAddrInUse(err):
		return fmt.Errorf("port %d is already in use (%s); choose another with -%s", s.port, s.service, s.flag)
	case errors.Is(err, syscall.EACCES):
		return fmt.Errorf("not allowed to listen on port %d (%s); choose a port above 1023 with -%s", s.port, s.service, s.flag)
	default:
		return fmt.Errorf("listen on %s:%d (%s): %w", loopback, s.port, s.service, err)
	}
}

// isAddrInUse matches EADDRINUSE, and Windows' WSAEADDRINUSE by its text
// (package syscall does not map it to EADDRINUSE).
func isAddrInUse(err error) bool {
	if errors.Is(err, syscall.EADDRINUSE) {
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "address already in use") ||
		strings.Contains(msg, "only one usage of each socket address")
}

// portOf returns the TCP port ln listens on.
func portOf(ln net.Listener) int {
	if a, ok := ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}
