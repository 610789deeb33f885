package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"imagelabel/app/internal/api"
	"imagelabel/internal/testutil"
)

// testImage draws a w x h picture whose pixels depend on seed, so every
// seed gives different bytes.
func testImage(w, h int, seed uint64) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	base := color.RGBA{uint8(r.IntN(256)), uint8(r.IntN(256)), uint8(r.IntN(256)), 255}
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{base.R + uint8(x), base.G + uint8(y), base.B + uint8(x*y), 255})
		}
	}
	return img
}

func pngBytes(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	return testutil.EncodePNG(t, testImage(w, h, seed))
}

func jpegBytes(t testing.TB, w, h int, seed uint64) []byte {
	t.Helper()
	return testutil.EncodeJPEG(t, testImage(w, h, seed), 80)
}

func gifBytes(t testing.TB) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := gif.Encode(&b, testImage(16, 16, 1), nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// form builds a multipart body with data in field.
func form(t testing.TB, field, filename string, data []byte) (*bytes.Buffer, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("note", "fields before the file are skipped")
	fw, err := mw.CreateFormFile(field, filename)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(data)
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &b, mw.FormDataContentType()
}

// fakeStore is an in-memory objectStore with switchable failures.
type fakeStore struct {
	mu      sync.Mutex
	objects map[string]fakeObject
	puts    int
	putErr  error
	panic   bool
}

type fakeObject struct {
	data                  []byte
	contentType, checksum string
}

func newFakeStore() *fakeStore { return &fakeStore{objects: map[string]fakeObject{}} }

func (f *fakeStore) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.puts++
	if f.panic {
		panic("store exploded")
	}
	if f.putErr != nil {
		return nil, f.putErr
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if *in.Bucket != "images" {
		return nil, fmt.Errorf("bucket %q", *in.Bucket)
	}
	f.objects[*in.Key] = fakeObject{data: data, contentType: *in.ContentType, checksum: *in.ChecksumSHA256}
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeStore) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.objects)
}

// fakeRekog is an httptest rekog recording what it was sent.
type fakeRekog struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []api.LabelsRequest
	ids     []string
	respond func(call int, w http.ResponseWriter)
}

func newFakeRekog(t *testing.T, respond func(call int, w http.ResponseWriter)) *fakeRekog {
	f := &fakeRekog{respond: respond}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/labels" {
			http.Error(w, "wrong route "+r.Method+" "+r.URL.Path, 404)
			return
		}
		var req api.LabelsRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		f.mu.Lock()
		f.reqs = append(f.reqs, req)
		f.ids = append(f.ids, r.Header.Get("X-Request-Id"))
		call := len(f.reqs)
		respond := f.respond
		f.mu.Unlock()
		if respond == nil {
			okLabels(w)
			return
		}
		respond(call, w)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeRekog) setRespond(respond func(int, http.ResponseWriter)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.respond = respond
}

func (f *fakeRekog) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs)
}

func okLabels(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"labels":[{"name":"Dog","confidence":97.5,"parents":["Animal"],"categories":["Animals and Pets"]},{"name":"Bare","confidence":71}]}`)
}

func status(code int) func(int, http.ResponseWriter) {
	return func(_ int, w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = fmt.Fprintf(w, `{"error":{"code":"x","message":"internal detail %d"}}`, code)
	}
}

// rekogNotFound answers as rekog does when Rekognition reports
// InvalidS3ObjectException: 404 with the JSON error code not_found.
func rekogNotFound(_ int, w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, `{"error":{"code":"not_found","message":"no image with key uploads/internal detail"}}`)
}

func testConfig(rekogURL string) config {
	u, _ := url.Parse(rekogURL)
	return config{
		bucket: "images", rekogURL: u, maxUpload: 1 << 20,
		defaults:     api.Options{MaxLabels: 10, MinConfidence: 70},
		storeTimeout: 2 * time.Second, labelTimeout: 3 * time.Second, retryBackoff: 20 * time.Millisecond,
		bufferBytes: 8 << 20, maxInFlight: 64, maxLabelReads: 64, pace: defaultPace,
	}
}

// deadURL returns the URL of a server that has already closed: a connection
// to it is refused, as when rekog is down.
func deadURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}
