package httpx

import (
	"net"
	"net/http"
	"sync"
)

// limitListener accepts at most max connections at once. Connection max+1
// is not accepted until one closes: it waits in the kernel's listen backlog
// (its client sees the connection open and its request answered late, in
// arrival order), not in the process, where it would cost memory. Accepting
// and closing it at once would answer nothing either, and would let an
// attacker who refreshes its connections win every free slot; in the backlog
// the oldest waiter gets the next slot. When the limit is reached, idle
// keep-alive connections are closed to make room (clients reopen them on
// their next request), so connections kept open but unused cannot hold the
// slots. Connections still sending their headers are bounded by the server's
// ReadHeaderTimeout.
type limitListener struct {
	net.Listener
	slots chan struct{}
	done  chan struct{}
	close sync.Once

	mu      sync.Mutex
	idle    map[net.Conn]struct{}
	waiting bool // Accept waits for a slot: idle connections are closed
}

func newLimitListener(ln net.Listener, maxConns int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, maxConns), done: make(chan struct{}),
		idle: map[net.Conn]struct{}{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	default:
		l.setWaiting(true)
		select {
		case l.slots <- struct{}{}:
			l.setWaiting(false)
		case <-l.done:
			l.setWaiting(false)
			return nil, net.ErrClosed
		}
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.close.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// connState is the server's ConnState hook: it tracks idle keep-alive
// connections, and closes those that turn idle while Accept waits.
func (l *limitListener) connState(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case s == http.StateIdle && l.waiting:
		_ = c.Close()
	case s == http.StateIdle:
		l.idle[c] = struct{}{}
	default:
		delete(l.idle, c)
	}
}

// setWaiting records whether Accept waits for a slot; when it starts
// waiting, the idle keep-alive connections are closed, as the server itself
// does when they pass IdleTimeout or on shutdown.
func (l *limitListener) setWaiting(w bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waiting = w
	if !w {
		return
	}
	for c := range l.idle {
		_ = c.Close()
		delete(l.idle, c)
	}
}

// limitConn gives its slot back when closed (once, however often Close is
// called).
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
