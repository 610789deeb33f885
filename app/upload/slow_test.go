package upload

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"imagelabel/app/internal/api"
)

// TestSlowClientsDoNotStarveFastOnes: 16 clients that send their headers and
// then one byte at a time hold no slot, so normal uploads meanwhile succeed;
// the slow ones, and one that stalls outright, get 408 request_timeout JSON.
// Loopback only, bounded by the shortened pace (about a second).
func TestSlowClientsDoNotStarveFastOnes(t *testing.T) {
	e := newEnv(t, nil, func(c *config) {
		c.bufferBytes = 64 * chunkSize
		c.pace = pace{stall: 800 * time.Millisecond, window: 400 * time.Millisecond, minRate: 16 << 10, total: 10 * time.Second}
	})
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")

	type answer struct {
		status int
		body   api.ErrorBody
		err    error
	}
	const slow = 16
	answers := make(chan answer, slow+1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range slow + 1 {
		trickle := i < slow // the last one stalls after its first bytes
		wg.Go(func() {
			status, body, err := slowUpload(addr, trickle, stop)
			answers <- answer{status, body, err}
		})
	}
	time.Sleep(100 * time.Millisecond) // all slow bodies have started
	for i := range 8 {
		if r := do(t, e.h, uploadReq(t, "", pngBytes(t, 32, 32, uint64(100+i)))); r.status != 200 {
			t.Errorf("normal upload %d next to %d slow ones = %d %s; want 200", i, slow, r.status, r.raw)
		}
	}
	wg.Wait()
	close(stop)
	close(answers)
	for a := range answers {
		if a.err != nil || a.status != http.StatusRequestTimeout || a.body.Error.Code != api.CodeRequestTimeout {
			t.Errorf("slow upload = %d %+v (err %v); want 408 request_timeout", a.status, a.body, a.err)
		}
	}
	if got := e.mem.available(); got != 64*chunkSize {
		t.Errorf("free budget after the slow uploads = %d; want all %d (chunks leaked)", got, 64*chunkSize)
	}
}

// slowUpload sends the headers of a 300 KB upload and the first bytes of its
// body, then one byte every 200 ms (trickle) or nothing, and returns the
// answer.
func slowUpload(addr string, trickle bool, stop chan struct{}) (int, api.ErrorBody, error) {
	var body api.ErrorBody
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return 0, body, err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Type: multipart/form-data; boundary=B\r\n"+
		"Content-Length: 300000\r\n\r\n--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\x89PNG\r\n\x1a\n", addr)
	got := make(chan struct{})
	if trickle {
		go func() {
			for {
				select {
				case <-got:
					return
				case <-stop:
					return
				case <-time.After(200 * time.Millisecond):
					if _, err := conn.Write([]byte{0}); err != nil {
						return
					}
				}
			}
		}()
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	close(got)
	if err != nil {
		return 0, body, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		return resp.StatusCode, body, fmt.Errorf("body %q is not JSON", raw)
	}
	return resp.StatusCode, body, nil
}

// TestBusyAnswerWithoutContinue: a client waiting for "100 Continue" whose
// declared body does not fit the free budget gets the 503 at once and is
// never asked for the body.
func TestBusyAnswerWithoutContinue(t *testing.T) {
	e := newEnv(t, nil, func(c *config) { c.bufferBytes = 4 * chunkSize })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"+
		"Content-Length: %d\r\nExpect: 100-continue\r\n\r\n", 1<<20)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Errorf("upload over the free budget with Expect: 100-continue = %d (Retry-After %q); want 503 at once",
			resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The server is done with the request: it closes the connection rather
	// than wait for a body the client was never asked for.
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF { //nolint:errorlint // a closed connection reads io.EOF itself
		t.Errorf("after the 503: read %v; want the connection closed (io.EOF)", err)
	}
}

// TestHeadersBeforeTheFileAreBounded: mime/multipart keeps a part's header
// block on the heap (up to 10 MiB); upload refuses with 400 what comes before
// the file's data beyond maxHeadBytes (a padded header, a long filename,
// long fields), and still accepts a few fields with the file.
func TestHeadersBeforeTheFileAreBounded(t *testing.T) {
	e := newEnv(t, nil)
	img := pngBytes(t, 32, 32, 5)
	big := strings.Repeat("a", 64<<10)
	bodies := map[string]string{
		"a padded part header":    "--B\r\nX-Pad: " + big + "\r\nContent-Disposition: form-data; name=\"o\"\r\n\r\nv\r\n--B--\r\n",
		"a long filename":         "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + big + "\"\r\n\r\n" + string(img) + "\r\n--B--\r\n",
		"a long field before":     "--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n" + big + "\r\n--B--\r\n",
		"many parts before":       strings.Repeat("--B\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nv\r\n", 2000) + "--B--\r\n",
		"a long preamble":         strings.Repeat("p\r\n", 20000) + "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + string(img) + "\r\n--B--\r\n",
		"a header line unbounded": "--B\r\nContent-Disposition: form-data; name=\"file\"\r\nX-Pad: " + big,
	}
	for name, body := range bodies {
		req := httptest.NewRequest("POST", "/upload", strings.NewReader(body))
		req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		r := do(t, e.h, req)
		if r.status != 400 || r.err.Error.Code != api.CodeBadRequest || !strings.Contains(r.err.Error.Message, "8 KiB") {
			t.Errorf("upload with %s = %d %s; want 400 bad_request naming the 8 KiB limit", name, r.status, r.raw)
		}
	}
	fields := strings.Repeat("--B\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n"+strings.Repeat("n", 900)+"\r\n", 3)
	body := fields + "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + strings.Repeat("é", 100) +
		".png\"\r\nContent-Type: image/png\r\n\r\n" + string(img) + "\r\n--B--\r\n"
	req := httptest.NewRequest("POST", "/upload", strings.NewReader(body))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
	if r := do(t, e.h, req); r.status != 200 {
		t.Errorf("upload with 3 fields of 900 bytes before the file = %d %s; want 200", r.status, r.raw)
	}
}

// TestFastThenTrickleIsCut: a body that sends most of its bytes at once and
// then trickles is cut with 408 within about a window of slowing down, not
// when its average rate since the start finally drops (or at total).
func TestFastThenTrickleIsCut(t *testing.T) {
	e := newEnv(t, nil, func(c *config) {
		c.pace = pace{stall: 2 * time.Second, window: 300 * time.Millisecond, minRate: 16 << 10, total: 20 * time.Second}
	})
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	burst := append([]byte("--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n"), bigPNG(900<<10, 3)[:800<<10]...)
	fmt.Fprintf(conn, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=B\r\n"+
		"Content-Length: %d\r\n\r\n%s", 1000<<10, burst)
	start := time.Now()
	go func() { // then one byte every 50 ms: 20 B/s
		for range 300 {
			time.Sleep(50 * time.Millisecond)
			if _, err := conn.Write([]byte{0}); err != nil {
				return
			}
		}
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if took := time.Since(start); resp.StatusCode != http.StatusRequestTimeout || took > 2*time.Second {
		t.Errorf("fast-then-trickle body = %d after %s; want 408 within about a window (300 ms), under 2 s", resp.StatusCode, took)
	}
}
