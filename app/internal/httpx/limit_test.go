package httpx

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// serveLimited serves /healthz with MaxConns 2 and returns its address and
// a function that stops it and returns Serve's result.
func serveLimited(t *testing.T) (string, func() error) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", HandleHealthz())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lim := testLimits
	lim.MaxConns = 2
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, Wrap(testLogger(t, io.Discard), mux), lim, testLogger(t, io.Discard)) }()
	stop := func() error {
		cancel()
		return <-served
	}
	t.Cleanup(func() { cancel() })
	return ln.Addr().String(), stop
}

// get sends GET /healthz on conn and returns the status, or an error when no
// answer comes within wait.
func get(conn net.Conn, br *bufio.Reader, wait time.Duration) (int, error) {
	_ = conn.SetDeadline(time.Now().Add(wait))
	if _, err := fmt.Fprintf(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestMaxConnsBacklog: beyond MaxConns, a connection waits in the listen
// backlog (it is not answered, nor closed) until one of the open ones
// closes, then it is served; shutdown is not held up by the wait.
func TestMaxConnsBacklog(t *testing.T) {
	addr, stop := serveLimited(t)
	for range 2 { // parked in their headers
		c := dial(t, addr)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: aaa")
	}
	parked := dial(t, addr)
	fmt.Fprintf(parked, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: aaa")
	time.Sleep(100 * time.Millisecond) // the two first are accepted by now
	third := dial(t, addr)
	br := bufio.NewReader(third)
	if status, err := get(third, br, 300*time.Millisecond); err == nil {
		t.Fatalf("third connection with 2 parked = %d; want no answer while both slots are held", status)
	}
	parked.Close()
	_ = third.SetDeadline(time.Now().Add(3 * time.Second))
	resp, err := http.ReadResponse(br, nil) // the answer to the request sent above
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("third connection once a slot is free: %v, %v; want 200", resp, err)
	}
	resp.Body.Close()
	if err := stop(); err != nil {
		t.Errorf("Serve = %v; want nil", err)
	}
}

// TestMaxConnsClosesIdle: when the slots are held by idle keep-alive
// connections, a new connection gets one of them at once.
func TestMaxConnsClosesIdle(t *testing.T) {
	addr, stop := serveLimited(t)
	for range 2 {
		c := dial(t, addr)
		if status, err := get(c, bufio.NewReader(c), 2*time.Second); err != nil || status != 200 {
			t.Fatalf("keep-alive request = %d, %v; want 200", status, err)
		}
	}
	c := dial(t, addr)
	if status, err := get(c, bufio.NewReader(c), time.Second); err != nil || status != 200 {
		t.Errorf("third connection with 2 idle = %d, %v; want 200 at once (an idle one closed)", status, err)
	}
	if err := stop(); err != nil {
		t.Errorf("Serve = %v; want nil", err)
	}
}
