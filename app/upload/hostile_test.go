package upload

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBoundUnderHostileInput runs the upload binary as its own process with
// the deployed settings of the default task (UPLOAD_BUFFER_BYTES 96 MiB,
// GOMEMLIMIT 316MiB) under the attacks of issue 15 that go around the image
// byte budget: header bombs in the multipart body, fast-then-trickle bodies,
// a flood of label reads with the labeler stalled and parked connections.
// Each scenario starts its own process and fails if upload's peak RSS
// crosses the bound or a normal upload sent during the attack is not
// answered 200. About a minute on loopback.
func TestBoundUnderHostileInput(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS is read from /proc (Linux only)")
	}
	if testing.Short() && os.Getenv("CI") != "true" {
		t.Skip("builds the binary and opens thousands of loopback connections; skipped in -short")
	}
	rk := newStallableRekog(t)
	bin := buildUpload(t)
	scenarios := []struct {
		name string
		run  func(t *testing.T, p *uploadProcess)
	}{
		{"48 bodies with a 10 MB part header", func(t *testing.T, p *uploadProcess) {
			bomb := "--B\r\nX-Pad: " + strings.Repeat("a", 10_485_000) + "\r\nContent-Disposition: form-data; name=\"o\"\r\n\r\nv\r\n--B--\r\n"
			headerBombs(t, p, bomb, 48)
		}},
		{"48 bodies with a 10 MB filename parameter", func(t *testing.T, p *uploadProcess) {
			bomb := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + strings.Repeat("a", 10_485_000) +
				"\"\r\n\r\nv\r\n--B--\r\n"
			headerBombs(t, p, bomb, 48)
		}},
		{"12 bodies sending 9.9 MB at once, then a byte a second", fastThenTrickle},
		{"4000 GET /labels with the labeler stalled", labelFlood},
		{"400 small uploads with the labeler stalled", func(t *testing.T, p *uploadProcess) {
			rk.setStall(true)
			defer rk.setStall(false)
			small := make([][]byte, 400)
			for i := range small {
				small[i] = bigPNG(20<<10, uint64(100+i))
			}
			t.Logf("answers %v", concurrentUploads(t, p.url, small, len(small), false, 4*time.Second))
		}},
		{"4000 connections parked in 60 KB of headers", func(t *testing.T, p *uploadProcess) {
			parkedHeaders(t, p, 4000, 60_000)
		}},
		{"4000 connections parked just under the header limit", func(t *testing.T, p *uploadProcess) {
			parkedHeaders(t, p, 4000, maxHeaderBytes+4096-100)
		}},
		{"buffers held by 10 bodies of 9.9 MB while 4000 connections park", func(t *testing.T, p *uploadProcess) {
			done := make(chan struct{})
			go func() {
				defer close(done)
				trickle(t, p, 10, 3*time.Second, func() {})
			}()
			time.Sleep(time.Second)
			parkedHeaders(t, p, 4000, maxHeaderBytes+4096-100)
			<-done
		}},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			p := runUpload(t, bin, rk.URL) // a process of its own: no scenario inherits another's heap
			idle := p.statusMiB(t, "VmRSS:")
			start := time.Now()
			sc.run(t, p)
			peak := p.peakMiB(t)
			t.Logf("peak RSS %.1f MiB, %.1f MiB when idle (%s)", peak, idle, time.Since(start).Round(time.Second))
			if peak > memoryBoundMiB {
				t.Errorf("peak RSS of upload = %.1f MiB; want at most %d MiB", peak, memoryBoundMiB)
			}
		})
	}
}

// normalUpload posts a 2 MiB PNG (too big for what a budget held by
// attackers leaves) and returns its status, 0 on a transport error.
func normalUpload(t *testing.T, p *uploadProcess, seed uint64) int {
	client := &http.Client{Timeout: 40 * time.Second}
	return postBig(t, client, p.url, bigPNG(2<<20, seed), false)
}

// checkNormal fails unless a normal upload sent now is answered 200.
func checkNormal(t *testing.T, p *uploadProcess, seed uint64, during string) {
	t.Helper()
	if got := normalUpload(t, p, seed); got != http.StatusOK {
		t.Errorf("normal upload during %s = %d; want 200", during, got)
	}
}

// headerBombs sends n copies of body (boundary B) at once and a normal upload
// while they arrive.
func headerBombs(t *testing.T, p *uploadProcess, body string, n int) {
	raw := []byte(body)
	client := &http.Client{Timeout: 30 * time.Second}
	var sc statusCounter
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", p.url+"/upload", bytes.NewReader(raw))
			req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
			resp, err := client.Do(req)
			if err != nil {
				sc.add(0) // refused early: the server closed while the body was still being sent
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			sc.add(resp.StatusCode)
		})
	}
	time.Sleep(300 * time.Millisecond)
	checkNormal(t, p, 31, "the header bombs")
	wg.Wait()
	counts := sc.counts()
	t.Logf("answers %v", counts)
	if counts[http.StatusOK] > 0 || counts[http.StatusInternalServerError] > 0 {
		t.Errorf("header bombs answered %v; want no 200 and no 500", counts)
	}
}

// fastThenTrickle opens 12 connections that each send the first 9.9 MB of a
// 10,400,000-byte upload at once, then one byte a second. A normal upload
// sent 7 s after they stalled must get 200: the trickling bodies must have
// been cut (408) and their chunks given back by then.
func fastThenTrickle(t *testing.T, p *uploadProcess) {
	trickle(t, p, 12, 7*time.Second, func() { checkNormal(t, p, 32, "fast-then-trickle bodies") })
}

// trickle runs n fast-then-trickle bodies; once all sent their burst, it
// waits wait and calls during, then stops the trickles.
func trickle(t *testing.T, p *uploadProcess, n int, wait time.Duration, during func()) {
	const declared, burst = 10_400_000, 9_900_000
	addr := strings.TrimPrefix(p.url, "http://")
	head := "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.png\"\r\n\r\n"
	// A PNG's signature and header, then zeros: upload reads the rest into
	// chunks as it comes and would verify it only at the end.
	body := make([]byte, burst)
	copy(body, append([]byte(head), bigPNG(1000, 9)[:100]...))
	stop := make(chan struct{})
	sent := make(chan error, n)
	type answer struct {
		status int
		after  time.Duration // since the burst was sent
	}
	answers := make(chan answer, n)
	for range n {
		go func() {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				sent <- err
				answers <- answer{}
				return
			}
			defer conn.Close()
			_, err = fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=B\r\n"+
				"Content-Length: %d\r\n\r\n%s", addr, declared, body)
			sent <- err
			burstEnd := time.Now()
			go func() { // one byte a second until answered or stopped
				for {
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
						if _, err := conn.Write([]byte{0}); err != nil {
							return
						}
					}
				}
			}()
			_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				answers <- answer{}
				return
			}
			answers <- answer{resp.StatusCode, time.Since(burstEnd)}
			// A 503 is flushed at once, its body ends when upload has
			// drained the rest of the body: do not wait for that.
			conn.Close()
			resp.Body.Close()
		}()
	}
	for range n {
		if err := <-sent; err != nil {
			t.Logf("sending a burst: %v", err)
		}
	}
	time.Sleep(wait)
	during()
	close(stop)
	var sc statusCounter
	var slowest time.Duration
	for range n {
		a := <-answers
		sc.add(a.status)
		if a.status == http.StatusRequestTimeout {
			slowest = max(slowest, a.after)
		}
	}
	t.Logf("trickling bodies answered %v; the last 408 came %s after its burst", sc.counts(), slowest.Round(100*time.Millisecond))
}

// labelFlood sends 4000 GET /labels for a key the labeler stalls on, each
// on its own connection, and a normal upload meanwhile; the readers give up
// after 5 s.
func labelFlood(t *testing.T, p *uploadProcess) {
	addr := strings.TrimPrefix(p.url, "http://")
	var sc statusCounter
	var wg sync.WaitGroup
	for range 4000 {
		wg.Go(func() {
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				sc.add(-1)
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			fmt.Fprintf(conn, "GET /labels/%s HTTP/1.1\r\nHost: %s\r\n\r\n", stallKey, addr)
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				sc.add(0) // still waiting for the labeler
				return
			}
			if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
				t.Errorf("GET /labels = 503 without Retry-After")
			}
			resp.Body.Close()
			sc.add(resp.StatusCode)
		})
	}
	time.Sleep(time.Second)
	checkNormal(t, p, 33, "the label flood")
	wg.Wait()
	t.Logf("label reads answered %v (0: no answer within 5 s, -1: no connection)", sc.counts())
}

// parkedHeaders opens n connections that each send a request line and pad
// bytes of an unfinished header, then wait; a normal upload is sent once
// they are parked. The connections close after 12 s.
func parkedHeaders(t *testing.T, p *uploadProcess, n, pad int) {
	addr := strings.TrimPrefix(p.url, "http://")
	head := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Pad: " + strings.Repeat("a", pad)
	var sc statusCounter
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			conn, err := net.DialTimeout("tcp", addr, 12*time.Second)
			if err != nil {
				sc.add(-1)
				return
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(12 * time.Second))
			if _, err := io.WriteString(conn, head); err != nil {
				sc.add(-2)
				return
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				sc.add(0)
				return
			}
			resp.Body.Close()
			sc.add(resp.StatusCode)
		})
	}
	time.Sleep(2 * time.Second)
	checkNormal(t, p, 34, "parked connections")
	wg.Wait()
	t.Logf("parked connections got %v (0: closed or no answer, -1: no connection, -2: write failed)", sc.counts())
}
