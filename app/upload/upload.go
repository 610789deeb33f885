// Package upload is the public image-labeling service. POST /upload takes a
// JPEG or PNG (judged by its content), stores it in S3 under
// uploads/<sha256>.<jpg|png> and answers the labels the rekog service finds;
// GET /labels/{key} labels an image already stored.
package upload

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"time"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/awsconf"
	"imagelabel/app/internal/httpx"
	"imagelabel/app/upload/memlimit"
)

// DefaultPort is upload's port when PORT is unset.
const DefaultPort = "8080"

// DefaultMaxUploadBytes is the default body limit: API Gateway HTTP APIs
// refuse payloads over 10 MB anyway.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
const DefaultMaxUploadBytes = 10 << 20

// Deadlines of one upload. The store and the labeling add up to at most 25 s, under the API's 29 s integration timeout
// (API Gateway's maximum is 30 s), so the client gets our 502/503/504 with the
// key instead of API Gateway's bare 503/504. The body itself crosses the VPC
// link from API Gateway, which has already buffered it, in well under 1 s.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
const (
	storeTimeout = 5 * time.Second
	labelTimeout = 20 * time.Second
	// retryBackoff is the pause before the one retry of a call to rekog.
	retryBackoff = 250 * time.Millisecond
)

// Admission caps: everything upload holds besides the image chunks must fit
// memlimit.OverheadBytes (64 MiB, in every task size), so the caps are
// constants. The arithmetic, from upload run as its own process with the
// default task's settings (TestBoundUnderHostileInput): about 12 MiB when
// idle (runtime, SDK, binary), plus at most maxConns connections of at most
// ~125 KiB each, the garbage collector's slack included (the costliest
// measured: a connection parked with headers at the limit, 256 of them
// peaking at 44 MiB; 128 uploads waiting for a stalled labeler, and 128
// more refused, peaked at 40 MiB), is 12 + 256 x 125 KiB = 43 MiB, under
// 64 with room for the slack's variance. Uploads and label reads need a
// connection each; their own caps keep either kind from taking every slot.
const (
	// maxConns caps connections open at once; more wait in the listen
	// backlog (httpx.Limits.MaxConns).
	maxConns = 256
	// maxHeaderBytes bounds a request's line and headers: net/http reads up
	// to 4 KiB more (12 KiB in all), then answers 431. API Gateway sends at
	// most 10240 bytes of request line and header values (HTTP API quotas,
	// above), and a few hundred bytes of its own headers.
	maxHeaderBytes = 8 << 10
	// maxInFlight caps uploads in progress (503 beyond).
	maxInFlight = 128
	// maxLabelReads caps GET /labels/{key} in progress (503 beyond): a read
	// waits up to 20 s while rekog is slow.
	maxLabelReads = 128
)

// Budget is the longest upload's own deadlines let a request run once its
// body has arrived (store, labeling with its retry). The deploy keeps the
// API's integration timeout above it (tested there). No wait for memory
// counts here: an upload that does not fit is answered 503 at once.
const Budget = storeTimeout + labelTimeout

// limits: ReadTimeout is the body's overall bound (defaultPace.total, which
// the handler also enforces, with a stall limit and a minimum rate);
// WriteTimeout runs from the end of the headers, so it covers the body plus
// both deadlines.
var limits = httpx.Limits{
	ReadHeaderTimeout: 10 * time.Second,
	ReadTimeout:       defaultPace.total,
	WriteTimeout:      defaultPace.total + storeTimeout + labelTimeout + 5*time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    maxHeaderBytes,
	MaxConns:          maxConns,
	Drain:             httpx.DrainTimeout,
}

// config is everything upload takes from the environment, plus the internal
// deadlines (tests shorten them).
type config struct {
	bucket       string
	rekogURL     *url.URL
	maxUpload    int64
	defaults     api.Options
	storeTimeout time.Duration
	labelTimeout time.Duration
	retryBackoff time.Duration
	bufferBytes  int64
	maxInFlight  int
	// maxLabelReads caps label reads in progress.
	maxLabelReads int
	pace          pace
	apiAuth       string // API_AUTH: "" or "iam" (the page's notice; API Gateway enforces it)
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{
		bucket:        getenv("BUCKET"),
		maxUpload:     DefaultMaxUploadBytes,
		storeTimeout:  storeTimeout,
		labelTimeout:  labelTimeout,
		retryBackoff:  retryBackoff,
		bufferBytes:   memlimit.DefaultBufferBytes,
		maxInFlight:   maxInFlight,
		maxLabelReads: maxLabelReads,
		pace:          defaultPace,
	}
	if c.bucket == "" {
		return c, fmt.Errorf("upload: BUCKET is required")
	}
	raw := getenv("REKOG_URL")
	if raw == "" {
		return c, fmt.Errorf("upload: REKOG_URL is required (e.g. http://rekog.imagelabel.internal:9090)")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("upload: REKOG_URL=%q: want an http(s) base URL", raw)
	}
	c.rekogURL = u
	if v := getenv("MAX_UPLOAD_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1024 || n > 1<<30 {
			return c, fmt.Errorf("upload: MAX_UPLOAD_BYTES=%q: want an integer from 1024 to %d", v, 1<<30)
		}
		c.maxUpload = n
	}
	// At least one upload of the largest size must fit the budget.
	c.bufferBytes = max(c.bufferBytes, c.maxUpload)
	if v := getenv("UPLOAD_BUFFER_BYTES"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < c.maxUpload || n > 1<<40 {
			return c, fmt.Errorf("upload: UPLOAD_BUFFER_BYTES=%q: want an integer from MAX_UPLOAD_BYTES (%d) to %d", v, c.maxUpload, int64(1)<<40)
		}
		c.bufferBytes = n
	}
	switch c.apiAuth = getenv("API_AUTH"); c.apiAuth {
	case "", "none":
		c.apiAuth = ""
	case "iam":
	default:
		return c, fmt.Errorf("upload: API_AUTH=%q: want iam, none or unset", c.apiAuth)
	}
	d, err := api.DefaultOptions(getenv)
	if err != nil {
		return c, fmt.Errorf("upload: %w", err)
	}
	c.defaults = d
	return c, nil
}

// Run is upload's main: flags (-healthcheck), SIGINT/SIGTERM, listening on
// ":"+PORT (default 8080), then Serve. Logs go to stdout as JSON lines.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return httpx.Run(ctx, "upload", DefaultPort, Serve, args, getenv, stdout, stderr)
}

// Serve reads its configuration from getenv (BUCKET, AWS_REGION, REKOG_URL,
// MAX_UPLOAD_BYTES, LOG_LEVEL, MAX_LABELS, MIN_CONFIDENCE, AWS credentials
// and endpoint URLs), serves upload's API on ln and shuts down gracefully
// when ctx is cancelled, returning nil once in-flight requests finished
// (within httpx.DrainTimeout). It returns an error for invalid configuration
// or when serving fails.
func Serve(ctx context.Context, ln net.Listener, getenv func(string) string, logw io.Writer) error {
	log, err := httpx.NewLogger(logw, getenv("LOG_LEVEL"), "upload")
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	awsCfg, err := awsconf.Load(ctx, getenv)
	if err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	store := awsconf.NewS3(awsCfg, getenv)
	log.Info("starting", "bucket", cfg.bucket, "region", awsCfg.Region, "rekog_url", cfg.rekogURL.String(),
		"max_upload_bytes", cfg.maxUpload, "upload_buffer_bytes", cfg.bufferBytes, "max_labels", cfg.defaults.MaxLabels,
		"min_confidence", cfg.defaults.MinConfidence, "endpoint", awsconf.Endpoint(getenv, "S3"))
	return httpx.Serve(ctx, ln, newHandler(cfg, newBudget(cfg.bufferBytes), store, newRekogClient(cfg), log), limits, log)
}
