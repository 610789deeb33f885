package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"regexp"
	"testing"
	"time"

	"imagelabel/internal/testutil"
)

// bannerURL matches the browser line run prints once the system is ready.
var bannerURL = regexp.MustCompile(`browser:\s+(http://127\.0\.0\.1:\d+)/`)

// running is a run started by startRun.
type running struct {
	base           string // upload's base URL
	stdout, stderr *testutil.SyncBuffer
	cancel         context.CancelFunc
	done           chan error
	err            error // run's result once done is nil
}

// wait waits up to d for run to return by itself and returns its error;
// ok is false if it is still running.
func (r *running) wait(d time.Duration) (err error, ok bool) {
	select {
	case r.err = <-r.done:
		r.done = nil
		return r.err, true
	case <-time.After(d):
		if r.done == nil {
			return r.err, true
		}
		return nil, false
	}
}

// stop cancels run's context and returns run's error.
func (r *running) stop() error {
	r.cancel()
	if r.done == nil {
		return r.err
	}
	err, ok := r.wait(90 * time.Second)
	if !ok {
		return fmt.Errorf("run did not return within 90s after cancel")
	}
	return err
}

// startRun starts run with args in a goroutine and waits for its banner.
// The run is stopped when the test ends.
func startRun(t *testing.T, timeout time.Duration, args ...string) *running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{stdout: &testutil.SyncBuffer{}, stderr: &testutil.SyncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() {
		r.done <- run(ctx, args, func(string) string { return "" }, r.stdout, r.stderr)
	}()
	t.Cleanup(func() { r.stop() })

	deadline := time.After(timeout)
	for {
		if m := bannerURL.FindStringSubmatch(r.stdout.String()); m != nil {
			r.base = m[1]
			return r
		}
		select {
		case err := <-r.done:
			r.done = nil
			r.err = err
			t.Fatalf("run(%q) returned before it was ready: %v\nstdout:\n%s\nstderr:\n%s", args, err, r.stdout, r.stderr)
		case <-deadline:
			t.Fatalf("run(%q) not ready within %v\nstdout:\n%s\nstderr:\n%s", args, timeout, r.stdout, r.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// testJPEG returns a JPEG of a blue sky over green ground, different for
// each seed (so each test stores a new object).
func testJPEG(t *testing.T, seed int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 160, 120))
	for y := range 120 {
		for x := range 160 {
			c := color.RGBA{R: 90, G: 150, B: 235, A: 255}
			if y > 70 {
				c = color.RGBA{R: 40, G: 140, B: 50, A: 255}
			}
			c.R += uint8((x + seed) % 7)
			img.Set(x, y, c)
		}
	}
	return testutil.EncodeJPEG(t, img, 90)
}

// noisePNG returns a PNG of w×h random pixels: incompressible, so about
// 3·w·h bytes, for testing large uploads.
func noisePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range img.Pix {
		img.Pix[i] = uint8(rnd.UintN(256))
		if i%4 == 3 {
			img.Pix[i] = 255
		}
	}
	return testutil.EncodePNG(t, img)
}

// uploadResponse is the part of POST /upload's answer the tests check.
type uploadResponse struct {
	Key         string `json:"key"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
	Labels      []struct {
		Name       string  `json:"name"`
		Confidence float64 `json:"confidence"`
	} `json:"labels"`
}

// postImage uploads data as multipart field "file" and decodes the answer,
// failing the test unless it is 200.
func postImage(t *testing.T, base string, data []byte) uploadResponse {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "test.jpg")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post(base+"/upload", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatalf("POST %s/upload: %v", base, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s/upload = %s: %s", base, resp.Status, raw)
	}
	var ur uploadResponse
	if err := json.Unmarshal(raw, &ur); err != nil {
		t.Fatalf("POST /upload answer %s: %v", raw, err)
	}
	if len(ur.Labels) == 0 {
		t.Errorf("POST /upload gave no labels: %s", raw)
	}
	for _, l := range ur.Labels {
		if l.Name == "" || l.Confidence < 70 || l.Confidence > 100 {
			t.Errorf("label %+v: want a name and the default minimum confidence 70", l)
		}
	}
	return ur
}

// getStatus returns the status of GET url, or 0 when the request fails.
func getStatus(url string, timeout time.Duration) (int, string) {
	client := &http.Client{Timeout: timeout}
	resp, err := client.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b)
}

// listenLoopback holds a free loopback port for the test's duration.
func listenLoopback(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}
