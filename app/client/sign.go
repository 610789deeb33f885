package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Stack outputs of an apiAuth=iam stack (team contract: output names).
const (
	stackOutputAPIAuth      = "apiAuth"
	stackOutputCallerPolicy = "callerPolicy"
)

// signingService is the SigV4 service name of API Gateway's invoke
// endpoints: https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-access-control-iam.html
const signingService = "execute-api"

// executeAPIHost matches a default endpoint, <id>.execute-api.<region>.amazonaws.com.
var executeAPIHost = regexp.MustCompile(`^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$`)

// wantSigning reports whether requests must be signed: --sign, or a stack
// whose output apiAuth is iam.
func wantSigning(c config, tgt *target) bool {
	v, _ := tgt.outputs[stackOutputAPIAuth].(string)
	return c.sign || v == "iam"
}

// signingRegion is the region requests are signed for: the stack's
// output region, else the region of a default execute-api host, else the
// SDK's (AWS_REGION, the profile's region); "" when none says.
func signingRegion(tgt *target, sdkRegion string) string {
	if v, _ := tgt.outputs["region"].(string); v != "" {
		return v
	}
	if m := executeAPIHost.FindStringSubmatch(tgt.base.Hostname()); m != nil {
		return m[1]
	}
	return sdkRegion
}

// newSigner returns the transport that signs every request with the
// credentials the AWS SDK finds (environment, shared config and
// credentials files, SSO, container or instance role), as the aws CLI does.
func newSigner(ctx context.Context, tgt *target) (*signingTransport, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("load AWS config to sign requests: %w", err)
	}
	region := signingRegion(tgt, cfg.Region)
	if region == "" {
		return nil, fmt.Errorf("signing needs the API's region: set AWS_REGION (the URL %s does not name one)", tgt.base.Redacted())
	}
	return &signingTransport{creds: cfg.Credentials, region: region, signer: v4.NewSigner(), now: time.Now}, nil
}

// signingTransport signs each request with SigV4 for execute-api before
// sending it through base (nil = http.DefaultTransport).
type signingTransport struct {
	base   http.RoundTripper
	creds  aws.CredentialsProvider
	signer *v4.Signer
	region string
	now    func() time.Time

	mu   sync.Mutex
	used string // the last credentials' description, for 403 messages
}

// usedCredentials describes the credentials of the last signed request.
func (t *signingTransport) usedCredentials() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.used
}

// RoundTrip signs a copy of req and sends it. The body is read whole to
// hash it (SigV4 signs the payload's SHA-256); bodies here are at most an
// upload, 10 MiB, so an upload's progress reports this read, just before
// the bytes go out.
func (t *signingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.creds == nil {
		return nil, errors.New("sign request: no AWS credentials found (set AWS_PROFILE or AWS_ACCESS_KEY_ID, or run `aws configure`)")
	}
	creds, err := t.creds.Retrieve(req.Context())
	if err != nil {
		return nil, fmt.Errorf("sign request: get AWS credentials: %w", err)
	}
	t.mu.Lock()
	t.used = describeCredentials(creds)
	t.mu.Unlock()
	r := req.Clone(req.Context())
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		body, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("sign request: read body: %w", err)
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
	}
	sum := sha256.Sum256(body)
	if err := t.signer.SignHTTP(req.Context(), creds, r, hex.EncodeToString(sum[:]), signingService, t.region, t.now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	base := t.base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(r)
}

// describeCredentials names credentials for a person: the access key ID
// shortened to its first four and last four characters (enough to find it
// in IAM, not the whole identifier in logs) and where the SDK found them.
func describeCredentials(c aws.Credentials) string {
	id := c.AccessKeyID
	if len(id) > 8 {
		id = id[:4] + "..." + id[len(id)-4:]
	}
	s := "access key " + id
	if c.Source != "" {
		s += " from " + c.Source
	}
	return s
}

// authError is a 403 from API Gateway explained: who asked, and what to do.
type authError struct {
	answer *apiError
	used   string // describeCredentials of the signer; "" when not signed
}

func (e *authError) Error() string {
	if e.used == "" {
		return fmt.Sprintf("%d %s: the request was not signed and this API answers only SigV4-signed requests (a stack with apiAuth=iam); pass --sign to sign with the credentials the AWS SDK finds", e.answer.Status, e.answer.Message)
	}
	return fmt.Sprintf("%d %s: API Gateway refused the request signed with %s; those credentials need execute-api:Invoke on this API's routes (the stack output %s is the policy to attach)", e.answer.Status, e.answer.Message, e.used, stackOutputCallerPolicy)
}

func (e *authError) Unwrap() error { return e.answer }

// explainForbidden turns API Gateway's 403 (its own {"message"}, never an
// error of upload, which answers no 403) into an authError; other answers
// are returned unchanged.
func (c *apiClient) explainForbidden(ae *apiError) error {
	if ae.Status != http.StatusForbidden || ae.Code != "" {
		return ae
	}
	e := &authError{answer: ae}
	if c.signer != nil {
		e.used = c.signer.usedCredentials()
	}
	return e
}
