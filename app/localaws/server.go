// Package localaws is a local stand-in for the two AWS APIs the imagelabel
// services call: S3 (object storage, through github.com/johannesboyne/gofakes3)
// and Rekognition DetectLabels (AWS JSON 1.1). Both are answered by one
// http.Handler on one port, so the services reach it with the SDK's standard
// AWS_ENDPOINT_URL and need no local-only code.
//
// The labels DetectLabels returns are NOT Rekognition's model: they are
// computed deterministically from the pixels (colours, brightness, simple
// scene cues, orientation) so tests and local runs get stable, plausible
// answers. See docs/localaws.md.
package localaws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"golang.org/x/sync/semaphore"
)

// HealthPath is the health endpoint. "_localaws" is not a valid S3 bucket
// name (bucket names may only contain a-z, 0-9, '.', '-'), so the path can
// never shadow a bucket.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
const HealthPath = "/_localaws/healthz"

// MaxObjectBytes bounds the body of one S3 PUT (or multipart part). Real S3
// accepts 5 GiB per PUT; a local stand-in for an image service has no use
// for that and must not let one request exhaust memory, since bodies are
// buffered to decode aws-chunked encoding and verify checksums.
const MaxObjectBytes = 64 << 20

// maxJSONBytes bounds a Rekognition request body. DetectLabels accepts at
// most 5 MB of raw image bytes, which base64 inflates by 4/3; 8 MiB leaves
// room for the JSON around it.
// https://docs.aws.amazon.com/rekognition/latest/dg/limits.html
const maxJSONBytes = 8 << 20

// localaws's memory is bounded as a whole (docs/localaws.md, "Memory and work"):
// every request holds a slot of maxInFlight; every byte of a request body or
// object it buffers is admitted against InputBudget before it is read; every
// decoded image against decodeBudget before it is decoded; the binary holds
// at most MaxConns connections with headers of at most MaxHeaderBytes.
// Objects stored in memory (no Options.Dir) and the parts of unfinished
// multipart uploads (gofakes3 keeps them in memory) are data, not requests,
// and come on top.
const (
	// InputBudget bounds the request bytes buffered at once across all
	// requests: object-write bodies (up to MaxObjectBytes each, buffered to
	// decode aws-chunked framing and verify checksums), DetectLabels bodies
	// and the S3 objects DetectLabels reads. Requests wait for their share
	// (until their context ends); 128 MiB holds one largest object write or
	// eight 15 MB images at once.
	InputBudget = 128 << 20
	// maxInFlight bounds the requests being served at once; beyond it
	// requests are answered at once with S3 503 SlowDown or Rekognition
	// ThrottlingException, which the SDKs retry. Each waiting request holds
	// a goroutine and its connection's buffers, a few tens of KiB.
	maxInFlight = 256
	// MaxConns bounds the connections the localaws binary keeps open; more
	// wait in the kernel's accept queue, costing the process nothing.
	MaxConns = 512
	// MaxHeaderBytes bounds one request's header block. S3 limits a PUT's
	// headers to 8 KB and user metadata to 2 KB; the SDKs send far less.
	// https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingMetadata.html
	MaxHeaderBytes = 64 << 10
)

// Options configures a Server.
type Options struct {
	// Dir is where objects are stored. "" keeps them in memory; otherwise each
	// object is a plain file Dir/<bucket>/<key> and its metadata (Content-Type,
	// user metadata, checksums) lives under Dir/.localaws/, so it survives a
	// restart.
	Dir string
	// Buckets are created at start; existing buckets are kept (idempotent).
	Buckets []string
	// Logger receives one line per request and S3 internals; nil discards.
	Logger *slog.Logger
	// AllowedHosts are the host names, besides loopback (localhost,
	// 127.0.0.0/8, ::1), that requests may name in their Host header: the
	// names other containers reach localaws by. Any other Host is refused,
	// against DNS rebinding.
	AllowedHosts []string
}

// Server answers S3 and Rekognition DetectLabels on one handler. It is safe
// for concurrent use. Create it with New.
type Server struct {
	log     *slog.Logger
	s3      http.Handler
	backend gofakes3.Backend
	dirMode bool
	// allowedHosts are Options.AllowedHosts.
	allowedHosts []string

	// input admits buffered request bytes (InputBudget); slots holds one
	// token per request being served (maxInFlight).
	input *semaphore.Weighted
	slots chan struct{}

	mu     sync.Mutex
	faults []*Fault
}

var _ http.Handler = (*Server)(nil)

// New returns a Server storing objects as Options.Dir says, with
// Options.Buckets created. It fails when Dir cannot be created or used, or a
// bucket name is invalid.
func New(opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	backend, err := newBackend(opts.Dir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		log:     logger,
		backend: backend,
		dirMode: opts.Dir != "",
		input:   semaphore.NewWeighted(InputBudget),
		slots:   make(chan struct{}, maxInFlight),

		allowedHosts: opts.AllowedHosts,
	}
	fake := gofakes3.New(backend,
		gofakes3.WithLogger(slogS3Logger{logger}),
		// Clients sign with their own clock; a local run has no reason to
		// refuse a skewed laptop clock.
		gofakes3.WithTimeSkewLimit(0),
		// Path-style only: virtual-host routing would misread "localhost"
		// and container DNS names as bucket names.
		gofakes3.WithHostBucket(false),
	)
	s.s3 = fake.Server()
	for _, raw := range opts.Buckets {
		name := strings.TrimSpace(raw)
		if name == "" {
			continue
		}
		if err := s.CreateBucket(name); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// CreateBucket creates bucket name unless it exists. It fails for names S3
// would refuse.
func (s *Server) CreateBucket(name string) error {
	if err := gofakes3.ValidateBucketName(name); err != nil {
		return fmt.Errorf("create bucket %q: %w", name, err)
	}
	exists, err := s.backend.BucketExists(name)
	if err != nil {
		return fmt.Errorf("create bucket %q: %w", name, err)
	}
	if exists {
		return nil
	}
	if err := s.backend.CreateBucket(name); err != nil && !gofakes3.HasErrorCode(err, gofakes3.ErrBucketAlreadyExists) {
		return fmt.Errorf("create bucket %q: %w", name, err)
	}
	return nil
}

// ServeHTTP routes a request: the health endpoint, Rekognition when the
// X-Amz-Target header names RekognitionService, S3 (path-style) otherwise.
// Requests from browser pages and for foreign Host names are refused first
// (see origin.go); injected faults apply before the service sees the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	cors := &noCORSWriter{ResponseWriter: w}
	// Runs last, after the request log and the panic recovery have written
	// what they write: a response nobody wrote is still stripped.
	defer cors.finish()
	rec := &statusRecorder{ResponseWriter: cors, status: http.StatusOK}
	service := "s3"
	target := r.Header.Get("X-Amz-Target")
	if strings.HasPrefix(target, rekognitionTargetPrefix) {
		service = "rekognition"
	}
	if r.URL.Path == HealthPath || strings.HasPrefix(r.URL.Path, "/_localaws/") {
		service = "localaws"
	}
	defer func() {
		lvl := slog.LevelInfo
		if service == "localaws" {
			lvl = slog.LevelDebug // health probes every few seconds are noise
		}
		s.log.LogAttrs(r.Context(), lvl, "request",
			slog.String("service", service),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path),
			slog.String("target", target),
			slog.Int("status", rec.status),
			// duration_ms, as the services log it: one convention.
			slog.Int64("duration_ms", time.Since(start).Milliseconds()),
		)
	}()

	defer func() {
		// A panic in gofakes3 or here answers 500 in the service's error
		// shape instead of dropping the connection.
		if v := recover(); v != nil {
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v) // net/http's way to abort a response silently
			}
			s.log.Error("panic serving request", "service", service, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if rec.wroteHeader {
				return
			}
			if service == "rekognition" {
				writeRekError(rec, http.StatusInternalServerError, "InternalServerError", "internal error")
			} else {
				writeS3Error(rec, r, http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.", r.URL.Path)
			}
		}
	}()

	if s.refuseForeign(rec, r, service) {
		return
	}
	if service == "localaws" {
		s.serveLocal(rec, r)
		return
	}
	select {
	case s.slots <- struct{}{}:
		defer func() { <-s.slots }()
	default:
		s.refuseBusy(rec, r, service)
		return
	}
	if s.applyFault(rec, r, service) {
		return
	}
	if service == "rekognition" {
		s.serveRekognition(rec, r, strings.TrimPrefix(target, rekognitionTargetPrefix))
		return
	}
	s.serveS3(rec, r)
}

func (s *Server) serveLocal(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != HealthPath {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, `{"status":"ok"}`+"\n")
	}
}

// refuseBusy answers a request beyond maxInFlight the way AWS answers a
// caller over its rate, so the SDKs back off and retry.
func (s *Server) refuseBusy(w http.ResponseWriter, r *http.Request, service string) {
	s.log.Warn("busy: request refused", "service", service, "in_flight", maxInFlight)
	w.Header().Set("Retry-After", "1")
	if service == "rekognition" {
		writeRekError(w, http.StatusBadRequest, "ThrottlingException", "localaws is serving its maximum of requests; retry")
		return
	}
	writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.", r.URL.Path)
}

// admit waits until n bytes fit in s.input (or ctx ends) and returns the
// function that gives them back.
func (s *Server) admit(ctx context.Context, n int64) (func(), error) {
	n = min(n, InputBudget) // a larger request waits for the whole budget
	if err := s.input.Acquire(ctx, n); err != nil {
		return nil, fmt.Errorf("wait for memory: %w", err)
	}
	return func() { s.input.Release(n) }, nil
}

// statusRecorder remembers the status for the request log line.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wroteHeader {
		r.status = code
		r.wroteHeader = true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	r.wroteHeader = true
	return r.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// slogS3Logger adapts gofakes3's logger to slog; its per-request INFO chatter
// goes to debug.
type slogS3Logger struct{ l *slog.Logger }

func (a slogS3Logger) Print(level gofakes3.LogLevel, v ...any) {
	lvl := slog.LevelDebug
	switch level {
	case gofakes3.LogErr:
		lvl = slog.LevelError
	case gofakes3.LogWarn:
		lvl = slog.LevelWarn
	}
	a.l.Log(context.Background(), lvl, "gofakes3: "+strings.TrimSpace(fmt.Sprintln(v...)))
}

// errBodyTooLarge marks a body over its bound.
var errBodyTooLarge = errors.New("request body too large")
