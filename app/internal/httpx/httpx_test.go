package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"imagelabel/app/internal/api"
	"imagelabel/internal/testutil"
)

func testLogger(t *testing.T, w io.Writer) *slog.Logger {
	t.Helper()
	l, err := NewLogger(w, "debug", "test")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func decodeError(t *testing.T, body io.Reader) api.ErrorBody {
	t.Helper()
	var e api.ErrorBody
	if err := json.NewDecoder(body).Decode(&e); err != nil {
		t.Fatalf("error body is not JSON: %v", err)
	}
	return e
}

func testMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", HandleHealthz())
	mux.Handle("GET /getInfo", HandleInfo(BuildInfo("test")))
	mux.HandleFunc("GET /panic", func(http.ResponseWriter, *http.Request) { panic("secret internal detail") })
	mux.HandleFunc("GET /panic-late", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		panic("late")
	})
	mux.HandleFunc("GET /log", func(w http.ResponseWriter, r *http.Request) {
		Logger(r.Context()).Info("handler line")
		WriteJSON(w, r, http.StatusOK, map[string]string{"id": RequestID(r.Context())})
	})
	mux.HandleFunc("GET /assets/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("asset")) })
	return mux
}

func TestRequestID(t *testing.T) {
	var logs testutil.SyncBuffer
	h := Wrap(testLogger(t, &logs), testMux())

	// A well-formed client id is kept, echoed and in every line of the request.
	req := httptest.NewRequest("GET", "/log", nil)
	req.Header.Set(HeaderRequestID, "client-id-123")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got := rec.Header().Get(HeaderRequestID); got != "client-id-123" {
		t.Errorf("response X-Request-Id = %q; want client-id-123", got)
	}
	if !strings.Contains(rec.Body.String(), `"client-id-123"`) {
		t.Errorf("handler saw request id %s; want client-id-123", rec.Body)
	}
	lines := logs.JSONLines(t)
	if len(lines) != 2 {
		t.Fatalf("got %d log lines; want 2 (handler + access): %v", len(lines), lines)
	}
	for _, l := range lines {
		if l["request_id"] != "client-id-123" || l["service"] != "test" {
			t.Errorf("log line %v lacks request_id=client-id-123 / service", l)
		}
	}
	if l := lines[1]; l["msg"] != "request" || l["status"] != float64(200) || l["path"] != "/log" {
		t.Errorf("access log line = %v", l)
	}

	// API Gateway HTTP API request ids ($context.requestId, passed by the
	// integration) are base64-like and must survive as they are.
	for _, id := range []string{"JKJaXmPLvHcESHA=", "a+b/c=="} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		req.Header.Set(HeaderRequestID, id)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if got := rec.Header().Get(HeaderRequestID); got != id {
			t.Errorf("X-Request-Id %q -> %q; want it kept", id, got)
		}
	}

	// Absent or unsafe ids are replaced by a generated one.
	for _, id := range []string{"", "has space", "quote\"", "semi;colon", "new\nline", strings.Repeat("a", 129)} {
		req := httptest.NewRequest("GET", "/healthz", nil)
		if id != "" {
			req.Header.Set(HeaderRequestID, id)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		got := rec.Header().Get(HeaderRequestID)
		if got == id || !validRequestID.MatchString(got) || len(got) != 32 {
			t.Errorf("X-Request-Id %q -> %q; want a generated 32-hex id", id, got)
		}
	}
}

func TestPanicBecomes500JSON(t *testing.T) {
	var logs testutil.SyncBuffer
	srv := httptest.NewServer(Wrap(testLogger(t, &logs), testMux()))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/panic")
	if err != nil {
		t.Fatalf("GET /panic: %v (connection dropped?)", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("GET /panic = %d %s; want 500 JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	e := decodeError(t, resp.Body)
	if e.Error.Code != api.CodeInternal || strings.Contains(e.Error.Message, "secret") {
		t.Errorf("GET /panic body = %+v; want internal without details", e)
	}
	var sawPanic bool
	for _, l := range logs.JSONLines(t) {
		if l["msg"] == "panic" && l["panic"] == "secret internal detail" && l["request_id"] != nil {
			sawPanic = true
		}
	}
	if !sawPanic {
		t.Errorf("panic not logged with its value and request_id")
	}
	// The server survives and keeps serving.
	resp2, err := http.Get(srv.URL + "/healthz")
	if err != nil || resp2.StatusCode != 200 {
		t.Fatalf("GET /healthz after panic = %v, %v", resp2, err)
	}
	resp2.Body.Close()

	// A panic after the headers went out cannot become a 500: the response is cut short.
	resp3, err := http.Get(srv.URL + "/panic-late")
	if err == nil {
		_, err = io.ReadAll(resp3.Body)
		resp3.Body.Close()
	}
	if err == nil {
		t.Errorf("GET /panic-late read a complete response; want it aborted")
	}
}

func TestMuxErrorsAreJSON(t *testing.T) {
	h := Wrap(testLogger(t, io.Discard), testMux())
	tests := []struct {
		method, path string
		status       int
		code         string
	}{
		{"GET", "/nope", 404, api.CodeNotFound},
		{"POST", "/healthz", 405, api.CodeMethodNotAllowed},
		{"DELETE", "/getInfo", 405, api.CodeMethodNotAllowed},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
		if rec.Code != tt.status || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%s %s = %d %q; want %d JSON", tt.method, tt.path, rec.Code, rec.Header().Get("Content-Type"), tt.status)
			continue
		}
		if e := decodeError(t, rec.Body); e.Error.Code != tt.code {
			t.Errorf("%s %s code = %q; want %q", tt.method, tt.path, e.Error.Code, tt.code)
		}
		if tt.status == 405 && !strings.Contains(rec.Header().Get("Allow"), "GET") {
			t.Errorf("%s %s Allow = %q; want GET listed", tt.method, tt.path, rec.Header().Get("Allow"))
		}
	}
	// The mux's redirects pass through untouched.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/assets", nil))
	if rec.Code/100 != 3 || rec.Header().Get("Location") != "/assets/" {
		t.Errorf("GET /assets = %d Location %q; want a redirect to /assets/", rec.Code, rec.Header().Get("Location"))
	}
}

func TestHealthzAndInfo(t *testing.T) {
	h := Wrap(testLogger(t, io.Discard), testMux())
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` || rec.Header().Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET /healthz = %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/getInfo", nil))
	var info api.Info
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil || info.Name != "test" || info.Version == "" || info.GoVersion == "" {
		t.Errorf("GET /getInfo = %d %s; want name, version, goVersion", rec.Code, rec.Body)
	}
}

// TestRetryAfterOn503: every 503 tells the client when to retry; other
// errors do not.
func TestRetryAfterOn503(t *testing.T) {
	for _, c := range []struct {
		code, want string
	}{{api.CodeUnavailable, RetryAfterSeconds}, {api.CodeUpstream, ""}, {api.CodeRequestTimeout, ""}} {
		rec := httptest.NewRecorder()
		WriteError(rec, httptest.NewRequest("GET", "/", nil), &api.Error{Code: c.code, Message: "m"})
		if got := rec.Header().Get("Retry-After"); got != c.want {
			t.Errorf("WriteError(%s): Retry-After %q; want %q", c.code, got, c.want)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	type body struct {
		Key string `json:"key"`
	}
	tests := []struct {
		in   string
		code string
	}{
		{`{"key":"a"}`, ""},
		{`{"key":"a"}` + "\n", ""},
		{``, api.CodeBadRequest},
		{`{"key":`, api.CodeBadRequest},
		{`{"key":"a","bucket":"other"}`, api.CodeBadRequest},
		{`{"key":"a"} {"key":"b"}`, api.CodeBadRequest},
		{`["key"]`, api.CodeBadRequest},
		{`{"key":"` + strings.Repeat("a", 200) + `"}`, api.CodeTooLarge},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/", strings.NewReader(tt.in))
		var b body
		err := DecodeJSON(rec, req, 100, &b)
		var e *api.Error
		switch {
		case tt.code == "" && err != nil:
			t.Errorf("DecodeJSON(%.40q) = %v; want nil", tt.in, err)
		case tt.code != "" && (!errors.As(err, &e) || e.Code != tt.code):
			t.Errorf("DecodeJSON(%.40q) = %v; want code %s", tt.in, err, tt.code)
		}
	}
}

func TestNewLogger(t *testing.T) {
	for _, lvl := range []string{"", "debug", "INFO", "warn", "error"} {
		if _, err := NewLogger(io.Discard, lvl, "x"); err != nil {
			t.Errorf("NewLogger(%q) = %v", lvl, err)
		}
	}
	if _, err := NewLogger(io.Discard, "verbose", "x"); err == nil {
		t.Errorf(`NewLogger("verbose") = nil error; want error`)
	}
	var buf bytes.Buffer
	l, _ := NewLogger(&buf, "warn", "x")
	l.Info("hidden")
	l.Warn("shown")
	if strings.Contains(buf.String(), "hidden") || !strings.Contains(buf.String(), "shown") {
		t.Errorf("LOG_LEVEL=warn wrote %q", buf.String())
	}
}

var testLimits = Limits{
	ReadHeaderTimeout: time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second,
	IdleTimeout: 5 * time.Second, MaxHeaderBytes: 8 << 10, Drain: 5 * time.Second,
}

// TestServeDrains: after cancel, an in-flight request completes, new
// connections are refused and Serve returns nil.
func TestServeDrains(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", HandleHealthz())
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-release
		WriteJSON(w, r, 200, map[string]string{"done": "yes"})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, ln, Wrap(testLogger(t, io.Discard), mux), testLimits, testLogger(t, io.Discard))
	}()

	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	cancel()
	// New connections are refused once shutdown started.
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("still accepting connections after cancel")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v before the in-flight request finished", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	r := <-slow
	if r.err != nil || r.status != 200 || !strings.Contains(r.body, "yes") {
		t.Errorf("in-flight request = %+v; want 200 completed", r)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v; want nil after a clean drain", err)
	}
}

func TestServeDrainBound(t *testing.T) {
	started := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /stuck", func(w http.ResponseWriter, r *http.Request) {
		close(started)
		<-r.Context().Done() // only a forced close ends this
	})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	lim := testLimits
	lim.Drain = 200 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, ln, mux, lim, testLogger(t, io.Discard)) }()
	go func() {
		if resp, err := http.Get("http://" + ln.Addr().String() + "/stuck"); err == nil {
			resp.Body.Close()
		}
	}()
	<-started
	start := time.Now()
	cancel()
	err := <-served
	if err == nil || time.Since(start) > 3*time.Second {
		t.Errorf("Serve with a stuck request = %v after %s; want an error after ~200ms", err, time.Since(start))
	}
}

func TestHealthcheck(t *testing.T) {
	ok := httptest.NewServer(Wrap(testLogger(t, io.Discard), testMux()))
	defer ok.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(ok.URL, "http://"))
	if err := Healthcheck(context.Background(), port); err != nil {
		t.Errorf("Healthcheck(healthy) = %v", err)
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(503) }))
	defer bad.Close()
	_, port, _ = net.SplitHostPort(strings.TrimPrefix(bad.URL, "http://"))
	if err := Healthcheck(context.Background(), port); err == nil {
		t.Errorf("Healthcheck(503) = nil; want error")
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	ln.Close()
	if err := Healthcheck(context.Background(), port); err == nil {
		t.Errorf("Healthcheck(closed port) = nil; want error")
	}
}

func TestRunFlagsAndHealthcheck(t *testing.T) {
	srv := httptest.NewServer(Wrap(testLogger(t, io.Discard), testMux()))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))
	env := func(k string) string {
		if k == "PORT" {
			return port
		}
		return ""
	}
	never := func(context.Context, net.Listener, func(string) string, io.Writer) error {
		t.Error("serve called in -healthcheck mode")
		return nil
	}
	if err := Run(context.Background(), "t", "1", never, []string{"-healthcheck"}, env, io.Discard, io.Discard); err != nil {
		t.Errorf("Run(-healthcheck) healthy = %v", err)
	}
	if err := Run(context.Background(), "t", "1", never, []string{"-bogus"}, env, io.Discard, io.Discard); err == nil {
		t.Errorf("Run(-bogus) = nil; want error")
	}
	if err := Run(context.Background(), "t", "1", never, []string{"extra"}, env, io.Discard, io.Discard); err == nil {
		t.Errorf("Run(extra) = nil; want error")
	}

	// Without -healthcheck Run listens on :PORT and hands the listener over.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	_, free, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	var gotAddr string
	serve := func(ctx context.Context, ln net.Listener, getenv func(string) string, _ io.Writer) error {
		gotAddr = ln.Addr().String()
		return ln.Close()
	}
	envFree := func(k string) string {
		if k == "PORT" {
			return free
		}
		return ""
	}
	if err := Run(context.Background(), "t", "1", serve, nil, envFree, io.Discard, io.Discard); err != nil {
		t.Errorf("Run() = %v", err)
	}
	if !strings.HasSuffix(gotAddr, ":"+free) {
		t.Errorf("Run listened on %q; want port %s", gotAddr, free)
	}
}
