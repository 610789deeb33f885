// Package awsconf loads the AWS SDK configuration of the services from their
// getenv, not from the process environment, so several services can run in
// one process (app/local) with different settings.
package awsconf

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
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
// With static credentials and an endpoint URL (a stand-in), the shared
// config and credentials files are not read.
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
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id != "" && secret != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))))
		if Endpoint(getenv, "S3") != "" || Endpoint(getenv, "REKOGNITION") != "" {
			// A stand-in endpoint with its own credentials (the local run,
			// tests): nothing is wanted from the user's shared config and
			// credentials files (~/.aws/config, AWS_CONFIG_FILE), and a
			// broken one (a profile naming a missing sso-session) must not
			// stop the services. An AWS_PROFILE in the process environment
			// still makes the SDK require that profile; app/local clears it.
			opts = append(opts, config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
		}
	}
	// The HTTP client stays the SDK's own *awshttp.BuildableClient: the
	// loader reads AWS_CA_BUNDLE from the process environment (set in many
	// dev shells and CI images) and adds it to the client's roots, which it
	// can do only to a BuildableClient; any other client makes
	// LoadDefaultConfig fail with "unable to add custom RootCAs HTTPClient".
	// TestLoadWithCABundle guards this.
	opts = append(opts, config.WithHTTPClient(awshttp.NewBuildableClient().WithTransportOptions(tuneTransport)))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load aws config (region %s): %w", region, err)
	}
	return cfg, nil
}

// maxIdlePerHost is the SDK transport's idle connection pool per host.
// The SDK's default is 10 (awshttp.DefaultHTTPTransportMaxIdleConnsPerHost);
// upload has up to 16 PutObjects and rekog one DetectLabels per request in
// flight, and every call beyond the pool's size closes its connection
// afterwards and dials a new one for the next call (measured in
// BENCHMARKS.md). Idle connections cost a few KiB each and close after the
// SDK's 90 s idle timeout.
const maxIdlePerHost = 64

func tuneTransport(tr *http.Transport) {
	tr.MaxIdleConnsPerHost = maxIdlePerHost
	tr.MaxIdleConns = max(tr.MaxIdleConns, 2*maxIdlePerHost)
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
//
// Over a plain-http endpoint (the local stand-in) the payload is sent
// unsigned, as the SDK always does over HTTPS: otherwise SigV4 hashes
// every body once more (about a tenth of upload's CPU, BENCHMARKS.md), a
// cost it never pays in AWS. The body stays protected:
// callers send x-amz-checksum-sha256, a signed header S3 verifies.
// https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html
func NewS3(cfg aws.Config, getenv func(string) string) *s3.Client {
	ep := Endpoint(getenv, "S3")
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		if ep != "" {
			o.BaseEndpoint = aws.String(ep)
		}
		// NewFromConfig has already copied cfg.BaseEndpoint into o before
		// the options run, so o.BaseEndpoint is the endpoint in use.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
		if plainHTTP(o.BaseEndpoint) {
			o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		}
	})
}

func plainHTTP(endpoint *string) bool {
	return endpoint != nil && strings.HasPrefix(strings.ToLower(*endpoint), "http://")
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
