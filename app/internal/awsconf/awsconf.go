// Package awsconf loads the AWS SDK configuration of the services from their
// getenv, not from the process environment, so several services can run in
// one process (app/local) with different settings.
package awsconf

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxBackoff caps the SDK's wait between retries (default 20 s) so that a
// throttled call still fails inside the services' own deadlines.
const maxBackoff = 2 * time.Second

// Load returns the SDK config for region AWS_REGION (required), with
// AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN as static
// credentials when getenv has them (otherwise the default chain: the ECS task
// role in AWS) and AWS_MAX_ATTEMPTS (default 3) for the standard retryer.
func Load(ctx context.Context, getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		return aws.Config{}, fmt.Errorf("load aws config: AWS_REGION is required")
	}
	attempts := retry.DefaultMaxAttempts
	if v := getenv("AWS_MAX_ATTEMPTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10 {
			return aws.Config{}, fmt.Errorf("load aws config: AWS_MAX_ATTEMPTS=%q: want 1..10", v)
		}
		attempts = n
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = maxBackoff
			})
		}),
	}
	if id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"); id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))))
	}
	// No config.WithHTTPClient: the SDK's loader reads AWS_CA_BUNDLE from
	// the process environment (set in many dev shells and CI images) and
	// adds it to the HTTP client's roots, which it can do only to its own
	// *awshttp.BuildableClient; any other client makes LoadDefaultConfig
	// fail with "unable to add custom RootCAs HTTPClient". Transport tuning,
	// if ever needed, must go through awshttp.NewBuildableClient().
	// WithTransportOptions. TestLoadWithCABundle guards this.
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config (region %s): %w", region, err)
	}
	return cfg, nil
}

// Endpoint returns the endpoint URL for service ("S3", "REKOGNITION") from
// getenv: AWS_ENDPOINT_URL_<service>, else AWS_ENDPOINT_URL, else "".
func Endpoint(getenv func(string) string, service string) string {
	if v := getenv("AWS_ENDPOINT_URL_" + service); v != "" {
		return v
	}
	return getenv("AWS_ENDPOINT_URL")
}

// NewS3 returns an S3 client for cfg. When an endpoint URL is configured
// (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL) the client uses it with
// path-style addressing, which every S3-compatible endpoint understands
// (virtual-hosted style needs wildcard DNS for bucket names).
func NewS3(cfg aws.Config, getenv func(string) string) *s3.Client {
	ep := Endpoint(getenv, "S3")
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
		if o.BaseEndpoint != nil || cfg.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}

// NewRekognition returns a Rekognition client for cfg, pointed at
// AWS_ENDPOINT_URL_REKOGNITION or AWS_ENDPOINT_URL when set.
func NewRekognition(cfg aws.Config, getenv func(string) string) *rekognition.Client {
	ep := Endpoint(getenv, "REKOGNITION")
	return rekognition.NewFromConfig(cfg, func(o *rekognition.Options) {
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
	})
}
