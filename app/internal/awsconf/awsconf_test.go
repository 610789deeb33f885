package awsconf

import (
	"context"
	"net/http"
	"net/http/httptest"
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
