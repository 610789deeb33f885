package awsconf

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	"github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

type recorded struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (r *recorded) server(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.reqs = append(r.reqs, req.Clone(context.Background()))
		r.mu.Unlock()
		if strings.HasPrefix(req.Header.Get("X-Amz-Target"), "RekognitionService.") {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			_, _ = w.Write([]byte(`{"Labels":[]}`))
			return
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestS3PathStyleAndStaticCredentials(t *testing.T) {
	var rec recorded
	srv := rec.server(t)
	env := envOf(map[string]string{
		"AWS_REGION": "eu-west-3", "AWS_ENDPOINT_URL": srv.URL,
		"AWS_ACCESS_KEY_ID": "localkey", "AWS_SECRET_ACCESS_KEY": "localsecret",
	})
	cfg, err := Load(context.Background(), env)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	_, err = NewS3(cfg, env).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("images"), Key: aws.String("uploads/x.png"), Body: strings.NewReader("data"),
	})
	if err != nil {
		t.Fatalf("PutObject = %v", err)
	}
	req := rec.reqs[0]
	if req.URL.Path != "/images/uploads/x.png" || req.Host != strings.TrimPrefix(srv.URL, "http://") {
		t.Errorf("PutObject went to host %q path %q; want path-style /images/uploads/x.png on the endpoint", req.Host, req.URL.Path)
	}
	auth := req.Header.Get("Authorization")
	if !strings.Contains(auth, "Credential=localkey/") || !strings.Contains(auth, "/eu-west-3/s3/") {
		t.Errorf("Authorization = %q; want the getenv credentials and region", auth)
	}
}

func TestServiceSpecificEndpointWins(t *testing.T) {
	var general, specific recorded
	g, s := general.server(t), specific.server(t)
	env := envOf(map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": g.URL, "AWS_ENDPOINT_URL_REKOGNITION": s.URL,
		"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
	})
	cfg, err := Load(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewRekognition(cfg, env).DetectLabels(context.Background(), &rekognition.DetectLabelsInput{
		Image: &types.Image{S3Object: &types.S3Object{Bucket: aws.String("b"), Name: aws.String("k")}},
	})
	if err != nil {
		t.Fatalf("DetectLabels = %v", err)
	}
	if len(specific.reqs) != 1 || len(general.reqs) != 0 {
		t.Errorf("requests: specific %d, general %d; want 1, 0", len(specific.reqs), len(general.reqs))
	}
}

func TestLoadErrors(t *testing.T) {
	for _, m := range []map[string]string{
		{},
		{"AWS_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "0"},
		{"AWS_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "many"},
	} {
		if _, err := Load(context.Background(), envOf(m)); err == nil {
			t.Errorf("Load(%v) = nil error; want error", m)
		}
	}
	cfg, err := Load(context.Background(), envOf(map[string]string{"AWS_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "5"}))
	if err != nil || cfg.Retryer().MaxAttempts() != 5 {
		t.Errorf("Load(AWS_MAX_ATTEMPTS=5) = %v; want a retryer with 5 attempts", err)
	}
}

// writeCert writes srv's certificate as a PEM bundle and returns its path.
func writeCert(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bundle.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, pemBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoadWithCABundle: with AWS_CA_BUNDLE in the process environment (the
// SDK reads it there, not through getenv) Load works, and both clients made
// from one config trust the bundle: an HTTPS endpoint whose certificate only
// the bundle vouches for answers PutObject and DetectLabels.
func TestLoadWithCABundle(t *testing.T) {
	var rec recorded
	plain := rec.server(t)
	srv := httptest.NewTLSServer(plain.Config.Handler)
	t.Cleanup(srv.Close)
	env := envOf(map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.URL,
		"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_MAX_ATTEMPTS": "1",
	})
	put := func(cfg aws.Config) error {
		_, err := NewS3(cfg, env).PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("images"), Key: aws.String("uploads/x.png"), Body: strings.NewReader("data"),
		})
		return err
	}

	t.Setenv("AWS_CA_BUNDLE", writeCert(t, srv))
	cfg, err := Load(context.Background(), env)
	if err != nil {
		t.Fatalf("Load with AWS_CA_BUNDLE set = %v", err)
	}
	if err := put(cfg); err != nil {
		t.Errorf("PutObject over TLS trusted via AWS_CA_BUNDLE = %v", err)
	}
	_, err = NewRekognition(cfg, env).DetectLabels(context.Background(), &rekognition.DetectLabelsInput{
		Image: &types.Image{S3Object: &types.S3Object{Bucket: aws.String("images"), Name: aws.String("uploads/x.png")}},
	})
	if err != nil {
		t.Errorf("DetectLabels over TLS trusted via AWS_CA_BUNDLE = %v", err)
	}

	// Control: without the bundle the certificate is unknown.
	t.Setenv("AWS_CA_BUNDLE", "")
	cfg, err = Load(context.Background(), env)
	if err != nil {
		t.Fatalf("Load without AWS_CA_BUNDLE = %v", err)
	}
	var unknown x509.UnknownAuthorityError
	if err := put(cfg); !errors.As(err, &unknown) {
		t.Errorf("PutObject without the bundle = %v; want an unknown-authority error", err)
	}
}

// TestLoadBadCABundle: a bundle that cannot be used fails Load at start,
// rather than every AWS call later.
func TestLoadBadCABundle(t *testing.T) {
	env := envOf(map[string]string{"AWS_REGION": "us-east-1"})
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(t.TempDir(), "missing.pem"), notPEM} {
		t.Setenv("AWS_CA_BUNDLE", path)
		if _, err := Load(context.Background(), env); err == nil {
			t.Errorf("Load with AWS_CA_BUNDLE=%s = nil error; want error", filepath.Base(path))
		}
	}
}

// TestS3UnsignedPayloadOverHTTP: over a plain-http endpoint PutObject sends
// the payload unsigned (as the SDK does over HTTPS) instead of hashing it
// for SigV4, and the checksum header that protects the body is signed.
func TestS3UnsignedPayloadOverHTTP(t *testing.T) {
	var rec recorded
	srv := rec.server(t)
	env := envOf(map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_S3": srv.URL,
		"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
	})
	cfg, err := Load(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	_, err = NewS3(cfg, env).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("images"), Key: aws.String("uploads/x.png"), Body: strings.NewReader("data"),
		// SHA-256 of "data", base64.
		ChecksumSHA256: aws.String("Om6weQ85rIfJTzhWst0sXREOaBFgImGpqSPTuyOtyLc="),
	})
	if err != nil {
		t.Fatalf("PutObject = %v", err)
	}
	req := rec.reqs[0]
	if got := req.Header.Get("X-Amz-Content-Sha256"); got != "UNSIGNED-PAYLOAD" {
		t.Errorf("X-Amz-Content-Sha256 = %q; want UNSIGNED-PAYLOAD over http", got)
	}
	auth := req.Header.Get("Authorization")
	if !strings.Contains(auth, "x-amz-checksum-sha256") || req.Header.Get("X-Amz-Checksum-Sha256") == "" {
		t.Errorf("Authorization = %q; want x-amz-checksum-sha256 sent and among the signed headers", auth)
	}
}

// TestConnectionsReused: 32 calls in flight at once, twice; the second
// round must reuse the first round's connections (the SDK's default pool
// keeps 10 per host and would dial 22 new ones).
func TestConnectionsReused(t *testing.T) {
	const inFlight = 32
	var (
		mu       sync.Mutex
		newConns int
		arrived  = make(chan struct{}, inFlight)
		release  = make(chan struct{})
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		arrived <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_, _ = w.Write([]byte(`{"Labels":[]}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			newConns++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	env := envOf(map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.URL,
		"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b", "AWS_MAX_ATTEMPTS": "1",
	})
	cfg, err := Load(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	client := NewRekognition(cfg, env)
	round := func() int {
		mu.Lock()
		before := newConns
		mu.Unlock()
		var wg sync.WaitGroup
		errs := make(chan error, inFlight)
		for range inFlight {
			wg.Go(func() {
				_, err := client.DetectLabels(context.Background(), &rekognition.DetectLabelsInput{
					Image: &types.Image{S3Object: &types.S3Object{Bucket: aws.String("b"), Name: aws.String("k")}},
				})
				errs <- err
			})
		}
		for range inFlight { // all in flight at once, then all answered
			<-arrived
		}
		for range inFlight {
			release <- struct{}{}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("DetectLabels = %v", err)
			}
		}
		mu.Lock()
		defer mu.Unlock()
		return newConns - before
	}
	if n := round(); n != inFlight {
		t.Fatalf("first round opened %d connections; want %d", n, inFlight)
	}
	if n := round(); n != 0 {
		t.Errorf("second round opened %d new connections; want 0 (all %d kept idle)", n, inFlight)
	}
}

// TestStandInIgnoresSharedConfig: with static credentials and an endpoint
// (the local run), a shared config file that the SDK cannot use (here its
// default profile names a missing sso-session) does not matter: before,
// Load failed with "failed to find SSO session section".
func TestStandInIgnoresSharedConfig(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(bad, []byte("[default]\nsso_session = missing\n[garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", bad)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", bad)
	var rec recorded
	srv := rec.server(t)
	env := envOf(map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": srv.URL,
		"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
	})
	if _, err := Load(context.Background(), env); err != nil {
		t.Errorf("Load with a stand-in endpoint and a broken AWS_CONFIG_FILE = %v; want the files unread", err)
	}
}
