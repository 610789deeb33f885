// Package rekog is the private labeling service: POST /labels takes the key
// of an image already stored in the service's bucket and answers the labels
// Amazon Rekognition DetectLabels finds in it. Rekognition reads the object
// from S3 itself; this service never downloads the image.
package rekog

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/awsconf"
	"imagelabel/app/internal/httpx"
)

// DefaultPort is rekog's port when PORT is unset.
const DefaultPort = "9090"

// limits: the body is a small JSON object, and one DetectLabels call is
// bounded by detectTimeout, so short read and write timeouts suffice.
var limits = httpx.Limits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      detectTimeout + 15*time.Second,
	IdleTimeout:       120 * time.Second,
	MaxHeaderBytes:    64 << 10,
	Drain:             httpx.DrainTimeout,
}

// detectTimeout bounds one DetectLabels call including the SDK's retries. It
// is under upload's deadline for the whole call to rekog (20 s), so upload
// gets a clear 504 from rekog rather than timing out itself.
const detectTimeout = 15 * time.Second

// maxBody bounds POST /labels bodies: a key and at most 2x100 filter names of
// at most 50 characters fit in far less.
const maxBody = 64 << 10

// config is everything rekog takes from the environment.
type config struct {
	bucket        string
	defaults      api.Options
	detectTimeout time.Duration
	// endpoint is the Rekognition endpoint the client uses when set
	// (AWS_ENDPOINT_URL_REKOGNITION or AWS_ENDPOINT_URL), "" for the SDK's
	// default; GET /getInfo derives its labeler from it.
	endpoint string
}

func loadConfig(getenv func(string) string) (config, error) {
	c := config{bucket: getenv("BUCKET"), detectTimeout: detectTimeout}
	if c.bucket == "" {
		return c, fmt.Errorf("rekog: BUCKET is required")
	}
	d, err := api.DefaultOptions(getenv)
	if err != nil {
		return c, fmt.Errorf("rekog: %w", err)
	}
	c.defaults = d
	return c, nil
}

// Run is rekog's main: flags (-healthcheck), SIGINT/SIGTERM, listening on
// ":"+PORT (default 9090), then Serve. Logs go to stdout as JSON lines.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return httpx.Run(ctx, "rekog", DefaultPort, Serve, args, getenv, stdout, stderr)
}

// Serve reads its configuration from getenv (BUCKET, AWS_REGION, LOG_LEVEL,
// MAX_LABELS, MIN_CONFIDENCE, AWS credentials and endpoint URLs), serves
// rekog's API on ln and shuts down gracefully when ctx is cancelled,
// returning nil once in-flight requests finished (within httpx.DrainTimeout).
// It returns an error for invalid configuration or when serving fails.
func Serve(ctx context.Context, ln net.Listener, getenv func(string) string, logw io.Writer) error {
	log, err := httpx.NewLogger(logw, getenv("LOG_LEVEL"), "rekog")
	if err != nil {
		return fmt.Errorf("rekog: %w", err)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	awsCfg, err := awsconf.Load(ctx, getenv)
	if err != nil {
		return fmt.Errorf("rekog: %w", err)
	}
	client := awsconf.NewRekognition(awsCfg, getenv)
	cfg.endpoint = aws.ToString(client.Options().BaseEndpoint)
	log.Info("starting", "bucket", cfg.bucket, "region", awsCfg.Region,
		"max_labels", cfg.defaults.MaxLabels, "min_confidence", cfg.defaults.MinConfidence,
		"endpoint", cfg.endpoint)
	return httpx.Serve(ctx, ln, newHandler(cfg, client, log), limits, log)
}
