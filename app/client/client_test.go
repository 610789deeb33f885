package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"imagelabel/app/localaws"
	"imagelabel/internal/testutil"
)

// fakeAPI implements upload's HTTP contract closely enough to exercise the
// client: it decides by content like the real service (PNG/JPEG signature),
// and a marker in the bytes selects a failure.
type fakeAPI struct {
	maxBytes int64         // 413 above this
	delay    time.Duration // per upload, to observe concurrency
	labeler  string        // upload's /getInfo "labeler"; "" = no such field (older services)
	inFlight atomic.Int32
	maxSeen  atomic.Int32

	mu      sync.Mutex
	queries []string // RawQuery of every request
	names   []string // multipart file names received
}

const (
	markFailLabel = "FAIL-LABEL" // stored, then labeling fails: 502 with key
)

var fakeLabels = `[{"name":"Cat","confidence":98.5,"parents":["Animal","Pet"],"categories":["Animals and Pets"]},` +
	`{"name":"Red","confidence":71.25,"parents":[],"categories":["Colors and Visual Composition"]}]`

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/getInfo" { // the client may ask /getInfo on its own (labeler, identity)
		f.mu.Lock()
		f.queries = append(f.queries, r.URL.RawQuery)
		f.mu.Unlock()
	}
	w.Header().Set("Content-Type", "application/json")
	fail := func(status int, code, msg, key string) {
		w.WriteHeader(status)
		body := map[string]any{"error": map[string]string{"code": code, "message": msg}}
		if key != "" {
			body["key"] = key
		}
		json.NewEncoder(w).Encode(body)
	}
	switch {
	case r.Method == "GET" && r.URL.Path == "/getInfo":
		if f.labeler != "" {
			fmt.Fprintf(w, `{"labeler":%q,"name":"upload","version":"test-1"}`, f.labeler)
			return
		}
		io.WriteString(w, `{"name":"upload","version":"test-1"}`)
	case r.Method == "GET" && strings.HasPrefix(r.URL.Path, "/labels/"):
		key := strings.TrimPrefix(r.URL.Path, "/labels/")
		if !strings.HasPrefix(key, "uploads/") {
			fail(404, "not_found", "no image with key "+key, "")
			return
		}
		fmt.Fprintf(w, `{"key":%q,"labels":%s}`, key, fakeLabels)
	case r.Method == "POST" && r.URL.Path == "/upload":
		n := f.inFlight.Add(1)
		defer f.inFlight.Add(-1)
		for {
			m := f.maxSeen.Load()
			if n <= m || f.maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(f.delay)
		r.Body = http.MaxBytesReader(w, r.Body, f.maxBytes+4096)
		file, hdr, err := r.FormFile("file")
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				fail(413, "too_large", fmt.Sprintf("the image is larger than %d bytes", f.maxBytes), "")
				return
			}
			fail(400, "missing_file", "the request has no multipart field \"file\"", "")
			return
		}
		f.mu.Lock()
		f.names = append(f.names, hdr.Filename)
		f.mu.Unlock()
		b, _ := io.ReadAll(file)
		if int64(len(b)) > f.maxBytes {
			fail(413, "too_large", fmt.Sprintf("the image is larger than %d bytes", f.maxBytes), "")
			return
		}
		ext := ""
		switch {
		case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
			ext = "png"
		case bytes.HasPrefix(b, []byte("\xff\xd8\xff")):
			ext = "jpg"
		default:
			fail(415, "unsupported_media_type", "the file is not a JPEG or PNG image", "")
			return
		}
		sum := sha256.Sum256(b)
		key := "uploads/" + hex.EncodeToString(sum[:]) + "." + ext
		if bytes.Contains(b, []byte(markFailLabel)) {
			fail(502, "upstream_error", "labeling failed; the image is stored, retry with GET /labels/"+key, key)
			return
		}
		fmt.Fprintf(w, `{"key":%q,"size":%d,"contentType":"image/%s","labels":%s}`, key, len(b), map[string]string{"png": "png", "jpg": "jpeg"}[ext], fakeLabels)
	default:
		fail(404, "not_found", "no route", "")
	}
}

func startFake(t *testing.T) (*fakeAPI, string) {
	t.Helper()
	f := &fakeAPI{maxBytes: 64 << 10}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL
}

// writePNG writes a small valid PNG (plus extra bytes after IEND when extra is set) to dir/name.
func writePNG(t *testing.T, dir, name string, c color.Color, extra string) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for y := range 16 {
		for x := range 16 {
			img.Set(x, y, c)
		}
	}
	b := append(testutil.EncodePNG(t, img), extra...)
	return writeFile(t, dir, name, b)
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// runClient calls run with an environment of only env and returns its outputs.
func runClient(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errw bytes.Buffer
	err = run(ctx, args, func(k string) string { return env[k] }, strings.NewReader(""), &out, &errw)
	return out.String(), errw.String(), err
}

func noRawJSON(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, `{"error"`) || strings.Contains(s, `"code"`) || strings.Contains(s, `"message"`) {
		t.Errorf("%s shows raw JSON:\n%s", what, s)
	}
}

func TestUploadSuccess(t *testing.T) {
	f, url := startFake(t)
	dir := t.TempDir()
	img := writePNG(t, dir, "cat.png", color.RGBA{200, 30, 30, 255}, "")
	out, errOut, err := runClient(t, nil, "--url", url, "upload", "--max-labels", "5", "--min-confidence", "50.5", img)
	if err != nil {
		t.Fatalf("upload cat.png: %v\nstderr:\n%s", err, errOut)
	}
	for _, want := range []string{img + "  uploads/", "image/png", "LABEL", "CONFIDENCE", "PARENTS",
		"Cat", "████████████████████  98.5%", "██████████████░░░░░░  71.2%", "Animal, Pet", "Red", "71.2%"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	for _, want := range []string{img + ": uploading ", img + ": ok, 2 labels, uploads/", "1 uploaded, 0 failed (1 file in"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if len(f.queries) != 1 || f.queries[0] != "maxLabels=5&minConfidence=50.5" {
		t.Errorf("queries = %q; want [maxLabels=5&minConfidence=50.5]", f.queries)
	}
	if len(f.names) != 1 || f.names[0] != "cat.png" {
		t.Errorf("multipart file names = %q; want [cat.png]", f.names)
	}
}

func TestUploadErrors(t *testing.T) {
	_, url := startFake(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name    string
		content []byte
		want    []string
	}{
		{"notes.png", []byte("just some text, renamed to .png\n"),
			[]string{"notes.png: 415 unsupported_media_type: the file is not a JPEG or PNG image"}},
		{"big.png", append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 80<<10)...),
			[]string{"big.png: 413 too_large: the image is larger than 65536 bytes"}},
		{"stored.png", []byte("\x89PNG\r\n\x1a\n" + markFailLabel),
			[]string{"stored.png: 502 upstream_error: labeling failed", "stored as uploads/",
				"retry labeling with: go run ./app/client --url " + url + " labels uploads/"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, dir, tc.name, tc.content)
			out, errOut, err := runClient(t, nil, "--url", url, "upload", p)
			if err == nil || err.Error() != "1 of 1 uploads failed" {
				t.Errorf("upload %s: err = %v; want 1 of 1 uploads failed", tc.name, err)
			}
			if out != "" {
				t.Errorf("upload %s: stdout = %q; want nothing", tc.name, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("upload %s: stderr lacks %q:\n%s", tc.name, w, errOut)
				}
			}
			if !strings.Contains(errOut, "0 uploaded, 1 failed") {
				t.Errorf("upload %s: stderr lacks the summary:\n%s", tc.name, errOut)
			}
			onlyOneSummary(t, err, errOut)
			noRawJSON(t, "stderr", errOut)
		})
	}
}

// onlyOneSummary checks that main, given run's err, exits 1 and prints
// nothing more: upload's own summary line is the one summary.
func onlyOneSummary(t *testing.T, err error, errOut string) {
	t.Helper()
	var more strings.Builder
	if code := report(err, &more); code != 1 || more.Len() > 0 {
		t.Errorf("main after a failed upload: exit %d, prints %q after\n%s\nwant exit 1 and no second summary", code, more.String(), errOut)
	}
}

func TestReport(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		want string
	}{
		{nil, 0, ""},
		{flag.ErrHelp, 0, ""},
		{usageErr("no command given"), 2, "client: usage: no command given (see --help)\n"},
		{errors.New("cannot connect"), 1, "client: cannot connect\n"},
		{reportedError{errors.New("1 of 1 uploads failed")}, 1, ""},
	} {
		var b strings.Builder
		if code := report(tc.err, &b); code != tc.code || b.String() != tc.want {
			t.Errorf("report(%v) = %d, %q; want %d, %q", tc.err, code, b.String(), tc.code, tc.want)
		}
	}
}

// The client pointed at localaws (whose address the local run prints too)
// says it found S3, once, not "404 Not Found (got 404 Not Found)".
func TestPointedAtLocalAWS(t *testing.T) {
	aws, err := localaws.New(localaws.Options{Buckets: []string{"images"}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(aws)
	t.Cleanup(srv.Close)
	img := writePNG(t, t.TempDir(), "a.png", color.White, "")
	_, errOut, err := runClient(t, nil, "--url", srv.URL, "upload", img)
	want := img + ": " + srv.URL + " does not look like the upload API: its GET /getInfo answers 404 NoSuchBucket, an S3 error: this is S3 or localaws, not upload\n"
	if err == nil || !strings.Contains(errOut, want) {
		t.Errorf("upload to localaws: err = %v, stderr:\n%s\nwant %q", err, errOut, want)
	}
	_, _, err = runClient(t, nil, "--url", srv.URL, "info")
	if err == nil || strings.Count(err.Error(), srv.URL) != 1 || !strings.Contains(err.Error(), "S3 or localaws") {
		t.Errorf("info on localaws: err = %v; want it named as S3 or localaws, with the URL once", err)
	}
}

// https:// against a plain-HTTP server says to use http://, and other
// transport errors name the request once, not "POST u: Post "u": ...".
func TestTransportErrorsNameURLOnce(t *testing.T) {
	_, url := startFake(t)
	img := writePNG(t, t.TempDir(), "a.png", color.White, "")
	tlsURL := strings.Replace(url, "http://", "https://", 1)
	_, errOut, err := runClient(t, nil, "--url", tlsURL, "upload", img)
	want := img + ": " + strings.TrimPrefix(url, "http://") + " answers plain HTTP, not HTTPS: use " + url + " (check --url or API_URL)\n"
	if err == nil || !strings.Contains(errOut, want) {
		t.Errorf("https:// to an http server: err = %v, stderr:\n%s\nwant %q", err, errOut, want)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() { // accept, read the request head, hang up without answering
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Read(make([]byte, 4096))
			c.Close()
		}
	}()
	hangup := "http://" + ln.Addr().String()
	_, errOut, err = runClient(t, nil, "--url", hangup, "upload", img)
	if err == nil || strings.Count(errOut, hangup) != 1 || !strings.Contains(errOut, img+": POST "+hangup+"/upload: ") {
		t.Errorf("a server that hangs up: err = %v, stderr:\n%s\nwant POST %s/upload: and the error, the URL once", err, errOut, hangup)
	}
}

func TestUploadMissingFile(t *testing.T) {
	_, url := startFake(t)
	missing := filepath.Join(t.TempDir(), "nope.png")
	_, errOut, err := runClient(t, nil, "--url", url, "upload", missing)
	if err == nil || !strings.Contains(errOut, missing+": no such file or directory") {
		t.Errorf("upload missing: err = %v, stderr:\n%s\nwant a failure naming the file once", err, errOut)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	img := writePNG(t, t.TempDir(), "a.png", color.White, "")
	_, errOut, err := runClient(t, nil, "--url", "http://"+addr, "upload", img)
	if err == nil {
		t.Fatal("upload to a closed port succeeded")
	}
	want := img + ": cannot connect to " + addr + ": connection refused (is the service running? check --url or API_URL)"
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
	_, _, err = runClient(t, nil, "--url", "http://"+addr, "info")
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("info on a closed port: err = %v; want connection refused", err)
	}
}

func TestTimeout(t *testing.T) {
	f, url := startFake(t)
	f.delay = 2 * time.Second
	img := writePNG(t, t.TempDir(), "slow.png", color.White, "")
	start := time.Now()
	_, errOut, err := runClient(t, nil, "--url", url, "--timeout", "200ms", "upload", img)
	if err == nil || !strings.Contains(errOut, "within --timeout 200ms") {
		t.Errorf("slow upload: err = %v, stderr:\n%s\nwant a timeout message", err, errOut)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("slow upload took %s; want about the 200ms timeout", d)
	}
}

func TestParallelUploads(t *testing.T) {
	f, url := startFake(t)
	f.delay = 200 * time.Millisecond
	dir := t.TempDir()
	var files []string
	for i := range 7 {
		files = append(files, writePNG(t, dir, fmt.Sprintf("img%d.png", i), color.RGBA{uint8(30 * i), 100, 50, 255}, ""))
	}
	args := append([]string{"--url", url, "--concurrency", "3", "upload"}, files...)
	out, errOut, err := runClient(t, nil, args...)
	if err != nil {
		t.Fatalf("upload 7 files: %v\n%s", err, errOut)
	}
	if got := f.maxSeen.Load(); got != 3 {
		t.Errorf("most uploads in flight = %d; want 3 (--concurrency 3, 7 files of 200ms each)", got)
	}
	if !strings.Contains(errOut, "7 uploaded, 0 failed (7 files in") {
		t.Errorf("stderr lacks the summary:\n%s", errOut)
	}
	// Results come out in argument order whatever order the uploads finished in.
	last := -1
	for _, p := range files {
		i := strings.Index(out, p+"  uploads/")
		if i <= last {
			t.Errorf("result for %s at %d, after %d; want argument order:\n%s", p, i, last, out)
		}
		last = i
	}

	// One bad file among good ones: the others still succeed, the exit status says failure.
	bad := writeFile(t, dir, "bad.png", []byte("not an image"))
	args = append([]string{"--url", url, "--concurrency", "2", "upload", bad}, files[:3]...)
	out, errOut, err = runClient(t, nil, args...)
	if err == nil || err.Error() != "1 of 4 uploads failed" {
		t.Errorf("upload with one bad file: err = %v; want 1 of 4 uploads failed", err)
	}
	if !strings.Contains(errOut, "3 uploaded, 1 failed (4 files in") || !strings.Contains(errOut, bad+": 415 ") {
		t.Errorf("stderr lacks the summary or the failure:\n%s", errOut)
	}
	if strings.Count(out, "  uploads/") != 3 {
		t.Errorf("stdout has %d results; want 3:\n%s", strings.Count(out, "  uploads/"), out)
	}
}

func TestJSON(t *testing.T) {
	_, url := startFake(t)
	dir := t.TempDir()
	good := writePNG(t, dir, "good.png", color.Black, "")
	out, _, err := runClient(t, nil, "--url", url, "--json", "upload", good)
	if err != nil {
		t.Fatal(err)
	}
	var r labelsResult
	if err := json.Unmarshal([]byte(out), &r); err != nil || !strings.HasPrefix(r.Key, "uploads/") || len(r.Labels) != 2 {
		t.Errorf("--json upload stdout = %q (%v); want the API's JSON", out, err)
	}
	if strings.Count(out, "\n") != 1 {
		t.Errorf("--json upload stdout has %d lines; want 1", strings.Count(out, "\n"))
	}

	// Several files: one line each, in order, in the API's shape even for failures.
	bad := writeFile(t, dir, "bad.png", []byte("text"))
	stored := writeFile(t, dir, "stored.png", []byte("\x89PNG\r\n\x1a\n"+markFailLabel))
	out, _, err = runClient(t, nil, "--url", url, "--json", "upload", good, bad, stored, filepath.Join(dir, "missing.png"))
	if err == nil {
		t.Error("--json upload with failures succeeded")
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("--json upload of 4 files printed %d lines; want 4:\n%s", len(lines), out)
	}
	resp := make([]jsonLine, len(lines))
	for i, l := range lines {
		if err := json.Unmarshal([]byte(l), &resp[i]); err != nil {
			t.Fatalf("line %d %q: %v", i, l, err)
		}
	}
	for i, want := range []string{good, bad, stored, filepath.Join(dir, "missing.png")} {
		if resp[i].File != want || !strings.HasPrefix(lines[i], `{"file":`) {
			t.Errorf("line %d = %s; want \"file\":%q first", i, lines[i], want)
		}
	}
	if resp[0].Error != nil || resp[0].Key == "" {
		t.Errorf("line 0 = %s; want success", lines[0])
	}
	if resp[1].Error == nil || resp[1].Error.Code != "unsupported_media_type" {
		t.Errorf("line 1 = %s; want the 415 error", lines[1])
	}
	if resp[2].Error == nil || resp[2].Error.Code != "upstream_error" || !strings.HasPrefix(resp[2].Key, "uploads/") {
		t.Errorf("line 2 = %s; want the 502 with key", lines[2])
	}
	if resp[3].Error == nil || resp[3].Error.Code != "client_error" || !strings.Contains(resp[3].Error.Message, "no such file") {
		t.Errorf("line 3 = %s; want a client_error for the missing file", lines[3])
	}

	out, _, err = runClient(t, nil, "--url", url, "--json", "info")
	if err != nil || out != `{"name":"upload","version":"test-1"}`+"\n" {
		t.Errorf("--json info = %q, %v; want the API's JSON", out, err)
	}
}

// jsonLine is one line of --json upload output: the API's success or error shape.
type jsonLine struct {
	File  string `json:"file"`
	Key   string `json:"key"`
	Error *struct {
		Code, Message string
	} `json:"error"`
}

func TestLabelsAndInfo(t *testing.T) {
	f, url := startFake(t)
	key := "uploads/" + strings.Repeat("a", 64) + ".png"
	out, _, err := runClient(t, nil, "--url", url, "labels", key, "--min-confidence", "0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, key+"\n") || !strings.Contains(out, "Cat") || !strings.Contains(out, "98.5%") {
		t.Errorf("labels stdout:\n%s\nwant the key and a table", out)
	}
	if q := f.queries[len(f.queries)-1]; q != "minConfidence=0" {
		t.Errorf("labels query = %q; want minConfidence=0", q)
	}
	_, _, err = runClient(t, nil, "--url", url, "labels", "nope/x.png")
	if err == nil || err.Error() != "labels nope/x.png: 404 not_found: no image with key nope/x.png" {
		t.Errorf("labels of an unknown key: err = %v; want the API's message", err)
	}

	out, _, err = runClient(t, nil, "--url", url, "--json", "labels", "nope/x.png")
	if err == nil || !strings.HasPrefix(out, `{"error":{"code":"not_found"`) {
		t.Errorf("--json labels of an unknown key = %q, %v; want the API's error JSON and a failure", out, err)
	}

	out, _, err = runClient(t, nil, "--url", url+"/", "info")
	if err != nil || !strings.Contains(out, "name     upload") || !strings.Contains(out, "version  test-1") {
		t.Errorf("info = %q, %v", out, err)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"--url", "http://x", "upload"},
		{"--url", "http://x", "labels"},
		{"--url", "http://x", "labels", "a", "b"},
		{"--url", "http://x", "info", "extra"},
		{"--max-labels", "0x", "info"},
		{"--max-labels", "0", "info"},
		{"--max-labels", "-1", "info"},
		{"--max-labels", "1001", "info"},
		{"--min-confidence", "101", "info"},
		{"--min-confidence", "abc", "info"},
		{"--concurrency", "0", "info"},
		{"--timeout", "0s", "info"},
		{"--bogus", "info"},
		{"--url", "http://x", "smoke", "extra"},
		{"--url", "http://x", "--json", "smoke"},
	} {
		_, _, err := runClient(t, nil, args...)
		if !errors.Is(err, errUsage) {
			t.Errorf("run(%q) = %v; want a usage error", args, err)
		}
	}
	if _, _, err := runClient(t, nil, "--url", "ftp://x", "info"); err == nil || !strings.Contains(err.Error(), "http:// or https://") {
		t.Errorf("--url ftp://x: err = %v; want an http(s) URL error", err)
	}
	if _, errOut, err := runClient(t, nil, "--help"); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errOut, "upload FILE...") {
		t.Errorf("--help = %v, %q; want flag.ErrHelp and the usage", err, errOut)
	}
}

func TestAPIErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		want   string
		key    string
	}{
		{415, `{"error":{"code":"unsupported_media_type","message":"not a JPEG or PNG"}}`, "415 unsupported_media_type: not a JPEG or PNG", ""},
		{502, `{"error":{"code":"upstream_error","message":"labeling failed"},"key":"uploads/k.png"}`, "502 upstream_error: labeling failed", "uploads/k.png"},
		{429, `{"message":"Too Many Requests"}`, "429 Too Many Requests", ""},
		{503, "<html><body>Service Unavailable</body></html>", "503 Service Unavailable", ""},
		{404, "404 page not found\n", "404 404 page not found", ""},
		{500, `{"unexpected":true}`, "500 Internal Server Error", ""},
		{599, ``, "599 unexpected status", ""},
	} {
		e := newAPIError(tc.status, []byte(tc.body))
		if e.Error() != tc.want || e.Key != tc.key {
			t.Errorf("newAPIError(%d, %q) = %q key %q; want %q key %q", tc.status, tc.body, e.Error(), e.Key, tc.want, tc.key)
		}
	}
}

func TestProgressTerminal(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, true, []string{"a.png", "b.png"})
	p.every = 0
	p.start(0, 100)
	p.start(1, 2048)
	p.update(0, 50, 100)
	p.update(1, 2048, 2048)
	p.finish(0, "a.png: ok")
	p.finish(1, "b.png: 415 unsupported_media_type: nope")
	want := "" +
		"  a.png                             [....................]  0 B / 100 B\n" +
		"\x1b[1F\x1b[J" +
		"  a.png                             [....................]  0 B / 100 B\n" +
		"  b.png                             [....................]  0 B / 2 KiB\n" +
		"\x1b[2F\x1b[J" +
		"  a.png                             [##########..........]  50 B / 100 B\n" +
		"  b.png                             [....................]  0 B / 2 KiB\n" +
		"\x1b[2F\x1b[J" +
		"  a.png                             [##########..........]  50 B / 100 B\n" +
		"  b.png                             sent 2 KiB, waiting for the answer…\n" +
		"\x1b[2F\x1b[J" +
		"a.png: ok\n" +
		"  b.png                             sent 2 KiB, waiting for the answer…\n" +
		"\x1b[1F\x1b[J" +
		"b.png: 415 unsupported_media_type: nope\n"
	if got := b.String(); got != want {
		t.Errorf("terminal progress =\n%q\nwant\n%q", got, want)
	}

	b.Reset()
	p = newProgress(&b, false, []string{"a.png"})
	p.start(0, 100)
	p.update(0, 100, 100)
	p.finish(0, "a.png: ok")
	if got := b.String(); got != "a.png: uploading 100 B\na.png: ok\n" {
		t.Errorf("plain progress = %q", got)
	}
}

func TestBarAndHelpers(t *testing.T) {
	for _, tc := range []struct {
		pct  float64
		want string
	}{{0, "░░░░░"}, {50, "███░░"}, {100, "█████"}, {150, "█████"}, {-3, "░░░░░"}} {
		if got := bar(tc.pct, 5); got != tc.want {
			t.Errorf("bar(%g, 5) = %q; want %q", tc.pct, got, tc.want)
		}
	}
	for in, want := range map[string]string{"uploads/ab.png": "uploads/ab.png", "a b": "'a b'", "it's": `'it'\''s'`, "": "''"} {
		if got := quoteArg(in); got != want {
			t.Errorf("quoteArg(%q) = %q; want %q", in, got, want)
		}
	}
	if got := truncate("abcdefgh", 5); got != "abcd…" {
		t.Errorf("truncate = %q", got)
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{
		0: "0 B", 512: "512 B", 1023: "1023 B", 1024: "1 KiB", 1536: "1.5 KiB", 10 << 20: "10 MiB",
		10<<20 - 400<<10: "9.6 MiB", 1<<20 - 1: "1.0 MiB", 1<<30 + 1<<29: "1.5 GiB", 3 << 40: "3 TiB",
	} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q; want %q", n, got, want)
		}
	}
}

func TestJSONLineNamesFile(t *testing.T) {
	for _, tc := range []struct {
		r    uploadResult
		want string
	}{
		{uploadResult{body: []byte(`{"key":"k"}`)}, `{"file":"a b.png","key":"k"}`},
		{uploadResult{body: []byte(` {} `)}, `{"file":"a b.png"}`},
		{uploadResult{err: errors.New("boom")}, `{"file":"a b.png","error":{"code":"client_error","message":"boom"}}`},
		{uploadResult{body: []byte("<html>"), err: &apiError{Status: 502, Message: "Bad Gateway"}},
			`{"file":"a b.png","error":{"code":"http_502","message":"Bad Gateway"}}`},
		{uploadResult{body: []byte(`{"error":{"code":"not_found"}}`), err: &notUploadError{base: "http://x", who: "its GET /getInfo names \"rekog\"", answer: &apiError{Status: 404, Code: "not_found", Message: "no route"}}},
			`{"file":"a b.png","error":{"code":"client_error","message":"http://x does not look like the upload API: its GET /getInfo names \"rekog\" (got 404 not_found: no route)"}}`},
	} {
		if got := string(jsonFor("a b.png", tc.r)); got != tc.want {
			t.Errorf("jsonFor(%+v) = %s; want %s", tc.r, got, tc.want)
		}
	}
}

// TestNotTheUploadAPI points the client at servers that are not upload:
// rekog (its /getInfo names it) and a server with no /getInfo at all.
func TestNotTheUploadAPI(t *testing.T) {
	rekog := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/getInfo" {
			io.WriteString(w, `{"name":"rekog","version":"v1"}`)
			return
		}
		w.WriteHeader(404)
		io.WriteString(w, `{"error":{"code":"not_found","message":"no such route"}}`)
	}))
	t.Cleanup(rekog.Close)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", "nginx")
		http.NotFound(w, r)
	}))
	t.Cleanup(other.Close)
	img := writePNG(t, t.TempDir(), "a.png", color.White, "")

	_, errOut, err := runClient(t, nil, "--url", rekog.URL, "upload", img)
	want := img + ": " + rekog.URL + ` does not look like the upload API: its GET /getInfo names "rekog", not "upload" (got 404 not_found: no such route)`
	if err == nil || !strings.Contains(errOut, want) {
		t.Errorf("upload to rekog: err = %v, stderr:\n%s\nwant %q", err, errOut, want)
	}
	out, _, _ := runClient(t, nil, "--url", rekog.URL, "--json", "upload", img)
	var line jsonLine
	if json.Unmarshal([]byte(out), &line) != nil || line.File != img || line.Error == nil || line.Error.Code != "client_error" ||
		!strings.Contains(line.Error.Message, "does not look like the upload API") {
		t.Errorf("--json upload to rekog = %s; want a client_error line naming the file and the reason", out)
	}
	_, _, err = runClient(t, nil, "--url", other.URL, "labels", "uploads/x.png")
	if err == nil || !strings.Contains(err.Error(), other.URL+` does not look like the upload API: its GET /getInfo answers 404 Not Found (server "nginx")`) {
		t.Errorf("labels on a 404 server: err = %v; want it named as not upload", err)
	}
	_, _, err = runClient(t, nil, "--url", other.URL, "info")
	if err == nil || !strings.Contains(err.Error(), "does not look like the upload API") {
		t.Errorf("info on a 404 server: err = %v; want it named as not upload", err)
	}
	out, errOut, err = runClient(t, nil, "--url", rekog.URL, "info")
	if err != nil || !strings.Contains(out, "name     rekog") || !strings.Contains(errOut, `does not look like the upload API: its GET /getInfo names "rekog"`) {
		t.Errorf("info on rekog = %v:\n%s\nstderr:\n%s\nwant its info and a warning", err, out, errOut)
	}

	// upload's own 404 (an unknown key) stays the API's message.
	_, url := startFake(t)
	_, _, err = runClient(t, nil, "--url", url, "labels", "nope/x.png")
	if err == nil || strings.Contains(err.Error(), "does not look like") {
		t.Errorf("labels of an unknown key on upload: err = %v; want upload's 404 unchanged", err)
	}
}

func TestLabelerNote(t *testing.T) {
	img := writePNG(t, t.TempDir(), "a.png", color.White, "")
	for _, tc := range []struct{ labeler, want string }{
		{"", ""},
		{"Amazon Rekognition", ""},
		{"local stand-in (localaws)", "labels by local stand-in (localaws), not Amazon Rekognition\n"},
	} {
		f, url := startFake(t)
		f.labeler = tc.labeler
		_, errOut, err := runClient(t, nil, "--url", url, "upload", img)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(errOut, "labels by "); got != (tc.want != "") || tc.want != "" && !strings.Contains(errOut, tc.want) {
			t.Errorf("labeler %q: upload stderr:\n%s\nwant note %q", tc.labeler, errOut, tc.want)
		}
		_, errOut, err = runClient(t, nil, "--url", url, "labels", "uploads/k.png")
		if err != nil || tc.want != "" && !strings.Contains(errOut, tc.want) {
			t.Errorf("labeler %q: labels = %v, stderr:\n%s\nwant note %q", tc.labeler, err, errOut, tc.want)
		}
		out, _, err := runClient(t, nil, "--url", url, "info")
		if err != nil || tc.labeler != "" && !strings.Contains(out, "labeler  "+tc.labeler+"\n") {
			t.Errorf("labeler %q: info = %v:\n%s", tc.labeler, err, out)
		}
	}
}

// TestInfoValue: /getInfo sizes print as integers with their IEC size, not
// in the float notation a plain JSON decode gives (1.048576e+07).
func TestInfoValue(t *testing.T) {
	for _, tc := range []struct {
		key  string
		v    any
		want string
	}{
		{"maxUploadBytes", json.Number("10485760"), "10485760 (10 MiB)"},
		{"maxUploadBytes", json.Number("1.5"), "1.5"},
		{"version", "test-1", "test-1"},
		{"count", json.Number("12"), "12"},
	} {
		if got := infoValue(tc.key, tc.v); got != tc.want {
			t.Errorf("infoValue(%q, %v) = %q; want %q", tc.key, tc.v, got, tc.want)
		}
	}
}
