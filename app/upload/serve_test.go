package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/awsconf"
	"imagelabel/app/localaws"
	"imagelabel/app/rekog"
	"imagelabel/internal/testutil"
)

// system is upload and rekog served by their real Serve functions against
// an in-process localaws, as in production but on loopback. upload reaches
// localaws through its own recording endpoint, so tests can check every AWS
// request upload makes (its IAM role allows only s3:PutObject on uploads/*).
type system struct {
	aws        *localaws.Server
	awsURL     string // localaws for rekog and the test's own checks
	uploadAWS  *awsRecorder
	uploadURL  string
	rekogURL   string
	env        map[string]string // upload's
	uploadLogs *testutil.SyncBuffer
	rekogLogs  *testutil.SyncBuffer
	s3         *s3.Client
}

// awsRecorder is an AWS endpoint in front of localaws that records the
// requests it passes on.
type awsRecorder struct {
	mu   sync.Mutex
	reqs []string // "METHOD path?query target"
}

func (a *awsRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.reqs = append(a.reqs, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Amz-Target")))
		a.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (a *awsRecorder) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.reqs...)
}

func getenvOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// serveOn starts serve on a loopback port and stops it at cleanup, failing
// the test unless it returns nil.
func serveOn(t *testing.T, serve func(context.Context, net.Listener, func(string) string, io.Writer) error,
	env map[string]string, logs io.Writer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, getenvOf(env), logs) }()
	url := "http://" + ln.Addr().String()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve returned %v; want nil after cancel", err)
		}
	})
	waitHealthy(t, url, done)
	return url
}

func waitHealthy(t *testing.T, url string, done chan error) {
	t.Helper()
	testutil.WaitHTTP(t, url+"/healthz", 10*time.Second, func() error {
		select {
		case err := <-done:
			done <- err // for the cleanup waiting on it, which would block forever otherwise
			return fmt.Errorf("Serve exited early: %w", err)
		default:
			return nil
		}
	})
}

func awsEnv(awsURL string) map[string]string {
	return map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": awsURL,
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"BUCKET": "images", "LOG_LEVEL": "debug", "MIN_CONFIDENCE": "0",
	}
}

func startSystem(t *testing.T) *system {
	t.Helper()
	return startSystemWith(t, httptest.NewServer)
}

// startSystemWith serves localaws with newServer (httptest.NewServer or
// httptest.NewTLSServer) and starts rekog and upload against it.
func startSystemWith(t *testing.T, newServer func(http.Handler) *httptest.Server) *system {
	t.Helper()
	fake, err := localaws.New(localaws.Options{Buckets: []string{"images"}})
	if err != nil {
		t.Fatal(err)
	}
	awsSrv := newServer(fake)
	t.Cleanup(awsSrv.Close)
	s := &system{aws: fake, awsURL: awsSrv.URL, uploadAWS: &awsRecorder{}, uploadLogs: &testutil.SyncBuffer{}, rekogLogs: &testutil.SyncBuffer{}}
	uploadAWS := newServer(s.uploadAWS.wrap(fake))
	t.Cleanup(uploadAWS.Close)
	rekogEnv := awsEnv(awsSrv.URL)
	rekogEnv["PORT"] = "unused: Serve gets its listener"
	s.rekogURL = serveOn(t, rekog.Serve, rekogEnv, s.rekogLogs)
	s.env = awsEnv(uploadAWS.URL)
	s.env["REKOG_URL"] = s.rekogURL
	s.uploadURL = serveOn(t, Serve, s.env, s.uploadLogs)
	cfg, err := awsconf.Load(context.Background(), getenvOf(rekogEnv))
	if err != nil {
		t.Fatal(err)
	}
	s.s3 = awsconf.NewS3(cfg, getenvOf(rekogEnv))
	return s
}

// checkUploadOnlyPuts fails unless every AWS request upload made is an S3
// PutObject under uploads/ of the bucket: what its task role allows.
func (s *system) checkUploadOnlyPuts(t *testing.T) {
	t.Helper()
	reqs := s.uploadAWS.requests()
	if len(reqs) == 0 {
		t.Errorf("upload made no AWS request; want its PutObjects")
	}
	for _, r := range reqs {
		path, query, _ := strings.Cut(strings.TrimPrefix(r, "PUT "), "?")
		if !strings.HasPrefix(r, "PUT /images/uploads/") || strings.Contains(path, " ") ||
			(query != "" && query != "x-id=PutObject") {
			t.Errorf("upload sent %q to AWS; its role allows only s3:PutObject on images/uploads/*", r)
		}
	}
}

// post uploads data as field "file" and decodes the answer.
func (s *system) post(t *testing.T, query string, data []byte, header map[string]string) result {
	t.Helper()
	body, ct := form(t, "file", "x", data)
	req, _ := http.NewRequest("POST", s.uploadURL+"/upload"+query, body)
	req.Header.Set("Content-Type", ct)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return send(t, req)
}

func send(t *testing.T, req *http.Request) result {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	target := any(&r.ok)
	if r.status != 200 {
		target = &r.err
	}
	if err := json.Unmarshal(raw, target); err != nil {
		t.Fatalf("%s %s = %d: body %q is not JSON", req.Method, req.URL, r.status, raw)
	}
	return r
}

func (s *system) get(t *testing.T, path string) result {
	t.Helper()
	req, _ := http.NewRequest("GET", s.uploadURL+path, nil)
	return send(t, req)
}

func (s *system) object(t *testing.T, key string) ([]byte, string) {
	t.Helper()
	out, err := s.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("images"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject %s: %v", key, err)
	}
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return b, aws.ToString(out.ContentType)
}

func (s *system) countObjects(t *testing.T) int {
	t.Helper()
	out, err := s.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("images")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	return len(out.Contents)
}

func TestServeEndToEnd(t *testing.T) {
	s := startSystem(t)
	for _, tt := range []struct {
		data []byte
		ext  string
		ct   string
	}{
		{pngBytes(t, 120, 80, 1), "png", "image/png"},
		{jpegBytes(t, 120, 80, 1), "jpg", "image/jpeg"},
	} {
		r := s.post(t, "?maxLabels=3", tt.data, map[string]string{"X-Request-Id": "e2e-" + tt.ext})
		if r.status != 200 {
			t.Fatalf("POST /upload (%s) = %d %s", tt.ext, r.status, r.raw)
		}
		if r.ok.Key != keyOf(tt.data, tt.ext) || r.ok.ContentType != tt.ct || r.ok.Size != int64(len(tt.data)) {
			t.Errorf("answer %+v; want key %s", r.ok, keyOf(tt.data, tt.ext))
		}
		if len(r.ok.Labels) == 0 || len(r.ok.Labels) > 3 {
			t.Errorf("labels %+v; want 1..3 (maxLabels=3)", r.ok.Labels)
		}
		for _, l := range r.ok.Labels {
			if l.Name == "" || l.Confidence <= 0 || l.Confidence > 100 || l.Parents == nil || l.Categories == nil {
				t.Errorf("label %+v malformed", l)
			}
		}
		got, ct := s.object(t, r.ok.Key)
		if !bytes.Equal(got, tt.data) || ct != tt.ct {
			t.Errorf("stored object: %d bytes, type %q; want the upload's %d bytes, %s", len(got), ct, len(tt.data), tt.ct)
		}
		// The retry path relabels the stored image.
		r2 := s.get(t, "/labels/"+r.ok.Key+"?maxLabels=3")
		if r2.status != 200 || fmt.Sprint(r2.ok.Labels) != fmt.Sprint(r.ok.Labels) {
			t.Errorf("GET /labels/%s = %d %s; want the same labels", r.ok.Key, r2.status, r2.raw)
		}
	}
	// A key never uploaded: upload asks rekog without looking in S3, rekog's
	// DetectLabels gets InvalidS3ObjectException, and the caller gets 404
	// without a "key" (nothing says the object is stored).
	for _, missing := range []string{"uploads/" + strings.Repeat("0", 64) + ".png", "uploads/" + strings.Repeat("f", 64) + ".jpg"} {
		calls := rekogRequests(t, s.rekogLogs)
		r := s.get(t, "/labels/"+missing)
		if r.status != 404 || r.err.Error.Code != api.CodeNotFound || r.err.Error.Message != "no image with key "+missing ||
			strings.Contains(r.raw, `"key"`) {
			t.Errorf("GET /labels of a missing object = %d %s; want 404 not_found without \"key\"", r.status, r.raw)
		}
		if got := rekogRequests(t, s.rekogLogs); got != calls+1 {
			t.Errorf("GET /labels of a missing object: rekog served %d requests; want 1 (no retry on 404)", got-calls)
		}
	}
	s.checkUploadOnlyPuts(t)
	// The request id reached rekog and every log line of that request in both services.
	for name, logs := range map[string]*testutil.SyncBuffer{"upload": s.uploadLogs, "rekog": s.rekogLogs} {
		n := 0
		for _, l := range logs.JSONLines(t) {
			if l["request_id"] == "e2e-png" {
				n++
			}
			if l["msg"] == "request" && l["request_id"] == nil {
				t.Errorf("%s: request log line without request_id: %v", name, l)
			}
		}
		if n < 2 {
			t.Errorf("%s: %d log lines with request_id e2e-png; want the handler's and the access line", name, n)
		}
	}
}

// rekogRequests counts rekog's access log lines for POST /labels.
func rekogRequests(t *testing.T, logs *testutil.SyncBuffer) int {
	t.Helper()
	n := 0
	for _, l := range logs.JSONLines(t) {
		if l["msg"] == "request" && l["path"] == "/labels" {
			n++
		}
	}
	return n
}

// TestServeWithAWSCABundle: AWS_CA_BUNDLE is set in this environment (and
// may be in CI or a developer's shell), and the SDK's config loader reads it
// from the process environment whatever getenv says. Both services must
// start and serve with it set, trusting the bundle for their AWS calls: here
// localaws speaks HTTPS with a certificate that only the bundle vouches for.
// (LoadDefaultConfig fails with "unable to add custom RootCAs HTTPClient" if
// given an HTTP client that is not an *awshttp.BuildableClient.)
func TestServeWithAWSCABundle(t *testing.T) {
	var certPEM []byte
	newTLS := func(h http.Handler) *httptest.Server {
		srv := httptest.NewUnstartedServer(h)
		srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the control's refused handshakes
		srv.StartTLS()
		certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
		return srv
	}
	bundle := filepath.Join(t.TempDir(), "ca-bundle.pem")
	// Every httptest TLS server uses the same certificate; write it before
	// the services load their config.
	probe := newTLS(http.NotFoundHandler())
	probe.Close()
	if err := os.WriteFile(bundle, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	t.Run("bundle trusted", func(t *testing.T) {
		t.Setenv("AWS_CA_BUNDLE", bundle)
		s := startSystemWith(t, newTLS)
		if !strings.HasPrefix(s.awsURL, "https://") {
			t.Fatalf("localaws at %s; want https", s.awsURL)
		}
		data := pngBytes(t, 30, 30, 4242)
		r := s.post(t, "", data, nil)
		if r.status != 200 || r.ok.Key != keyOf(data, "png") || len(r.ok.Labels) == 0 {
			t.Fatalf("POST /upload over TLS with AWS_CA_BUNDLE = %d %s; want 200 with labels", r.status, r.raw)
		}
		if r := s.get(t, "/labels/"+keyOf(data, "png")); r.status != 200 {
			t.Errorf("GET /labels over TLS with AWS_CA_BUNDLE = %d %s; want 200", r.status, r.raw)
		}
		s.checkUploadOnlyPuts(t)
	})

	// Control: without the bundle the same certificate is not trusted, so
	// the test above passes because the bundle is used, not by accident.
	t.Run("bundle unset", func(t *testing.T) {
		t.Setenv("AWS_CA_BUNDLE", "")
		s := startSystemWith(t, newTLS)
		r := s.post(t, "", pngBytes(t, 30, 30, 4243), nil)
		if r.status != 502 || r.err.Error.Code != api.CodeStoreFailed {
			t.Errorf("POST /upload to an untrusted TLS endpoint = %d %s; want 502 store_failed", r.status, r.raw)
		}
	})
}

func TestServeConcurrentUploads(t *testing.T) {
	s := startSystem(t)
	const n = 50
	datas := make([][]byte, n)
	for i := range n {
		if i%2 == 0 {
			datas[i] = pngBytes(t, 40+i, 30, uint64(1000+i))
		} else {
			datas[i] = jpegBytes(t, 40+i, 30, uint64(1000+i))
		}
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.post(t, "", datas[i], nil)
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, r := range results {
		if r.status != 200 {
			t.Errorf("upload %d = %d %s", i, r.status, r.raw)
			continue
		}
		if seen[r.ok.Key] {
			t.Errorf("upload %d: key %s given twice", i, r.ok.Key)
		}
		seen[r.ok.Key] = true
		if got, _ := s.object(t, r.ok.Key); !bytes.Equal(got, datas[i]) {
			t.Errorf("upload %d: stored bytes differ from the upload", i)
		}
	}
	if c := s.countObjects(t); c != n {
		t.Errorf("%d objects in the bucket; want %d", c, n)
	}
}

func TestServeFaults(t *testing.T) {
	s := startSystem(t)
	data := pngBytes(t, 50, 50, 77)
	key := keyOf(data, "png")

	// S3 failing: 502, no key, nothing stored.
	s.aws.SetFault(localaws.Fault{Service: "s3", Kind: localaws.FaultServerError, Status: 500})
	r := s.post(t, "", data, nil)
	s.aws.ClearFaults()
	if r.status != 502 || r.err.Error.Code != api.CodeStoreFailed || r.err.Key != "" {
		t.Errorf("S3 failing: POST /upload = %d %s; want 502 store_failed without key", r.status, r.raw)
	}
	if c := s.countObjects(t); c != 0 {
		t.Errorf("S3 failing: %d objects stored; want 0", c)
	}

	// Rekognition throttling (after the SDK's retries): 503 with the key.
	s.aws.SetFault(localaws.Fault{Service: "rekognition", Kind: localaws.FaultThrottle})
	r = s.post(t, "", data, nil)
	s.aws.ClearFaults()
	if r.status != 503 || r.err.Error.Code != api.CodeUnavailable || r.err.Key != key {
		t.Errorf("throttled: POST /upload = %d %s; want 503 with key", r.status, r.raw)
	}

	// Rekognition failing: rekog answers 502, upload retries once, then 502 with the key.
	s.aws.SetFault(localaws.Fault{Service: "rekognition", Kind: localaws.FaultServerError, Status: 500})
	r = s.post(t, "", data, nil)
	s.aws.ClearFaults()
	if r.status != 502 || r.err.Error.Code != api.CodeUpstream || r.err.Key != key {
		t.Errorf("Rekognition failing: POST /upload = %d %s; want 502 with key", r.status, r.raw)
	}
	retried := false
	for _, l := range s.uploadLogs.JSONLines(t) {
		if l["msg"] == "rekog call failed, retrying" && l["request_id"] == r.header.Get("X-Request-Id") {
			retried = true
		}
	}
	if !retried {
		t.Errorf("Rekognition failing: no retry logged for request %s", r.header.Get("X-Request-Id"))
	}

	// Recovered: the stored image labels fine by key.
	if r := s.get(t, "/labels/"+key); r.status != 200 {
		t.Errorf("after recovery: GET /labels/%s = %d %s", key, r.status, r.raw)
	}

	s.checkUploadOnlyPuts(t)

	// rekog down: a second upload pointed at a closed port answers 503 with the key.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()
	env := map[string]string{}
	for k, v := range s.env {
		env[k] = v
	}
	env["REKOG_URL"] = closed
	down := serveOn(t, Serve, env, io.Discard)
	body, ct := form(t, "file", "x", data)
	req, _ := http.NewRequest("POST", down+"/upload", body)
	req.Header.Set("Content-Type", ct)
	r = send(t, req)
	if r.status != 503 || r.err.Error.Code != api.CodeUnavailable || r.err.Key != key {
		t.Errorf("rekog down: POST /upload = %d %s; want 503 with key", r.status, r.raw)
	}
}

// TestServeBodyLimits sends oversize bodies over a real connection.
func TestServeBodyLimits(t *testing.T) {
	s := startSystem(t)
	big := append(pngBytes(t, 16, 16, 1), make([]byte, DefaultMaxUploadBytes)...)
	body, ct := form(t, "file", "x", big)

	// Chunked: no Content-Length at all, the real count trips.
	req, _ := http.NewRequest("POST", s.uploadURL+"/upload", io.MultiReader(body))
	req.Header.Set("Content-Type", ct)
	req.ContentLength = -1
	if r := send(t, req); r.status != 413 || r.err.Error.Code != api.CodeTooLarge ||
		r.err.Error.Message != "upload is larger than 10 MiB" {
		t.Errorf("chunked oversize body = %d %s; want 413 saying \"upload is larger than 10 MiB\"", r.status, r.raw)
	}

	// Declared too large: refused before reading.
	body, ct = form(t, "file", "x", big)
	req, _ = http.NewRequest("POST", s.uploadURL+"/upload", body)
	req.Header.Set("Content-Type", ct)
	if r := send(t, req); r.status != 413 {
		t.Errorf("declared oversize body = %d %s; want 413", r.status, r.raw)
	}

	// Content-Length claiming less than sent: only the declared bytes are
	// read, so the multipart body is cut short: 400 and nothing stored.
	body, ct = form(t, "file", "x", big)
	req, _ = http.NewRequest("POST", s.uploadURL+"/upload", body)
	req.Header.Set("Content-Type", ct)
	req.ContentLength = 5000
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("lying Content-Length = %d %s; want 400", resp.StatusCode, raw)
		}
	}
	if c := s.countObjects(t); c != 0 {
		t.Errorf("%d objects stored after refused uploads; want 0", c)
	}
}

// TestServeDrainsOnCancel: an upload in flight when shutdown starts
// completes, new connections are refused, Serve returns nil.
func TestServeDrainsOnCancel(t *testing.T) {
	fake, _ := localaws.New(localaws.Options{Buckets: []string{"images"}})
	awsSrv := httptest.NewServer(fake)
	defer awsSrv.Close()
	inRekog := make(chan struct{}, 1)
	slowRekog := newFakeRekog(t, func(_ int, w http.ResponseWriter) {
		inRekog <- struct{}{}
		time.Sleep(700 * time.Millisecond)
		okLabels(w)
	})
	env := awsEnv(awsSrv.URL)
	env["REKOG_URL"] = slowRekog.URL
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, getenvOf(env), io.Discard) }()
	waitHealthy(t, "http://"+addr, done)

	data := pngBytes(t, 10, 10, 5)
	inflight := make(chan result, 1)
	go func() {
		body, ct := form(t, "file", "x", data)
		req, _ := http.NewRequest("POST", "http://"+addr+"/upload", body)
		req.Header.Set("Content-Type", ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			inflight <- result{status: -1, raw: err.Error()}
			return
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		inflight <- result{status: resp.StatusCode, raw: string(raw)}
	}()
	<-inRekog
	cancel()
	time.Sleep(50 * time.Millisecond)
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Errorf("new connection accepted during shutdown")
	}
	r := <-inflight
	if r.status != 200 || !strings.Contains(r.raw, keyOf(data, "png")) {
		t.Errorf("in-flight upload during shutdown = %d %s; want 200", r.status, r.raw)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve = %v; want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the drain")
	}
}

// TestRunSIGTERM runs upload.Run as main does, probes it with -healthcheck,
// then sends the process SIGTERM: Run returns nil.
func TestRunSIGTERM(t *testing.T) {
	fake, _ := localaws.New(localaws.Options{Buckets: []string{"images"}})
	awsSrv := httptest.NewServer(fake)
	defer awsSrv.Close()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	env := awsEnv(awsSrv.URL)
	env["REKOG_URL"] = "http://127.0.0.1:1"
	env["PORT"] = port
	done := make(chan error, 1)
	var stdout testutil.SyncBuffer
	go func() { done <- Run(context.Background(), nil, getenvOf(env), &stdout, io.Discard) }()
	waitHealthy(t, "http://127.0.0.1:"+port, done)

	if err := Run(context.Background(), []string{"-healthcheck"}, getenvOf(env), io.Discard, io.Discard); err != nil {
		t.Errorf("Run(-healthcheck) on a healthy server = %v", err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after SIGTERM = %v; want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after SIGTERM")
	}
	if err := Run(context.Background(), []string{"-healthcheck"}, getenvOf(env), io.Discard, io.Discard); err == nil {
		t.Errorf("Run(-healthcheck) after shutdown = nil; want error")
	}
	if !strings.Contains(stdout.String(), `"msg":"stopped"`) {
		t.Errorf("no 'stopped' log line on stdout")
	}
}

func TestServeConfigErrors(t *testing.T) {
	for _, m := range []map[string]string{
		{"BUCKET": "b", "REKOG_URL": "http://x", "LOG_LEVEL": "chatty", "AWS_REGION": "us-east-1"},
		{"REKOG_URL": "http://x", "AWS_REGION": "us-east-1"},
		{"BUCKET": "b", "REKOG_URL": "http://x"},
	} {
		err := Serve(context.Background(), nil, getenvOf(m), io.Discard)
		if err == nil || errors.Is(err, context.Canceled) {
			t.Errorf("Serve(%v) = %v; want a configuration error", m, err)
		}
	}
}
