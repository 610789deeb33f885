package upload

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/smithy-go"

	"imagelabel/app/internal/api"
	"imagelabel/internal/testutil"
)

type env struct {
	h     http.Handler
	store *fakeStore
	rekog *fakeRekog
	logs  *testutil.SyncBuffer
	cfg   config
	mem   *budget
}

func newEnv(t *testing.T, respond func(int, http.ResponseWriter), edit ...func(*config)) *env {
	t.Helper()
	e := &env{store: newFakeStore(), rekog: newFakeRekog(t, respond), logs: &testutil.SyncBuffer{}}
	e.cfg = testConfig(e.rekog.URL)
	for _, f := range edit {
		f(&e.cfg)
	}
	e.mem = newBudget(e.cfg.bufferBytes)
	e.h = newHandler(e.cfg, e.mem, e.store, newRekogClient(e.cfg), slog.New(slog.NewJSONHandler(e.logs, nil)))
	return e
}

// result is a decoded answer: either success fields or the error body.
type result struct {
	status int
	header http.Header
	ok     api.UploadResponse
	err    api.ErrorBody
	raw    string
}

func do(t *testing.T, h http.Handler, req *http.Request) result {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	r := result{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s %s: Content-Type %q; want application/json (body %q)", req.Method, req.URL, ct, r.raw)
	}
	target := any(&r.ok)
	if rec.Code != 200 {
		target = &r.err
	}
	if err := json.Unmarshal(rec.Body.Bytes(), target); err != nil {
		t.Fatalf("%s %s: body %q is not JSON: %v", req.Method, req.URL, r.raw, err)
	}
	return r
}

func uploadReq(t *testing.T, query string, data []byte) *http.Request {
	t.Helper()
	body, ct := form(t, "file", "picture.bin", data)
	req := httptest.NewRequest("POST", "/upload"+query, body)
	req.Header.Set("Content-Type", ct)
	return req
}

func keyOf(data []byte, ext string) string {
	sum := sha256.Sum256(data)
	return "uploads/" + hex.EncodeToString(sum[:]) + "." + ext
}

func TestUploadSuccess(t *testing.T) {
	for _, tt := range []struct {
		name, ext, contentType string
		data                   []byte
	}{
		{"png", "png", "image/png", pngBytes(t, 64, 48, 1)},
		{"jpeg", "jpg", "image/jpeg", jpegBytes(t, 64, 48, 1)},
		// Spans several buffer chunks (structure checks, hash and store
		// read across chunk boundaries).
		{"png of several chunks", "png", "image/png", pngBytes(t, 300, 300, 2)},
		{"jpeg of several chunks", "jpg", "image/jpeg", jpegBytes(t, 400, 400, 2)},
		// Bytes after IEND / EOI are accepted and stored as sent, e.g. the
		// video some phones append to their JPEGs (motion photos).
		{"png with data after IEND", "png", "image/png", append(pngBytes(t, 16, 16, 3), "trailing data"...)},
		{"jpeg with a video after EOI", "jpg", "image/jpeg",
			append(jpegBytes(t, 16, 16, 3), append([]byte("\x00\x00\x00\x18ftypmp42"), make([]byte, 100<<10)...)...)},
	} {
		e := newEnv(t, nil)
		req := uploadReq(t, "?maxLabels=7&minConfidence=55&includeCategories=Animals%20and%20Pets&excludeLabels=Person,Car", tt.data)
		req.Header.Set("X-Request-Id", "client-rid-1")
		r := do(t, e.h, req)
		if r.status != 200 {
			t.Fatalf("%s: POST /upload = %d %s; want 200", tt.name, r.status, r.raw)
		}
		want := keyOf(tt.data, tt.ext)
		if r.ok.Key != want || r.ok.Size != int64(len(tt.data)) || r.ok.ContentType != tt.contentType {
			t.Errorf("%s: answer = %+v; want key %s size %d type %s", tt.name, r.ok, want, len(tt.data), tt.contentType)
		}
		if len(r.ok.Labels) != 2 || r.ok.Labels[0].Name != "Dog" || r.ok.Labels[0].Confidence != 97.5 ||
			r.ok.Labels[0].Parents[0] != "Animal" || r.ok.Labels[1].Parents == nil || r.ok.Labels[1].Categories == nil {
			t.Errorf("%s: labels = %+v", tt.name, r.ok.Labels)
		}
		obj := e.store.objects[want]
		sum := sha256.Sum256(tt.data)
		if !bytes.Equal(obj.data, tt.data) || obj.contentType != tt.contentType || obj.checksum != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s: stored %d bytes type %q checksum %q; want the upload's bytes, type and SHA-256", tt.name, len(obj.data), obj.contentType, obj.checksum)
		}
		if e.rekog.calls() != 1 {
			t.Fatalf("%s: rekog called %d times; want 1", tt.name, e.rekog.calls())
		}
		got := e.rekog.reqs[0]
		if got.Key != want || *got.MaxLabels != 7 || *got.MinConfidence != 55 ||
			fmt.Sprint(got.IncludeCategories) != "[Animals and Pets]" || fmt.Sprint(got.ExcludeLabels) != "[Person Car]" {
			t.Errorf("%s: rekog got %+v", tt.name, got)
		}
		if e.rekog.ids[0] != "client-rid-1" || r.header.Get("X-Request-Id") != "client-rid-1" {
			t.Errorf("%s: request id to rekog %q, echoed %q; want client-rid-1", tt.name, e.rekog.ids[0], r.header.Get("X-Request-Id"))
		}
		for _, l := range e.logs.JSONLines(t) {
			if l["request_id"] != "client-rid-1" {
				t.Errorf("%s: log line without the request id: %v", tt.name, l)
			}
		}
	}
}

func TestUploadDefaultsAndGeneratedRequestID(t *testing.T) {
	e := newEnv(t, nil, func(c *config) { c.defaults = api.Options{MaxLabels: 4, MinConfidence: 88} })
	r := do(t, e.h, uploadReq(t, "", pngBytes(t, 8, 8, 2)))
	if r.status != 200 {
		t.Fatalf("POST /upload = %d %s", r.status, r.raw)
	}
	got := e.rekog.reqs[0]
	if *got.MaxLabels != 4 || *got.MinConfidence != 88 || got.IncludeCategories != nil {
		t.Errorf("rekog got %+v; want the defaults 4, 88", got)
	}
	id := r.header.Get("X-Request-Id")
	if len(id) != 32 || e.rekog.ids[0] != id {
		t.Errorf("generated id %q, rekog got %q; want the same 32-hex id", id, e.rekog.ids[0])
	}
	for _, l := range e.logs.JSONLines(t) {
		if l["request_id"] != id {
			t.Errorf("log line without the generated request id: %v", l)
		}
	}
}

func TestUploadSameBytesSameKey(t *testing.T) {
	e := newEnv(t, nil)
	a, b := pngBytes(t, 20, 20, 7), pngBytes(t, 20, 20, 8)
	r1 := do(t, e.h, uploadReq(t, "", a))
	r2 := do(t, e.h, uploadReq(t, "", a))
	r3 := do(t, e.h, uploadReq(t, "", b))
	if r1.ok.Key == "" || r1.ok.Key != r2.ok.Key || r1.ok.Key == r3.ok.Key {
		t.Errorf("keys %q, %q, %q; want the same key for the same bytes only", r1.ok.Key, r2.ok.Key, r3.ok.Key)
	}
	if e.store.count() != 2 {
		t.Errorf("%d objects stored; want 2", e.store.count())
	}
}

func TestUploadBadInputs(t *testing.T) {
	pngData := pngBytes(t, 64, 64, 3)
	jpegData := jpegBytes(t, 64, 64, 3)
	random := make([]byte, 4096)
	rr := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rr.UintN(256))
	}
	random[0] = 0x42 // not FF or 89: no signature by chance
	badCRC := bytes.Clone(pngData)
	badCRC[len(badCRC)-20] ^= 0xFF
	bigFile := append(bytes.Clone(pngData), make([]byte, 1<<20)...)

	tests := []struct {
		name   string
		req    func() *http.Request
		status int
		code   string
	}{
		{"empty file", func() *http.Request { return uploadReq(t, "", nil) }, 400, api.CodeEmptyFile},
		{"text", func() *http.Request { return uploadReq(t, "", []byte("hello, I am a text file\n")) }, 415, api.CodeUnsupportedImage},
		{"html named .png", func() *http.Request { return uploadReq(t, "", []byte("<html><script>alert(1)</script>")) }, 415, api.CodeUnsupportedImage},
		{"random bytes", func() *http.Request { return uploadReq(t, "", random) }, 415, api.CodeUnsupportedImage},
		{"gif", func() *http.Request { return uploadReq(t, "", gifBytes(t)) }, 415, api.CodeUnsupportedImage},
		{"webp", func() *http.Request { return uploadReq(t, "", []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00")) }, 415, api.CodeUnsupportedImage},
		{"bmp", func() *http.Request { return uploadReq(t, "", []byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00")) }, 415, api.CodeUnsupportedImage},
		{"query with a bad escape", func() *http.Request { return uploadReq(t, "?maxLabels=%zz", pngData) }, 400, api.CodeInvalidOption},
		{"query with ';'", func() *http.Request { return uploadReq(t, "?maxLabels=1;minConfidence=200", pngData) }, 400, api.CodeInvalidOption},
		{"maxlabels (misspelled)", func() *http.Request { return uploadReq(t, "?maxlabels=1", pngData) }, 400, api.CodeInvalidOption},
		{"maxLabels[]", func() *http.Request { return uploadReq(t, "?maxLabels[]=1", pngData) }, 400, api.CodeInvalidOption},
		{"maxLabels=+3", func() *http.Request { return uploadReq(t, "?maxLabels=+3", pngData) }, 400, api.CodeInvalidOption},
		{"minConfidence=0x1p6", func() *http.Request { return uploadReq(t, "?minConfidence=0x1p6", pngData) }, 400, api.CodeInvalidOption},
		{"png signature only", func() *http.Request { return uploadReq(t, "", pngData[:8]) }, 400, api.CodeMalformedImage},
		{"png 5 bytes", func() *http.Request { return uploadReq(t, "", pngData[:5]) }, 400, api.CodeMalformedImage},
		{"png cut in IHDR", func() *http.Request { return uploadReq(t, "", pngData[:20]) }, 400, api.CodeMalformedImage},
		{"png cut in half", func() *http.Request { return uploadReq(t, "", pngData[:len(pngData)/2]) }, 400, api.CodeMalformedImage},
		{"png without IEND", func() *http.Request { return uploadReq(t, "", pngData[:len(pngData)-12]) }, 400, api.CodeMalformedImage},
		{"png bad CRC", func() *http.Request { return uploadReq(t, "", badCRC) }, 400, api.CodeMalformedImage},
		{"png 0x0", func() *http.Request { return uploadReq(t, "", testutil.PNGHeader(0, 0, 2)) }, 400, api.CodeMalformedImage},
		{"png header 100000x100000", func() *http.Request { return uploadReq(t, "", testutil.PNGHeader(100000, 100000, 2)) }, 413, api.CodeDimensionsTooBig},
		{"png header 30000x1", func() *http.Request { return uploadReq(t, "", testutil.PNGHeader(30000, 1, 2)) }, 413, api.CodeDimensionsTooBig},
		{"png header 8000x8000", func() *http.Request { return uploadReq(t, "", testutil.PNGHeader(8000, 8000, 2)) }, 413, api.CodeDimensionsTooBig},
		{"jpeg SOI only", func() *http.Request { return uploadReq(t, "", jpegData[:3]) }, 400, api.CodeMalformedImage},
		{"jpeg cut in header", func() *http.Request { return uploadReq(t, "", jpegData[:100]) }, 400, api.CodeMalformedImage},
		{"jpeg cut in half", func() *http.Request { return uploadReq(t, "", jpegData[:len(jpegData)/2]) }, 400, api.CodeMalformedImage},
		{"jpeg without EOI", func() *http.Request { return uploadReq(t, "", jpegData[:len(jpegData)-2]) }, 400, api.CodeMalformedImage},
		{"jpeg garbage after SOI", func() *http.Request { return uploadReq(t, "", append([]byte{0xFF, 0xD8, 0xFF}, random...)) }, 400, api.CodeMalformedImage},
		{"missing field", func() *http.Request {
			body, ct := form(t, "image", "a.png", pngData)
			req := httptest.NewRequest("POST", "/upload", body)
			req.Header.Set("Content-Type", ct)
			return req
		}, 400, api.CodeMissingFile},
		{"no parts at all", func() *http.Request {
			req := httptest.NewRequest("POST", "/upload", strings.NewReader("--xyz--\r\n"))
			req.Header.Set("Content-Type", "multipart/form-data; boundary=xyz")
			return req
		}, 400, api.CodeMissingFile},
		{"wrong boundary", func() *http.Request {
			body, _ := form(t, "file", "a.png", pngData)
			req := httptest.NewRequest("POST", "/upload", body)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=not-the-one")
			return req
		}, 400, api.CodeBadRequest},
		{"raw body, no multipart", func() *http.Request {
			req := httptest.NewRequest("POST", "/upload", bytes.NewReader(pngData))
			req.Header.Set("Content-Type", "image/png")
			return req
		}, 415, api.CodeNotMultipart},
		{"json body", func() *http.Request {
			req := httptest.NewRequest("POST", "/upload", strings.NewReader(`{"file":"x"}`))
			req.Header.Set("Content-Type", "application/json")
			return req
		}, 415, api.CodeNotMultipart},
		{"no content type", func() *http.Request {
			return httptest.NewRequest("POST", "/upload", bytes.NewReader(pngData))
		}, 415, api.CodeNotMultipart},
		{"multipart without boundary", func() *http.Request {
			req := httptest.NewRequest("POST", "/upload", bytes.NewReader(pngData))
			req.Header.Set("Content-Type", "multipart/form-data")
			return req
		}, 415, api.CodeNotMultipart},
		{"oversize, honest Content-Length", func() *http.Request { return uploadReq(t, "", bigFile) }, 413, api.CodeTooLarge},
		{"oversize, lying Content-Length", func() *http.Request {
			req := uploadReq(t, "", bigFile)
			req.ContentLength = 1000
			return req
		}, 413, api.CodeTooLarge},
		{"oversize, chunked (no Content-Length)", func() *http.Request {
			req := uploadReq(t, "", bigFile)
			req.ContentLength = -1
			return req
		}, 413, api.CodeTooLarge},
		{"2 MiB field before the file (over maxHeadBytes)", func() *http.Request {
			var b bytes.Buffer
			b.WriteString("--B\r\nContent-Disposition: form-data; name=\"junk\"\r\n\r\n")
			b.Write(make([]byte, 2<<20))
			b.WriteString("\r\n--B--\r\n")
			req := httptest.NewRequest("POST", "/upload", &b)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
			req.ContentLength = -1
			return req
		}, 400, api.CodeBadRequest},
		{"maxLabels=0", func() *http.Request { return uploadReq(t, "?maxLabels=0", pngData) }, 400, api.CodeInvalidOption},
		{"maxLabels=abc", func() *http.Request { return uploadReq(t, "?maxLabels=abc", pngData) }, 400, api.CodeInvalidOption},
		{"maxLabels=1001", func() *http.Request { return uploadReq(t, "?maxLabels=1001", pngData) }, 400, api.CodeInvalidOption},
		{"minConfidence=-1", func() *http.Request { return uploadReq(t, "?minConfidence=-1", pngData) }, 400, api.CodeInvalidOption},
		{"minConfidence=101", func() *http.Request { return uploadReq(t, "?minConfidence=101", pngData) }, 400, api.CodeInvalidOption},
		{"minConfidence=NaN", func() *http.Request { return uploadReq(t, "?minConfidence=NaN", pngData) }, 400, api.CodeInvalidOption},
		{"excludeLabels too long", func() *http.Request { return uploadReq(t, "?excludeLabels="+strings.Repeat("x", 51), pngData) }, 400, api.CodeInvalidOption},
		{"includeCategories bad chars", func() *http.Request { return uploadReq(t, "?includeCategories=%3Cscript%3E", pngData) }, 400, api.CodeInvalidOption},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil)
			r := do(t, e.h, tt.req())
			if r.status != tt.status || r.err.Error.Code != tt.code {
				t.Errorf("POST /upload (%s) = %d %s %q; want %d %s", tt.name, r.status, r.err.Error.Code, r.err.Error.Message, tt.status, tt.code)
			}
			if r.err.Key != "" || e.store.puts != 0 || e.rekog.calls() != 0 {
				t.Errorf("refused upload: key %q, %d puts, %d rekog calls; want nothing stored or labeled", r.err.Key, e.store.puts, e.rekog.calls())
			}
			if tt.code == api.CodeInvalidOption && !strings.Contains(r.err.Error.Message, strings.SplitN(strings.TrimPrefix(tt.name, ""), "=", 2)[0][:5]) {
				t.Errorf("message %q does not name the parameter", r.err.Error.Message)
			}
		})
	}
}

func TestUploadFaults(t *testing.T) {
	data := pngBytes(t, 16, 16, 9)
	key := keyOf(data, "png")
	closedURL := deadURL(t)
	garbage := func(int, http.ResponseWriter) {}
	tests := []struct {
		name    string
		respond func(int, http.ResponseWriter)
		edit    func(*config)
		status  int
		code    string
		calls   int
	}{
		{"rekog 500 always: retried once", status(500), nil, 502, api.CodeUpstream, 2},
		{"rekog 502 always", status(502), nil, 502, api.CodeUpstream, 2},
		{"rekog 503 (throttled)", status(503), nil, 503, api.CodeUnavailable, 2},
		{"rekog 504", status(504), nil, 504, api.CodeTimeout, 2},
		{"rekog 429", status(429), nil, 503, api.CodeUnavailable, 1},
		{"rekog 422 (bad image): no retry", status(422), nil, 422, api.CodeUnprocessable, 1},
		{"rekog 400: no retry", status(400), nil, 502, api.CodeUpstream, 1},
		// The object was just stored, so rekog's "no image" is a fault of ours
		// (rekog reading another bucket, or its role lacking s3:GetObject): 502
		// with the key, never 404, and not retried.
		{"rekog 404 not_found: 502, no retry", rekogNotFound, nil, 502, api.CodeUpstream, 1},
		{"rekog 404 not rekog's JSON: no retry", status(404), nil, 502, api.CodeUpstream, 1},
		{"rekog answers nonsense", func(_ int, w http.ResponseWriter) { _, _ = io.WriteString(w, "<html>") }, nil, 502, api.CodeUpstream, 1},
		{"rekog answers {}", func(_ int, w http.ResponseWriter) { _, _ = io.WriteString(w, "{}") }, nil, 502, api.CodeUpstream, 1},
		{"rekog answers nothing", garbage, nil, 502, api.CodeUpstream, 1},
		{"rekog too slow", func(_ int, w http.ResponseWriter) { time.Sleep(time.Second); okLabels(w) },
			func(c *config) { c.labelTimeout = 200 * time.Millisecond }, 504, api.CodeTimeout, 1},
		{"rekog 500 then ok", func(call int, w http.ResponseWriter) {
			if call == 1 {
				status(500)(call, w)
				return
			}
			okLabels(w)
		}, nil, 200, "", 2},
		{"rekog down", nil, func(c *config) { c.rekogURL, _ = c.rekogURL.Parse(closedURL) }, 503, api.CodeUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			edits := []func(*config){}
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			e := newEnv(t, tt.respond, edits...)
			r := do(t, e.h, uploadReq(t, "", data))
			if r.status != tt.status || r.err.Error.Code != tt.code {
				t.Errorf("POST /upload = %d %s; want %d %s (%s)", r.status, r.err.Error.Code, tt.status, tt.code, r.raw)
			}
			if tt.status != 200 && (r.err.Key != key || !strings.HasPrefix(r.err.Error.Message, "the image is stored but ")) {
				t.Errorf("stored but not labeled: key %q, message %q; want key %q and a message saying it is stored",
					r.err.Key, r.err.Error.Message, key)
			}
			if strings.Contains(r.raw, "internal detail") || strings.Contains(r.raw, "127.0.0.1") {
				t.Errorf("answer %s leaks internal details", r.raw)
			}
			if strings.Contains(tt.name, "404 not_found") && r.err.Error.Message != "the image is stored but the labeler cannot read it" {
				t.Errorf("message %q; want the stored-but-unreadable message", r.err.Error.Message)
			}
			if e.store.count() != 1 {
				t.Errorf("%d objects stored; want 1", e.store.count())
			}
			if got := e.rekog.calls(); got != tt.calls {
				t.Errorf("rekog called %d times; want %d", got, tt.calls)
			}
			// The stored image can be labeled again once rekog recovers.
			if tt.status != 200 {
				e.rekog.setRespond(nil)
				r := do(t, e.h, httptest.NewRequest("GET", "/labels/"+key, nil))
				if tt.name != "rekog down" && (r.status != 200 || len(r.ok.Labels) != 2) {
					t.Errorf("GET /labels/%s after recovery = %d %s", key, r.status, r.raw)
				}
			}
		})
	}
}

func TestUploadStoreFailures(t *testing.T) {
	data := pngBytes(t, 16, 16, 10)
	e := newEnv(t, nil)
	e.store.putErr = &smithy.GenericAPIError{Code: "SlowDown", Message: "internal detail"}
	r := do(t, e.h, uploadReq(t, "", data))
	if r.status != 502 || r.err.Error.Code != api.CodeStoreFailed || r.err.Key != "" || strings.Contains(r.raw, "uploads/") {
		t.Errorf("failed store: POST /upload = %d %s; want 502 store_failed without a key", r.status, r.raw)
	}
	if e.rekog.calls() != 0 {
		t.Errorf("rekog called after a failed store")
	}

	// A panic anywhere in the handler becomes a 500 JSON error.
	e = newEnv(t, nil, func(c *config) { c.bufferBytes = chunkSize })
	e.store.panic = true
	r = do(t, e.h, uploadReq(t, "", data))
	if r.status != 500 || r.err.Error.Code != api.CodeInternal || strings.Contains(r.raw, "exploded") {
		t.Errorf("panicking store: POST /upload = %d %s; want 500 internal without details", r.status, r.raw)
	}
	// ...and the budget's only chunk was released: the next upload works.
	e.store.panic = false
	if r := do(t, e.h, uploadReq(t, "", data)); r.status != 200 {
		t.Fatalf("upload after panic = %d %s; want 200 (buffer leaked?)", r.status, r.raw)
	}
}

// TestUploadBudget: memory is charged as bytes arrive, never for a declared
// length; what does not fit the budget is 503 with Retry-After at once, and
// every chunk comes back afterwards.
func TestUploadBudget(t *testing.T) {
	e := newEnv(t, nil, func(c *config) { c.bufferBytes = 4 * chunkSize; c.maxUpload = 1 << 20 })
	// A body that has sent a few bytes and then trickles holds one chunk,
	// even though it declares 200 KiB.
	pr, pw := io.Pipe()
	defer pw.Close()
	go func() {
		req := httptest.NewRequest("POST", "/upload", pr)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
		req.ContentLength = 200 << 10
		e.h.ServeHTTP(httptest.NewRecorder(), req)
	}()
	_, _ = io.WriteString(pw, "--B\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n\x89PNG\r\n\x1a\n")
	waitFor(t, func() bool { return e.mem.available() == 3*chunkSize })

	small := pngBytes(t, 8, 8, 1)
	if r := do(t, e.h, uploadReq(t, "", small)); r.status != 200 {
		t.Errorf("small upload next to a trickling one = %d %s; want 200", r.status, r.raw)
	}
	// A declared length over what is free now: 503 before reading.
	big := bigPNG(3*chunkSize+100, 1)
	if r := do(t, e.h, uploadReq(t, "", big)); r.status != 503 || r.err.Error.Code != api.CodeUnavailable ||
		r.header.Get("Retry-After") == "" {
		t.Errorf("upload over the free budget = %d %s (Retry-After %q); want 503 with Retry-After",
			r.status, r.raw, r.header.Get("Retry-After"))
	}
	// The same body without a length runs out of chunks while arriving.
	req := uploadReq(t, "", big)
	req.ContentLength = -1
	req.Body = io.NopCloser(io.MultiReader(req.Body))
	if r := do(t, e.h, req); r.status != 503 || r.err.Error.Code != api.CodeUnavailable {
		t.Errorf("chunked upload over the budget = %d %s; want 503", r.status, r.raw)
	}
	if got := e.mem.available(); got != 3*chunkSize {
		t.Errorf("free budget after the refusals = %d; want %d (chunks leaked)", got, 3*chunkSize)
	}
	pw.Close()
	waitFor(t, func() bool { return e.mem.available() == 4*chunkSize })
}

// TestUploadInFlightCap: uploads beyond maxInFlight get 503 at once, and a
// finished upload frees its place.
func TestUploadInFlightCap(t *testing.T) {
	e := newEnv(t, nil, func(c *config) { c.maxInFlight = 2 })
	var pws []*io.PipeWriter
	done := make(chan struct{}, 2)
	for range 2 {
		pr, pw := io.Pipe()
		pws = append(pws, pw)
		go func() {
			req := httptest.NewRequest("POST", "/upload", pr)
			req.Header.Set("Content-Type", "multipart/form-data; boundary=B")
			e.h.ServeHTTP(httptest.NewRecorder(), req)
			done <- struct{}{}
		}()
		_, _ = io.WriteString(pw, "--B\r\n")
	}
	data := pngBytes(t, 8, 8, 2)
	if r := do(t, e.h, uploadReq(t, "", data)); r.status != 503 || r.header.Get("Retry-After") == "" {
		t.Errorf("third upload with a cap of 2 = %d %s; want 503 with Retry-After", r.status, r.raw)
	}
	pws[0].Close()
	<-done
	if r := do(t, e.h, uploadReq(t, "", data)); r.status != 200 {
		t.Errorf("upload after one finished = %d %s; want 200", r.status, r.raw)
	}
	pws[1].Close()
	<-done
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within 5 s")
		}
	}
}

func TestGetLabelsMalformedQuery(t *testing.T) {
	e := newEnv(t, nil)
	key := keyOf([]byte("x"), "png")
	for _, q := range []string{"maxLabels=%zz", "maxLabels=1;minConfidence=200", "maxlabels=1", "maxLabels[]=1",
		"maxLabels=+3", "minConfidence=0x1p6"} {
		r := do(t, e.h, httptest.NewRequest("GET", "/labels/"+key+"?"+q, nil))
		if r.status != 400 || r.err.Error.Code != api.CodeInvalidOption {
			t.Errorf("GET /labels/...?%s = %d %s; want 400 invalid_option", q, r.status, r.raw)
		}
	}
	if e.rekog.calls() != 0 {
		t.Errorf("rekog called %d times for malformed queries; want 0", e.rekog.calls())
	}
}

// TestUploadClientGoneStopsLabeling: a client that disconnects while its
// image is being labeled cancels the call to rekog (which cancels its
// DetectLabels); the image stays stored.
func TestUploadClientGoneStopsLabeling(t *testing.T) {
	called, cancelled := make(chan struct{}), make(chan struct{})
	rk := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		close(called)
		select {
		case <-r.Context().Done():
			close(cancelled)
		case <-time.After(10 * time.Second):
			okLabels(w)
		}
	}))
	t.Cleanup(rk.Close)
	cfg := testConfig(rk.URL)
	cfg.labelTimeout = 20 * time.Second // longer than the test waits: only the disconnect can cancel
	store := newFakeStore()
	logs := &testutil.SyncBuffer{}
	srv := httptest.NewServer(newHandler(cfg, newBudget(cfg.bufferBytes), store, newRekogClient(cfg), slog.New(slog.NewJSONHandler(logs, nil))))
	t.Cleanup(srv.Close)

	ctx, cancel := context.WithCancel(context.Background())
	req := uploadReq(t, "", pngBytes(t, 16, 16, 9))
	req = req.WithContext(ctx)
	req.URL, _ = url.Parse(srv.URL + "/upload")
	req.RequestURI = ""
	errc := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		errc <- err
	}()
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("rekog never called")
	}
	cancel()
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the labeling went on after the client disconnected")
	}
	<-errc
	if store.count() != 1 {
		t.Errorf("%d objects stored; want 1 (the image stays stored)", store.count())
	}
}

// TestUploadLabelingOutlivesBodyDeadline: the body's read deadline is lifted
// once the body is in, so a labeling longer than the stall limit is not cut
// short by it (the connection's background read would cancel the request).
func TestUploadLabelingOutlivesBodyDeadline(t *testing.T) {
	e := newEnv(t, func(_ int, w http.ResponseWriter) {
		time.Sleep(600 * time.Millisecond)
		okLabels(w)
	}, func(c *config) { c.pace.stall = 100 * time.Millisecond })
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	req := uploadReq(t, "", pngBytes(t, 16, 16, 11))
	req.URL, _ = url.Parse(srv.URL + "/upload")
	req.RequestURI = ""
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		raw, _ := io.ReadAll(resp.Body)
		t.Errorf("upload with labeling longer than the stall limit = %d %s; want 200", resp.StatusCode, raw)
	}
}

func TestGetLabels(t *testing.T) {
	data := jpegBytes(t, 32, 32, 4)
	key := keyOf(data, "jpg")
	e := newEnv(t, nil)
	if r := do(t, e.h, uploadReq(t, "", data)); r.status != 200 {
		t.Fatalf("upload = %d %s", r.status, r.raw)
	}
	req := httptest.NewRequest("GET", "/labels/"+key+"?maxLabels=3&excludeLabels=Person", nil)
	req.Header.Set("X-Request-Id", "rid-get")
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	var got api.KeyLabelsResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil || rec.Code != 200 || got.Key != key || len(got.Labels) != 2 {
		t.Fatalf("GET /labels/%s = %d %s", key, rec.Code, rec.Body)
	}
	last := e.rekog.reqs[len(e.rekog.reqs)-1]
	if last.Key != key || *last.MaxLabels != 3 || fmt.Sprint(last.ExcludeLabels) != "[Person]" || e.rekog.ids[len(e.rekog.ids)-1] != "rid-get" {
		t.Errorf("rekog got %+v id %q", last, e.rekog.ids[len(e.rekog.ids)-1])
	}

	hex64 := strings.Repeat("ab", 32)
	tests := []struct {
		path   string
		status int
		code   string
	}{
		{"/labels/uploads/xyz.png", 400, api.CodeInvalidKey},
		{"/labels/uploads/" + hex64 + ".gif", 400, api.CodeInvalidKey},
		{"/labels/uploads/" + strings.ToUpper(hex64) + ".png", 400, api.CodeInvalidKey},
		{"/labels/uploads/..%2F..%2Fetc%2Fpasswd", 400, api.CodeInvalidKey},
		{"/labels/uploads%2F..%2F" + hex64 + ".png", 400, api.CodeInvalidKey},
		{"/labels/%2Fuploads/" + hex64 + ".png", 400, api.CodeInvalidKey},
		{"/labels/other/" + hex64 + ".png", 400, api.CodeInvalidKey},
		{"/labels/uploads/" + hex64 + ".png/extra", 400, api.CodeInvalidKey},
		{"/labels/" + key + "?maxLabels=0", 400, api.CodeInvalidOption},
		{"/labels/" + key + "?minConfidence=x", 400, api.CodeInvalidOption},
	}
	for _, tt := range tests {
		before := e.rekog.calls()
		r := do(t, e.h, httptest.NewRequest("GET", tt.path, nil))
		if r.status != tt.status || r.err.Error.Code != tt.code || r.err.Key != "" {
			t.Errorf("GET %s = %d %s key %q; want %d %s, no key", tt.path, r.status, r.err.Error.Code, r.err.Key, tt.status, tt.code)
		}
		if e.rekog.calls() != before {
			t.Errorf("GET %s called rekog", tt.path)
		}
	}

	// A path with .. is cleaned and redirected by the mux, never routed to the handler.
	rec = httptest.NewRecorder()
	e.h.ServeHTTP(rec, httptest.NewRequest("GET", "/labels/uploads/../../etc/passwd", nil))
	if rec.Code/100 != 3 || strings.Contains(rec.Header().Get("Location"), "..") {
		t.Errorf("GET /labels/uploads/../../etc/passwd = %d Location %q; want a redirect to the cleaned path", rec.Code, rec.Header().Get("Location"))
	}

	if e.store.puts != 1 {
		t.Errorf("%d PutObject calls; want only the upload's", e.store.puts)
	}
}

// TestGetLabelsRekogFailures: GET /labels/{key} asks rekog directly (no S3
// lookup: upload's role may not read the bucket). rekog's 404 not_found is
// the caller's 404; no failure carries the key or claims the image is stored,
// since nothing here knows it is.
func TestGetLabelsRekogFailures(t *testing.T) {
	key := "uploads/" + strings.Repeat("ab", 32) + ".png"
	closedURL := deadURL(t)
	tests := []struct {
		name    string
		respond func(int, http.ResponseWriter)
		edit    func(*config)
		status  int
		code    string
		calls   int
	}{
		{"rekog 404 not_found: no such image", rekogNotFound, nil, 404, api.CodeNotFound, 1},
		{"rekog 404 not rekog's JSON: misconfiguration", status(404), nil, 502, api.CodeUpstream, 1},
		{"rekog 422", status(422), nil, 422, api.CodeUnprocessable, 1},
		{"rekog 500 always: retried once", status(500), nil, 502, api.CodeUpstream, 2},
		{"rekog 503", status(503), nil, 503, api.CodeUnavailable, 2},
		{"rekog down", nil, func(c *config) { c.rekogURL, _ = c.rekogURL.Parse(closedURL) }, 503, api.CodeUnavailable, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var edits []func(*config)
			if tt.edit != nil {
				edits = append(edits, tt.edit)
			}
			e := newEnv(t, tt.respond, edits...)
			r := do(t, e.h, httptest.NewRequest("GET", "/labels/"+key, nil))
			if r.status != tt.status || r.err.Error.Code != tt.code {
				t.Errorf("GET /labels = %d %s; want %d %s", r.status, r.raw, tt.status, tt.code)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(r.raw), &body); err != nil {
				t.Fatal(err)
			}
			if _, ok := body["key"]; ok || strings.Contains(r.err.Error.Message, "stored") {
				t.Errorf("GET /labels = %s; want no \"key\" and no claim that the image is stored", r.raw)
			}
			if tt.code == api.CodeNotFound && r.err.Error.Message != "no image with key "+key {
				t.Errorf("404 message %q; want %q", r.err.Error.Message, "no image with key "+key)
			}
			if strings.Contains(r.raw, "internal detail") || strings.Contains(r.raw, "127.0.0.1") {
				t.Errorf("answer %s leaks internal details", r.raw)
			}
			if got := e.rekog.calls(); got != tt.calls {
				t.Errorf("rekog called %d times; want %d", got, tt.calls)
			}
			if e.rekog.calls() > 0 && e.rekog.reqs[0].Key != key {
				t.Errorf("rekog asked for %q; want %q", e.rekog.reqs[0].Key, key)
			}
		})
	}
}

// TestObjectStoreIsPutOnly: upload's task role may only s3:PutObject under
// uploads/ (issue 3), so the S3 interface the handlers get has exactly
// PutObject; adding HeadObject, GetObject or anything else fails here.
func TestObjectStoreIsPutOnly(t *testing.T) {
	typ := reflect.TypeFor[objectStore]()
	var names []string
	for i := range typ.NumMethod() {
		names = append(names, typ.Method(i).Name)
	}
	if fmt.Sprint(names) != "[PutObject]" {
		t.Errorf("objectStore methods = %v; want only [PutObject] (upload's IAM role allows nothing else)", names)
	}
}

func TestRoutes(t *testing.T) {
	e := newEnv(t, nil)
	for _, tt := range []struct {
		method, path string
		status       int
		want         string
	}{
		{"GET", "/healthz", 200, `{"status":"ok"}`},
		{"GET", "/getInfo", 200, `"name":"upload"`},
		{"GET", "/", 200, "<"},
		{"GET", "/nope", 404, `"code":"not_found"`},
		{"GET", "/upload", 405, `"code":"method_not_allowed"`},
		{"DELETE", "/labels/x", 405, `"code":"method_not_allowed"`},
		{"POST", "/healthz", 405, `"code":"method_not_allowed"`},
	} {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s %s = %d %.80q; want %d containing %q", tt.method, tt.path, rec.Code, rec.Body, tt.status, tt.want)
		}
	}
}

func TestUploadConcurrentHandler(t *testing.T) {
	e := newEnv(t, nil)
	const n = 30
	var wg sync.WaitGroup
	keys := make([]string, n)
	datas := make([][]byte, n)
	for i := range n {
		datas[i] = pngBytes(t, 24, 24, uint64(100+i))
	}
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, uploadReq(t, "", datas[i]))
			var r api.UploadResponse
			_ = json.Unmarshal(rec.Body.Bytes(), &r)
			keys[i] = r.Key
		}()
	}
	wg.Wait()
	for i, k := range keys {
		if k != keyOf(datas[i], "png") || !bytes.Equal(e.store.objects[k].data, datas[i]) {
			t.Errorf("upload %d: key %q; stored bytes match: %v", i, k, bytes.Equal(e.store.objects[k].data, datas[i]))
		}
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	base := map[string]string{"BUCKET": "b", "REKOG_URL": "http://rekog.imagelabel.internal:9090"}
	c, err := loadConfig(env(base))
	if err != nil || c.maxUpload != DefaultMaxUploadBytes || c.rekogURL.Host != "rekog.imagelabel.internal:9090" ||
		c.defaults.MaxLabels != 10 || c.defaults.MinConfidence != 70 {
		t.Errorf("loadConfig(%v) = %+v, %v", base, c, err)
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range base {
			m[a] = b
		}
		m[k] = v
		return m
	}
	c, err = loadConfig(env(with("MAX_UPLOAD_BYTES", "2048")))
	if err != nil || c.maxUpload != 2048 || c.bufferBytes != 96<<20 {
		t.Errorf("MAX_UPLOAD_BYTES=2048: max %d buffer %d, %v; want 2048 and the default 96 MiB", c.maxUpload, c.bufferBytes, err)
	}
	c, err = loadConfig(env(with("UPLOAD_BUFFER_BYTES", "33554432")))
	if err != nil || c.bufferBytes != 32<<20 {
		t.Errorf("UPLOAD_BUFFER_BYTES=33554432: %d, %v", c.bufferBytes, err)
	}
	// The budget always fits one upload of the largest size.
	c, err = loadConfig(env(with("MAX_UPLOAD_BYTES", "209715200")))
	if err != nil || c.bufferBytes != 200<<20 {
		t.Errorf("MAX_UPLOAD_BYTES=200 MiB: buffer %d, %v; want 200 MiB", c.bufferBytes, err)
	}
	for _, m := range []map[string]string{
		with("BUCKET", ""), with("REKOG_URL", ""), with("REKOG_URL", "rekog:9090"), with("REKOG_URL", "ftp://x"),
		with("MAX_UPLOAD_BYTES", "ten"), with("MAX_UPLOAD_BYTES", "0"), with("MAX_LABELS", "1001"), with("MIN_CONFIDENCE", "-5"),
		with("UPLOAD_BUFFER_BYTES", "lots"), with("UPLOAD_BUFFER_BYTES", "1048576"), // under MAX_UPLOAD_BYTES
	} {
		if _, err := loadConfig(env(m)); err == nil {
			t.Errorf("loadConfig(%v) = nil error; want error", m)
		}
	}
}

// TestLabelReadsAreCapped: label reads waiting for rekog beyond
// maxLabelReads are answered 503 unavailable with Retry-After at once; the
// slots come back when they finish.
func TestLabelReadsAreCapped(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, func(_ int, w http.ResponseWriter) {
		<-release
		okLabels(w)
	}, func(c *config) { c.maxLabelReads = 2 })
	key := keyOf([]byte("x"), "png")
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() { do(t, e.h, httptest.NewRequest("GET", "/labels/"+key, nil)) })
	}
	for e.rekog.calls() < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	r := do(t, e.h, httptest.NewRequest("GET", "/labels/"+key, nil))
	if r.status != 503 || r.err.Error.Code != api.CodeUnavailable || r.header.Get("Retry-After") == "" {
		t.Errorf("third label read with 2 in progress = %d %s (Retry-After %q); want 503 unavailable with Retry-After",
			r.status, r.raw, r.header.Get("Retry-After"))
	}
	close(release)
	wg.Wait()
	if r := do(t, e.h, httptest.NewRequest("GET", "/labels/"+key, nil)); r.status != 200 {
		t.Errorf("label read after the others finished = %d %s; want 200", r.status, r.raw)
	}
}
