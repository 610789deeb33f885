package rekog

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/awsconf"
	"imagelabel/app/localaws"
	"imagelabel/internal/testutil"
)

// TestServeAgainstLocalAWS runs rekog.Serve against the in-process
// localaws: labels for a stored image, 404 for a missing one, 422 for a
// stored non-image, 503 when throttled, 502 when Rekognition fails.
func TestServeAgainstLocalAWS(t *testing.T) {
	fake, err := localaws.New(localaws.Options{Buckets: []string{"images", "other"}})
	if err != nil {
		t.Fatal(err)
	}
	awsSrv := httptest.NewServer(fake)
	defer awsSrv.Close()
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": awsSrv.URL,
		"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
		"BUCKET": "images", "MIN_CONFIDENCE": "0", "AWS_MAX_ATTEMPTS": "2",
	}
	getenv := func(k string) string { return env[k] }

	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	url := "http://" + ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	logs := &testutil.SyncBuffer{}
	go func() { done <- Serve(ctx, ln, getenv, logs) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve = %v; want nil after cancel", err)
		}
	}()
	testutil.WaitHTTP(t, url+"/healthz", 4*time.Second, nil)

	cfg, _ := awsconf.Load(context.Background(), getenv)
	s3c := awsconf.NewS3(cfg, getenv)
	put := func(bucket, key string, data []byte) {
		t.Helper()
		if _, err := s3c.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		}); err != nil {
			t.Fatalf("PutObject %s/%s: %v", bucket, key, err)
		}
	}
	img := image.NewRGBA(image.Rect(0, 0, 100, 60))
	for y := range 60 {
		for x := range 100 {
			img.Set(x, y, color.RGBA{30, 90, 220, 255})
		}
	}
	pngData := testutil.EncodePNG(t, img)
	hex := strings.Repeat("ab", 32)
	imageKey := "uploads/" + hex + ".png"
	textKey := "uploads/" + strings.Repeat("cd", 32) + ".png"
	otherKey := "uploads/" + strings.Repeat("ef", 32) + ".png"
	put("images", imageKey, pngData)
	put("images", textKey, []byte("not an image at all"))
	put("other", otherKey, pngData) // exists, but in a bucket rekog must not read

	call := func(body string, id string) (int, string) {
		req, _ := http.NewRequest("POST", url+"/labels", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("POST /labels %s: %v", body, err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}

	// The stand-in is the labeler, and getInfo says so (from the endpoint
	// Serve's Rekognition client uses).
	var info api.Info
	if code := getJSON(t, url+"/getInfo", &info); code != 200 || info.Name != "rekog" ||
		info.Labeler != api.LabelerStandIn || info.RekognitionEndpoint != awsSrv.URL {
		t.Errorf("GET /getInfo = %d %+v; want rekog, labeler %q, endpoint %s", code, info, api.LabelerStandIn, awsSrv.URL)
	}

	status, raw := call(`{"key":"`+imageKey+`","maxLabels":2}`, "rid-ok")
	var out api.LabelsResponse
	if err := json.Unmarshal([]byte(raw), &out); status != 200 || err != nil || len(out.Labels) == 0 || len(out.Labels) > 2 {
		t.Fatalf("POST /labels (stored PNG) = %d %s; want 200 with 1..2 labels", status, raw)
	}
	if !strings.Contains(logs.String(), `"request_id":"rid-ok"`) {
		t.Errorf("request id rid-ok not in rekog's logs")
	}

	tests := []struct {
		name, body string
		status     int
		code       string
		fault      *localaws.Fault
	}{
		{"missing object", `{"key":"uploads/` + strings.Repeat("00", 32) + `.jpg"}`, 404, api.CodeNotFound, nil},
		{"object only in another bucket", `{"key":"` + otherKey + `"}`, 404, api.CodeNotFound, nil},
		{"bucket field", `{"key":"` + otherKey + `","bucket":"other"}`, 400, api.CodeBadRequest, nil},
		{"stored text", `{"key":"` + textKey + `"}`, 422, api.CodeUnprocessable, nil},
		{"throttled", `{"key":"` + imageKey + `"}`, 503, api.CodeUnavailable,
			&localaws.Fault{Service: "rekognition", Kind: localaws.FaultThrottle}},
		{"Rekognition 500", `{"key":"` + imageKey + `"}`, 502, api.CodeUpstream,
			&localaws.Fault{Service: "rekognition", Kind: localaws.FaultServerError, Status: 500}},
	}
	for _, tt := range tests {
		if tt.fault != nil {
			fake.SetFault(*tt.fault)
		}
		status, raw := call(tt.body, "")
		fake.ClearFaults()
		var e api.ErrorBody
		_ = json.Unmarshal([]byte(raw), &e)
		if status != tt.status || e.Error.Code != tt.code {
			t.Errorf("%s: POST /labels = %d %s; want %d %s", tt.name, status, raw, tt.status, tt.code)
		}
	}
}

func TestLabeler(t *testing.T) {
	for _, tc := range []struct{ endpoint, want string }{
		{"", api.LabelerRekognition},
		{"https://rekognition-fips.us-east-1.amazonaws.com", api.LabelerRekognition},
		{"https://vpce-0abc.rekognition.eu-west-1.vpce.amazonaws.com", api.LabelerRekognition},
		{"https://rekognition.cn-north-1.amazonaws.com.cn", api.LabelerRekognition},
		{"http://127.0.0.1:4566", api.LabelerStandIn},
		{"http://localaws:4566", api.LabelerStandIn},
		{"http://amazonaws.com.example.org", api.LabelerStandIn},
		{"http://[::1", api.LabelerStandIn},
	} {
		if got := labeler(tc.endpoint); got != tc.want {
			t.Errorf("labeler(%q) = %q; want %q", tc.endpoint, got, tc.want)
		}
	}
	// Without an endpoint the answer names Rekognition and no endpoint.
	rec := httptest.NewRecorder()
	handleInfo(config{}).ServeHTTP(rec, httptest.NewRequest("GET", "/getInfo", nil))
	var info api.Info
	if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil || info.Labeler != api.LabelerRekognition ||
		strings.Contains(rec.Body.String(), "rekognitionEndpoint") {
		t.Errorf("GET /getInfo without endpoint = %s; want labeler %q and no rekognitionEndpoint", rec.Body, api.LabelerRekognition)
	}
}

// getJSON GETs url and decodes its JSON body into v, returning the status.
func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: decode: %v", url, err)
	}
	return resp.StatusCode
}
