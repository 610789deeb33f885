package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// scanBombJPEG returns a valid greyscale progressive JPEG of w×h whose
// scans (as many as asked) each code every block's AC band as one run of
// end-of-band codes: ~15 bits per 32767 blocks, so each scan is a few bytes
// that make the decoder visit every block once more.
func scanBombJPEG(w, h, scans int) []byte {
	var b bytes.Buffer
	seg := func(marker byte, payload ...byte) {
		b.Write([]byte{0xff, marker, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)})
		b.Write(payload)
	}
	b.Write([]byte{0xff, 0xd8}) // SOI
	dqt := make([]byte, 65)     // table 0, 8-bit, all ones
	for i := 1; i < len(dqt); i++ {
		dqt[i] = 1
	}
	seg(0xdb, dqt...)
	// SOF2: 8-bit, h, w, one component (id 1, 1×1, table 0).
	seg(0xc2, 8, byte(h>>8), byte(h), byte(w>>8), byte(w), 1, 1, 0x11, 0)
	// DHT: AC table 0 with one 1-bit code, "0", for 0xE0: EOB14, a run of
	// 2^14 + the next 14 bits blocks.
	dht := []byte{0x10, 1}
	dht = append(dht, make([]byte, 15)...)
	dht = append(dht, 0xe0)
	seg(0xc4, dht...)
	blocks := ((w + 7) / 8) * ((h + 7) / 8)
	for range scans {
		// SOS: one component (1, tables 0/0), Ss=1, Se=63, Ah=Al=0.
		seg(0xda, 1, 1, 0x00, 1, 63, 0)
		var bw jpegBits
		for left := blocks; left > 0; left -= 32767 {
			bw.put(0, 1)        // EOB14
			bw.put(1<<14-1, 14) // + 16383: a run of 32767 blocks
		}
		b.Write(bw.flush())
	}
	b.Write([]byte{0xff, 0xd9}) // EOI
	return b.Bytes()
}

// jpegBits packs entropy-coded data MSB first, stuffing 0x00 after 0xFF.
type jpegBits struct {
	out   []byte
	acc   uint32
	nbits uint
}

func (j *jpegBits) put(v uint32, n uint) {
	j.acc = j.acc<<n | v&(1<<n-1)
	j.nbits += n
	for j.nbits >= 8 {
		c := byte(j.acc >> (j.nbits - 8))
		j.out = append(j.out, c)
		if c == 0xff {
			j.out = append(j.out, 0)
		}
		j.nbits -= 8
	}
}

// flush pads the last byte with 1 bits (T.81 F.1.2.3).
func (j *jpegBits) flush() []byte {
	if j.nbits > 0 {
		j.put(1<<(8-j.nbits)-1, 8-j.nbits)
	}
	return j.out
}

func TestScanBombIsValid(t *testing.T) {
	img, err := jpeg.Decode(bytes.NewReader(scanBombJPEG(100, 60, 3)))
	if err != nil {
		t.Fatalf("decode the hand-made progressive JPEG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 100 || b.Dy() != 60 {
		t.Fatalf("decoded %v; want 100x60", b)
	}
}

// TestJPEGScans: scans are counted by walking segments, not by looking for
// 0xFFDA anywhere.
func TestJPEGScans(t *testing.T) {
	var baseline bytes.Buffer
	m := image.NewGray(image.Rect(0, 0, 64, 48))
	for i := range m.Pix {
		m.Pix[i] = byte(i * 7)
	}
	if err := jpeg.Encode(&baseline, m, nil); err != nil {
		t.Fatal(err)
	}
	base := baseline.Bytes()
	com := func(payload []byte) []byte { // base with a COM segment after SOI
		seg := append([]byte{0xff, 0xfe, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
		return append(append([]byte{0xff, 0xd8}, seg...), base[2:]...)
	}
	fakeSOS := bytes.Repeat([]byte{0xff, 0xda, 0x00, 0x08, 1, 1, 0, 0, 63, 0}, 50)
	bomb := scanBombJPEG(64, 48, 7)
	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"baseline", base, 1},
		{"0xFFDA inside a COM segment", com(fakeSOS), 1},
		{"0xFFDA after EOI", append(bytes.Clone(base), fakeSOS...), 1},
		{"progressive, 7 scans", bomb, 7},
		{"fill bytes and a restart marker between scans", bytes.ReplaceAll(bomb, []byte{0xff, 0xda}, []byte{0xff, 0xd0, 0xff, 0xff, 0xda}), 7},
		{"stuffed 0xFF00 then SOS-like bytes in entropy data", bytes.Replace(bomb, []byte{0xff, 0xd9}, []byte{0xff, 0x00, 0xda, 0xff, 0xd9}, 1), 7},
		{"truncated", base[:len(base)/2], 1},
	}
	for _, tt := range tests {
		if got := jpegScans(tt.data); got != tt.want {
			t.Errorf("%s: jpegScans = %d; want %d", tt.name, got, tt.want)
		}
	}
	// The restart-marker variant is still a JPEG the decoder reads whole.
	if _, err := jpeg.Decode(bytes.NewReader(tests[4].data)); err != nil {
		t.Errorf("decode %s: %v", tests[4].name, err)
	}
}

// TestJPEGScanBombRefused: a progressive JPEG of more than maxJPEGScans scans
// is refused before decoding. A proportional repro of the 7000×7000 ×
// 5,000-scan file (85 s of CPU): 2000×2000 × 2,000 scans, a few seconds of
// decoding before the bound, a millisecond after.
func TestJPEGScanBombRefused(t *testing.T) {
	data := scanBombJPEG(2000, 2000, 2000)
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = srv.detectLabels(context.Background(), detectBody(t, data), -1)
	took := time.Since(start)
	var re *rekError
	if !errors.As(err, &re) || re.typ != "ImageTooLargeException" || re.status != http.StatusBadRequest {
		t.Fatalf("DetectLabels(%d-byte JPEG of 2000 scans) = %v after %v; want 400 ImageTooLargeException", len(data), err, took)
	}
	t.Logf("refused in %v", took)
	// Within the bound, the same kind of file is decoded.
	if _, err := srv.detectLabels(context.Background(), detectBody(t, scanBombJPEG(200, 200, maxJPEGScans)), -1); err != nil {
		t.Errorf("DetectLabels(JPEG of %d scans) = %v; want labels", maxJPEGScans, err)
	}
}

// TestDecodeStopsWhenCancelled: a long decode (a JPEG of 100 scans over
// 2000×2000, under the scan bound) stops soon after its request's context
// ends, and gives its decode budget back.
func TestDecodeStopsWhenCancelled(t *testing.T) {
	data := scanBombJPEG(2000, 2000, maxJPEGScans)
	full := time.Now()
	if _, release, err := decodeImage(context.Background(), data); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	fullTook := time.Since(full)

	ctx, cancel := context.WithCancel(context.Background())
	const after = 20 * time.Millisecond
	time.AfterFunc(after, cancel)
	start := time.Now()
	_, _, err := decodeImage(ctx, data)
	took := time.Since(start)
	t.Logf("whole decode %v; cancelled after %v, returned after %v", fullTook, after, took)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("decodeImage with a cancelled context = %v; want context.Canceled", err)
	}
	if took > fullTook*3/4 {
		t.Errorf("decodeImage returned %v after start (cancelled at %v); a whole decode takes %v", took, after, fullTook)
	}
	if !decodeSem.TryAcquire(decodeBudget) {
		t.Fatal("the decode budget was not given back")
	}
	decodeSem.Release(decodeBudget)
}

// tinyPNGWithTail is a valid 8×8 PNG followed by tail zero bytes (ignored
// after IEND): decoding it is cheap, reading it is not.
func tinyPNGWithTail(t *testing.T, tail int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
	b.Write(make([]byte, tail))
	return b.Bytes()
}

// holdDecoder takes the whole decode budget, so every DetectLabels waits
// just before decoding, until the returned function runs.
func holdDecoder(t *testing.T) func() {
	t.Helper()
	if err := decodeSem.Acquire(context.Background(), decodeBudget); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() { once.Do(func() { decodeSem.Release(decodeBudget) }) }
	t.Cleanup(release)
	return release
}

func heapInUse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// TestDetectLabelsAdmitsBeforeReading: DetectLabels requests waiting to
// decode hold at most the input budget (128 MiB) of S3 objects, however
// many there are. A proportional repro of 1,500 requests for a 10 MiB
// object (1.97 GiB): 24 requests for an 8 MiB one held 192 MiB before.
func TestDetectLabelsAdmitsBeforeReading(t *testing.T) {
	const n, size = 24, 8 << 20
	srv, err := New(Options{Buckets: []string{testBucket}})
	if err != nil {
		t.Fatal(err)
	}
	obj := tinyPNGWithTail(t, size)
	if _, err := srv.backend.PutObject(testBucket, "big.png", nil, bytes.NewReader(obj), int64(len(obj)), nil); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"Image":{"S3Object":{"Bucket":%q,"Name":"big.png"}}}`, testBucket)
	releaseDecoder := holdDecoder(t)
	before := heapInUse()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() { _, _ = srv.detectLabels(ctx, strings.NewReader(body), int64(len(body))) })
	}
	time.Sleep(time.Second) // all read (before) or admitted and waiting
	held := heapInUse() - before
	cancel()
	wg.Wait()
	releaseDecoder()
	t.Logf("%d requests waiting for the decoder hold %d MiB", n, held>>20)
	if limit := int64(128<<20 + 16<<20); held > limit {
		t.Errorf("%d waiting requests for a %d MiB object hold %d MiB; want at most %d MiB (the input budget and slack)", n, size>>20, held>>20, limit>>20)
	}
}

// TestRequestsBeyondCapThrottled: with maxInFlight (256) requests in
// flight, more are answered at once with ThrottlingException (which the SDK
// retries) instead of waiting, each with its goroutine and buffers.
func TestRequestsBeyondCapThrottled(t *testing.T) {
	const inFlight, extra = 256, 24
	srv, err := New(Options{Buckets: []string{testBucket}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	obj := tinyPNGWithTail(t, 0)
	if _, err := srv.backend.PutObject(testBucket, "a.png", nil, bytes.NewReader(obj), int64(len(obj)), nil); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"Image":{"S3Object":{"Bucket":%q,"Name":"a.png"}}}`, testBucket)
	holdDecoder(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: inFlight + extra}}
	statuses := make(chan string, inFlight+extra)
	var wg sync.WaitGroup
	for range inFlight + extra {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, hs.URL+"/", strings.NewReader(body))
			req.Header.Set("X-Amz-Target", "RekognitionService.DetectLabels")
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			resp, err := client.Do(req)
			if err != nil {
				return // cancelled at the end
			}
			resp.Body.Close()
			statuses <- fmt.Sprint(resp.StatusCode, " ", resp.Header.Get("X-Amzn-ErrorType"))
		})
	}
	throttled := 0
	timeout := time.After(10 * time.Second)
	for throttled < extra {
		select {
		case s := <-statuses:
			if s != "400 ThrottlingException" {
				t.Fatalf("answer while the decoder is held: %s; want 400 ThrottlingException", s)
			}
			throttled++
		case <-timeout:
			t.Fatalf("%d of %d requests beyond the cap answered ThrottlingException within 10 s", throttled, extra)
		}
	}
	cancel()
	wg.Wait()
}
