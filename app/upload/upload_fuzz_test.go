package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"imagelabel/app/internal/api"
	"imagelabel/app/localaws"
	"imagelabel/internal/testutil"
)

// fuzzBoundary is the boundary of every fuzzed body.
const fuzzBoundary = "fuzz-boundary"

// fuzzMaxUpload keeps fuzzed bodies and their objects small.
const fuzzMaxUpload = 64 << 10

// fuzzUpload is a running upload (through Serve, so the fuzz target does not
// depend on how the handler is built inside) with the in-process localaws
// as S3 and a stub rekog that labels everything with nothing.
type fuzzUpload struct {
	url    string
	aws    *localaws.Server
	client *http.Client
}

func startFuzzUpload(f *testing.F) *fuzzUpload {
	fake, err := localaws.New(localaws.Options{Buckets: []string{"fuzz"}})
	if err != nil {
		f.Fatal(err)
	}
	awsSrv := httptest.NewServer(fake)
	f.Cleanup(awsSrv.Close)
	rekogSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"labels":[]}`)
	}))
	f.Cleanup(rekogSrv.Close)
	env := map[string]string{
		"BUCKET": "fuzz", "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": awsSrv.URL,
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_EC2_METADATA_DISABLED": "true",
		"REKOG_URL": rekogSrv.URL, "MAX_UPLOAD_BYTES": "65536", "LOG_LEVEL": "error",
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, func(k string) string { return env[k] }, io.Discard) }()
	f.Cleanup(func() {
		cancel()
		<-done
	})
	u := &fuzzUpload{url: "http://" + ln.Addr().String(), aws: fake,
		client: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 20 * time.Second}}
	testutil.WaitHTTP(f, u.url+"/healthz", 10*time.Second, nil)
	return u
}

// fuzzFilePart is the oracle: the content of the first part named "file"
// as the standard library's multipart reader sees it, and whether it was
// found and read without error.
func fuzzFilePart(body []byte) ([]byte, bool) {
	mr := multipart.NewReader(bytes.NewReader(body), fuzzBoundary)
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, false
		}
		if p.FormName() != fileField {
			if _, err := io.Copy(io.Discard, p); err != nil {
				return nil, false
			}
			continue
		}
		data, err := io.ReadAll(p)
		return data, err == nil
	}
}

// fuzzValidImage says whether data passes every check upload makes.
func fuzzValidImage(data []byte) bool {
	f := sniff(data)
	if f == nil || f.verify(bufOf(data)) != nil {
		return false
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	return err == nil && checkDimensions(image.Config{Width: cfg.Width, Height: cfg.Height}) == nil
}

func fuzzBody(parts ...string) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		b.WriteString("--" + fuzzBoundary + "\r\n" + p + "\r\n")
	}
	b.WriteString("--" + fuzzBoundary + "--\r\n")
	return b.Bytes()
}

// FuzzUploadMultipart posts arbitrary bodies (with a Content-Length, or
// chunked) to POST /upload and checks what it answers against the standard
// library's multipart reader: never a 5xx or a non-JSON error; a 200 only
// for a "file" part that is a valid image, whose content-addressed key is
// in the answer and whose bytes are exactly what S3 stores; and every
// valid image in a body within the limit is accepted.
func FuzzUploadMultipart(f *testing.F) {
	png := string(testutil.EncodePNG(f, fuzzSeedImage()))
	jpg := string(testutil.EncodeJPEG(f, fuzzSeedImage(), 75))
	file := func(name, data string) string {
		return "Content-Disposition: form-data; name=\"" + name + "\"; filename=\"x\"\r\nContent-Type: image/png\r\n\r\n" + data
	}
	for _, body := range [][]byte{
		fuzzBody(file("file", png)),
		fuzzBody("Content-Disposition: form-data; name=\"note\"\r\n\r\nhello", file("file", jpg)),
		fuzzBody(file("other", png)),
		fuzzBody(file("file", "")),
		fuzzBody(file("file", png[:len(png)/2])),
		fuzzBody(file("file", "GIF89a....")),
		fuzzBody("Content-Disposition: form-data; name=\"file\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=89PNG"),
		[]byte("--" + fuzzBoundary + "\r\n" + file("file", png)), // no closing boundary
		[]byte("not multipart at all"),
	} {
		f.Add(body, false)
		f.Add(body, true)
	}
	u := startFuzzUpload(f)
	f.Fuzz(func(t *testing.T, body []byte, chunked bool) {
		var r io.Reader = bytes.NewReader(body)
		if chunked {
			r = io.MultiReader(r) // hides the length: sent chunked
		}
		req, err := http.NewRequest(http.MethodPost, u.url+"/upload", r)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+fuzzBoundary)
		resp, err := u.client.Do(req)
		if err != nil {
			t.Fatalf("POST /upload: %v", err)
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatalf("POST /upload: read answer: %v", err)
		}
		data, found := fuzzFilePart(body)
		valid := found && fuzzValidImage(data)
		if resp.StatusCode != http.StatusOK {
			var e api.ErrorBody
			if resp.StatusCode >= 500 || json.Unmarshal(raw, &e) != nil || e.Error.Code == "" || e.Key != "" {
				t.Fatalf("POST /upload = %d %s; want 200 or a 4xx JSON error without a key", resp.StatusCode, raw)
			}
			if valid && len(body) <= fuzzMaxUpload {
				t.Fatalf("POST /upload of a valid %d-byte image = %d %s; want 200", len(data), resp.StatusCode, raw)
			}
			return
		}
		u.checkStored(t, raw, data, valid)
	})
}

// checkStored checks a 200: the part was a valid image, the key is the
// SHA-256 of exactly its bytes, and S3 holds exactly those bytes.
func (u *fuzzUpload) checkStored(t *testing.T, raw, data []byte, valid bool) {
	var out api.UploadResponse
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("POST /upload = 200 %s: %v", raw, err)
	}
	if !valid {
		t.Fatalf("POST /upload = 200 %s for a file part the checks refuse (%d bytes)", raw, len(data))
	}
	want := keyOf(data, sniff(data).ext)
	if out.Key != want || out.Size != int64(len(data)) {
		t.Fatalf("POST /upload = key %s size %d; want %s size %d", out.Key, out.Size, want, len(data))
	}
	req := httptest.NewRequest(http.MethodGet, "/fuzz/"+out.Key, nil)
	req.Host = "127.0.0.1"
	rec := httptest.NewRecorder()
	u.aws.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), data) {
		t.Fatalf("stored %s = %d, %d bytes; want the %d bytes sent", out.Key, rec.Code, rec.Body.Len(), len(data))
	}
}
