package testutil

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSyncBufferConcurrent(t *testing.T) {
	var s SyncBuffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_, _ = s.Write([]byte("ab\n"))
				_ = s.String()
			}
		})
	}
	wg.Wait()
	if got := strings.Count(s.String(), "ab\n"); got != 800 {
		t.Errorf("writes seen = %d; want 800", got)
	}
	b := s.Bytes()
	_, _ = s.Write([]byte("more"))
	if len(b) != 2400 || bytes.HasSuffix(b, []byte("more")) {
		t.Errorf("Bytes() = %d bytes, changed by a later write; want a 2400-byte copy", len(b))
	}
}

func TestEncoders(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 7, 5))
	img.Set(1, 1, color.RGBA{200, 10, 10, 255})
	p, err := png.Decode(bytes.NewReader(EncodePNG(t, img)))
	if err != nil || p.Bounds() != img.Bounds() || color.RGBAModel.Convert(p.At(1, 1)) != img.At(1, 1) {
		t.Errorf("EncodePNG round trip = %v, %v; want the same 7x5 image", p.Bounds(), err)
	}
	j, err := jpeg.Decode(bytes.NewReader(EncodeJPEG(t, img, 90)))
	if err != nil || j.Bounds() != img.Bounds() {
		t.Errorf("EncodeJPEG round trip = %v, %v; want 7x5", j, err)
	}
}

func TestPNGHeader(t *testing.T) {
	for _, tt := range []struct {
		ct    byte
		model color.Model
	}{{2, color.RGBAModel}, {6, color.NRGBAModel}} {
		cfg, format, err := image.DecodeConfig(bytes.NewReader(PNGHeader(30000, 2, tt.ct)))
		if err != nil || format != "png" || cfg.Width != 30000 || cfg.Height != 2 || cfg.ColorModel != tt.model {
			t.Errorf("DecodeConfig(PNGHeader(30000, 2, %d)) = %+v %q %v; want png 30000x2", tt.ct, cfg, format, err)
		}
		if _, err := png.Decode(bytes.NewReader(PNGHeader(4, 4, tt.ct))); err == nil {
			t.Errorf("png.Decode(PNGHeader(4, 4, %d)) = nil error; want failure: there is no image data", tt.ct)
		}
	}
}

func TestJSONLines(t *testing.T) {
	var s SyncBuffer
	_, _ = s.Write([]byte(`{"msg":"a","n":1}` + "\n" + `{"msg":"` + strings.Repeat("x", 100_000) + `"}` + "\n"))
	got := s.JSONLines(t)
	if len(got) != 2 || got[0]["msg"] != "a" || got[0]["n"] != 1.0 || len(got[1]["msg"].(string)) != 100_000 {
		t.Errorf("JSONLines = %d lines, first %v; want 2, the second 100000 characters long", len(got), got[0])
	}
}

// fatalTB records the first Fatal/Fatalf message and stops the goroutine, as
// testing.T does, so WaitHTTP's failures can be checked.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper()           {}
func (f *fatalTB) Fatal(args ...any) { f.msg = fmt.Sprint(args...); runtime.Goexit() }
func (f *fatalTB) Fatalf(s string, args ...any) {
	f.msg = fmt.Sprintf(s, args...)
	runtime.Goexit()
}

// runWait runs WaitHTTP with a fatalTB and returns its failure ("" = none).
func runWait(t *testing.T, url string, timeout time.Duration, alive func() error) string {
	f := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		WaitHTTP(f, url, timeout, alive)
	}()
	<-done
	return f.msg
}

func TestWaitHTTP(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) <= 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	if msg := runWait(t, srv.URL, 5*time.Second, nil); msg != "" || calls.Load() != 4 {
		t.Errorf("WaitHTTP on a server healthy at the 4th probe: failed %q after %d probes; want success after 4", msg, calls.Load())
	}

	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer down.Close()
	start := time.Now()
	msg := runWait(t, down.URL, 200*time.Millisecond, nil)
	if !strings.Contains(msg, "not healthy") || time.Since(start) < 200*time.Millisecond {
		t.Errorf("WaitHTTP on a 503 server = %q after %v; want a 'not healthy' failure after 200ms", msg, time.Since(start))
	}

	if msg := runWait(t, down.URL, 5*time.Second, func() error { return errors.New("exited early") }); msg != "exited early" {
		t.Errorf("WaitHTTP with a dead server = %q; want alive's error", msg)
	}
}
