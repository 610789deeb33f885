// Package testutil holds small helpers shared by the tests of several
// packages: a goroutine-safe log sink and image encoders. It is a normal
// (non-test) package so that _test files anywhere in the module can import
// it; it must not import any imagelabel/app package, so that every package's
// tests can use it without an import cycle.
package testutil

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for concurrent writers and readers:
// servers' goroutines log to it while the test reads it. The zero value is
// ready to use.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p to the buffer.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bytes returns a copy of everything written so far; later writes do not
// change it.
func (s *SyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// JSONLines parses everything written so far as JSON lines (as slog's
// JSONHandler writes them) and returns one map per line, failing tb if a
// line is not a JSON object or is longer than 1 MiB.
func (s *SyncBuffer) JSONLines(tb testing.TB) []map[string]any {
	tb.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(s.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatalf("log line %q is not JSON: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		tb.Fatalf("testutil: read log lines: %v", err)
	}
	return out
}

// EncodePNG returns img encoded as PNG, failing tb if encoding fails.
func EncodePNG(tb testing.TB, img image.Image) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatalf("testutil: encode PNG: %v", err)
	}
	return b.Bytes()
}

// EncodeJPEG returns img encoded as JPEG at the given quality (1..100),
// failing tb if encoding fails.
func EncodeJPEG(tb testing.TB, img image.Image, quality int) []byte {
	tb.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		tb.Fatalf("testutil: encode JPEG: %v", err)
	}
	return b.Bytes()
}

// PNGHeader returns a PNG signature followed by a valid IHDR chunk (correct
// CRC) claiming w x h pixels of 8-bit samples with the given PNG color type
// (2 = RGB, 6 = RGBA), and nothing else: enough for image.DecodeConfig,
// nothing to decode — what a decompression bomb starts with.
// Layout: https://www.w3.org/TR/png/#11IHDR
func PNGHeader(w, h uint32, colorType byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, colorType
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// WaitHTTP polls url every 20 ms until it answers 200 OK, and fails tb if
// that does not happen within timeout or if alive (when not nil) returns an
// error first; alive is called before every probe, so a test can stop
// waiting for a server whose Serve already returned. Each probe has its own
// 2 s timeout because a server that failed may leave its listener open with
// nobody accepting on it.
func WaitHTTP(tb testing.TB, url string, timeout time.Duration, alive func() error) {
	tb.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(timeout)
	for {
		if alive != nil {
			if err := alive(); err != nil {
				tb.Fatal(err)
			}
		}
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s not healthy (200 OK) within %v", url, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
