package rekog

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	"github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/smithy-go"

	"imagelabel/app/internal/api"
)

const testKey = "uploads/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.png"

// fakeDetector records inputs and answers what the test says.
type fakeDetector struct {
	mu    sync.Mutex
	calls []*rekognition.DetectLabelsInput
	out   *rekognition.DetectLabelsOutput
	err   error
	delay time.Duration
}

func (f *fakeDetector) DetectLabels(ctx context.Context, in *rekognition.DetectLabelsInput, _ ...func(*rekognition.Options)) (*rekognition.DetectLabelsOutput, error) {
	f.mu.Lock()
	f.calls = append(f.calls, in)
	out, err, delay := f.out, f.err, f.delay
	f.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("operation error Rekognition: DetectLabels: %w", ctx.Err())
		}
	}
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = &rekognition.DetectLabelsOutput{}
	}
	return out, nil
}

func testConfig() config {
	return config{bucket: "images", defaults: api.Options{MaxLabels: 10, MinConfidence: 70}, detectTimeout: 2 * time.Second}
}

func post(t *testing.T, h http.Handler, body string) (*httptest.ResponseRecorder, api.ErrorBody) {
	t.Helper()
	req := httptest.NewRequest("POST", "/labels", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var e api.ErrorBody
	if rec.Code != 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
			t.Fatalf("POST /labels %s: error body %q is not JSON", body, rec.Body)
		}
	}
	return rec, e
}

func TestLabelsSuccess(t *testing.T) {
	det := &fakeDetector{out: &rekognition.DetectLabelsOutput{Labels: []types.Label{
		{Name: aws.String("Dog"), Confidence: aws.Float32(98.7654), Parents: []types.Parent{{Name: aws.String("Animal")}},
			Categories: []types.LabelCategory{{Name: aws.String("Animals and Pets")}}},
		{Name: aws.String("Grass"), Confidence: aws.Float32(71)},
	}}}
	h := newHandler(testConfig(), det, slog.New(slog.DiscardHandler))
	rec, _ := post(t, h, `{"key":"`+testKey+`","maxLabels":5,"minConfidence":80.5,"includeCategories":["Animals and Pets"],"excludeLabels":["Person","Car"]}`)
	if rec.Code != 200 {
		t.Fatalf("POST /labels = %d %s; want 200", rec.Code, rec.Body)
	}
	var got api.LabelsResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := []api.Label{
		{Name: "Dog", Confidence: 98.765, Parents: []string{"Animal"}, Categories: []string{"Animals and Pets"}},
		{Name: "Grass", Confidence: 71, Parents: []string{}, Categories: []string{}},
	}
	if fmt.Sprint(got.Labels) != fmt.Sprint(want) {
		t.Errorf("labels = %+v; want %+v", got.Labels, want)
	}
	// parents/categories are [] on the wire, never null.
	if !strings.Contains(rec.Body.String(), `"parents":[]`) {
		t.Errorf("body %s: want empty parents as []", rec.Body)
	}
	in := det.calls[0]
	if aws.ToString(in.Image.S3Object.Bucket) != "images" || aws.ToString(in.Image.S3Object.Name) != testKey || in.Image.Bytes != nil {
		t.Errorf("Image = %+v; want S3Object images/%s", in.Image.S3Object, testKey)
	}
	if aws.ToInt32(in.MaxLabels) != 5 || aws.ToFloat32(in.MinConfidence) != 80.5 {
		t.Errorf("MaxLabels, MinConfidence = %d, %v; want 5, 80.5", aws.ToInt32(in.MaxLabels), aws.ToFloat32(in.MinConfidence))
	}
	if len(in.Features) != 1 || in.Features[0] != types.DetectLabelsFeatureNameGeneralLabels {
		t.Errorf("Features = %v; want [GENERAL_LABELS]", in.Features)
	}
	gl := in.Settings.GeneralLabels
	if fmt.Sprint(gl.LabelCategoryInclusionFilters) != "[Animals and Pets]" || fmt.Sprint(gl.LabelExclusionFilters) != "[Person Car]" {
		t.Errorf("GeneralLabels = %+v", gl)
	}
}

func TestLabelsDefaults(t *testing.T) {
	det := &fakeDetector{}
	cfg := testConfig()
	cfg.defaults = api.Options{MaxLabels: 3, MinConfidence: 90}
	rec, _ := post(t, newHandler(cfg, det, slog.New(slog.DiscardHandler)), `{"key":"`+testKey+`"}`)
	if rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != `{"labels":[]}` {
		t.Fatalf("POST /labels = %d %s; want 200 {\"labels\":[]}", rec.Code, rec.Body)
	}
	in := det.calls[0]
	if aws.ToInt32(in.MaxLabels) != 3 || aws.ToFloat32(in.MinConfidence) != 90 || in.Settings != nil {
		t.Errorf("DetectLabels input = %d, %v, %v; want defaults 3, 90, no settings", aws.ToInt32(in.MaxLabels), aws.ToFloat32(in.MinConfidence), in.Settings)
	}
}

func TestLabelsBadRequests(t *testing.T) {
	long := strings.Repeat("x", 51)
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"empty body", ``, 400, api.CodeBadRequest},
		{"not JSON", `key=uploads/x`, 400, api.CodeBadRequest},
		{"array", `[]`, 400, api.CodeBadRequest},
		{"no key", `{}`, 400, api.CodeInvalidKey},
		{"bucket field", `{"key":"` + testKey + `","bucket":"someone-elses"}`, 400, api.CodeBadRequest},
		{"unknown field", `{"key":"` + testKey + `","extra":1}`, 400, api.CodeBadRequest},
		{"dot dot", `{"key":"uploads/../secret.png"}`, 400, api.CodeInvalidKey},
		{"dot dot prefix", `{"key":"../` + testKey + `"}`, 400, api.CodeInvalidKey},
		{"leading slash", `{"key":"/` + testKey + `"}`, 400, api.CodeInvalidKey},
		{"other prefix", `{"key":"private/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.png"}`, 400, api.CodeInvalidKey},
		{"gif", `{"key":"` + strings.TrimSuffix(testKey, ".png") + `.gif"}`, 400, api.CodeInvalidKey},
		{"uppercase", `{"key":"` + strings.ToUpper(testKey) + `"}`, 400, api.CodeInvalidKey},
		{"too long", `{"key":"` + testKey + strings.Repeat("a", 2000) + `"}`, 400, api.CodeInvalidKey},
		{"key not string", `{"key":42}`, 400, api.CodeBadRequest},
		{"maxLabels 0", `{"key":"` + testKey + `","maxLabels":0}`, 400, api.CodeInvalidOption},
		{"maxLabels 1001", `{"key":"` + testKey + `","maxLabels":1001}`, 400, api.CodeInvalidOption},
		{"maxLabels float", `{"key":"` + testKey + `","maxLabels":1.5}`, 400, api.CodeBadRequest},
		{"minConfidence 101", `{"key":"` + testKey + `","minConfidence":101}`, 400, api.CodeInvalidOption},
		{"minConfidence -1", `{"key":"` + testKey + `","minConfidence":-1}`, 400, api.CodeInvalidOption},
		{"long label", `{"key":"` + testKey + `","excludeLabels":["` + long + `"]}`, 400, api.CodeInvalidOption},
		{"bad category", `{"key":"` + testKey + `","includeCategories":["a;b"]}`, 400, api.CodeInvalidOption},
		{"too many", `{"key":"` + testKey + `","excludeLabels":[` + strings.TrimSuffix(strings.Repeat(`"a",`, 101), ",") + `]}`, 400, api.CodeInvalidOption},
		{"trailing", `{"key":"` + testKey + `"}{}`, 400, api.CodeBadRequest},
		{"huge body", `{"key":"` + strings.Repeat("a", maxBody) + `"}`, 413, api.CodeTooLarge},
	}
	for _, tt := range tests {
		det := &fakeDetector{}
		rec, e := post(t, newHandler(testConfig(), det, slog.New(slog.DiscardHandler)), tt.body)
		if rec.Code != tt.status || e.Error.Code != tt.code {
			t.Errorf("%s: POST /labels = %d %s; want %d %s", tt.name, rec.Code, e.Error.Code, tt.status, tt.code)
		}
		if len(det.calls) != 0 {
			t.Errorf("%s: DetectLabels called for a refused request", tt.name)
		}
	}
}

// apiError is a generic smithy error, as a non-AWS compatible endpoint may give.
func apiError(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "internal detail " + code}
}

func TestLabelsErrorMapping(t *testing.T) {
	msg := aws.String("internal detail from AWS")
	tests := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"missing object", &types.InvalidS3ObjectException{Message: msg}, 404, api.CodeNotFound},
		// What Rekognition answers when S3 refused it (403: no s3:GetObject, or
		// a missing key without s3:ListBucket): the same exception, so 404 too.
		{"object not readable", fmt.Errorf("internal detail: operation error Rekognition: DetectLabels: %w", &types.InvalidS3ObjectException{
			Message: aws.String("Unable to get object metadata from S3. Check object key, region and/or access permissions.")}), 404, api.CodeNotFound},
		{"bad format", &types.InvalidImageFormatException{Message: msg}, 422, api.CodeUnprocessable},
		{"too large", &types.ImageTooLargeException{Message: msg}, 422, api.CodeUnprocessable},
		{"throttling", &types.ThrottlingException{Message: msg}, 503, api.CodeUnavailable},
		{"throughput", &types.ProvisionedThroughputExceededException{Message: msg}, 503, api.CodeUnavailable},
		{"limit", &types.LimitExceededException{Message: msg}, 503, api.CodeUnavailable},
		{"wrapped throttling", fmt.Errorf("operation error: %w", &types.ThrottlingException{Message: msg}), 503, api.CodeUnavailable},
		{"access denied", &types.AccessDeniedException{Message: msg}, 502, api.CodeUpstream},
		{"internal", &types.InternalServerError{Message: msg}, 502, api.CodeUpstream},
		{"invalid parameter", &types.InvalidParameterException{Message: msg}, 502, api.CodeUpstream},
		{"generic InvalidS3ObjectException", apiError("InvalidS3ObjectException"), 404, api.CodeNotFound},
		{"generic InvalidImageFormatException", apiError("InvalidImageFormatException"), 422, api.CodeUnprocessable},
		{"generic ThrottlingException", apiError("ThrottlingException"), 503, api.CodeUnavailable},
		{"generic SlowDown", apiError("SlowDown"), 503, api.CodeUnavailable},
		{"generic other", apiError("SomethingElse"), 502, api.CodeUpstream},
		{"connection refused", fmt.Errorf("internal detail dial: %w", syscall.ECONNREFUSED), 503, api.CodeUnavailable},
		{"plain error", errors.New("internal detail boom"), 502, api.CodeUpstream},
	}
	for _, tt := range tests {
		det := &fakeDetector{err: tt.err}
		var logs bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&logs, nil))
		rec, e := post(t, newHandler(testConfig(), det, log), `{"key":"`+testKey+`"}`)
		if rec.Code != tt.status || e.Error.Code != tt.code {
			t.Errorf("%s: POST /labels = %d %s; want %d %s", tt.name, rec.Code, e.Error.Code, tt.status, tt.code)
		}
		if strings.Contains(rec.Body.String(), "internal detail") {
			t.Errorf("%s: body %s leaks the internal message", tt.name, rec.Body)
		}
		if !strings.Contains(logs.String(), "internal detail") {
			t.Errorf("%s: the internal message is not logged: %s", tt.name, logs.String())
		}
	}
}

func TestLabelsDeadline(t *testing.T) {
	det := &fakeDetector{delay: 5 * time.Second}
	cfg := testConfig()
	cfg.detectTimeout = 100 * time.Millisecond
	start := time.Now()
	rec, e := post(t, newHandler(cfg, det, slog.New(slog.DiscardHandler)), `{"key":"`+testKey+`"}`)
	if rec.Code != 504 || e.Error.Code != api.CodeTimeout || time.Since(start) > 2*time.Second {
		t.Errorf("slow DetectLabels: POST /labels = %d %s after %s; want 504 timeout after ~100ms", rec.Code, e.Error.Code, time.Since(start))
	}
}

// TestLabelsClientGone: a caller that goes away while DetectLabels runs is
// logged as what it is, at INFO with status 499 and client_closed, not as
// a WARN 502 upstream_error; the call is stopped.
func TestLabelsClientGone(t *testing.T) {
	var logs bytes.Buffer
	det := &fakeDetector{delay: 5 * time.Second}
	h := newHandler(testConfig(), det, slog.New(slog.NewJSONHandler(&logs, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	req := httptest.NewRequestWithContext(ctx, "POST", "/labels", strings.NewReader(`{"key":"`+testKey+`"}`))
	start := time.Now()
	h.ServeHTTP(httptest.NewRecorder(), req)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("POST /labels returned %v after its caller left; want the call stopped", took)
	}
	out := logs.String()
	if strings.Contains(out, `"level":"WARN"`) || strings.Contains(out, api.CodeUpstream) {
		t.Errorf("a caller going away was logged as a failure:\n%s", out)
	}
	if !strings.Contains(out, `"status":499`) || !strings.Contains(out, `"code":"client_closed"`) {
		t.Errorf("logs lack status 499 and code client_closed:\n%s", out)
	}
}

func TestLabelsRequestIDInLogs(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	h := newHandler(testConfig(), &fakeDetector{}, log)
	req := httptest.NewRequest("POST", "/labels", strings.NewReader(`{"key":"`+testKey+`"}`))
	req.Header.Set("X-Request-Id", "rid-42")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("X-Request-Id") != "rid-42" {
		t.Errorf("X-Request-Id = %q; want rid-42 echoed", rec.Header().Get("X-Request-Id"))
	}
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) < 2 {
		t.Fatalf("log lines = %q; want the labeled line and the access line", lines)
	}
	for _, l := range lines {
		if !strings.Contains(l, `"request_id":"rid-42"`) {
			t.Errorf("log line %s lacks request_id", l)
		}
	}
}

func TestLoadConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	if _, err := loadConfig(env(nil)); err == nil {
		t.Errorf("loadConfig(no BUCKET) = nil error")
	}
	if _, err := loadConfig(env(map[string]string{"BUCKET": "b", "MAX_LABELS": "0"})); err == nil {
		t.Errorf("loadConfig(MAX_LABELS=0) = nil error")
	}
	c, err := loadConfig(env(map[string]string{"BUCKET": "b", "MIN_CONFIDENCE": "50"}))
	if err != nil || c.bucket != "b" || c.defaults.MinConfidence != 50 || c.defaults.MaxLabels != 10 {
		t.Errorf("loadConfig = %+v, %v", c, err)
	}
	if err := Serve(context.Background(), nil, env(map[string]string{"BUCKET": "b", "LOG_LEVEL": "loud"}), io.Discard); err == nil {
		t.Errorf("Serve(LOG_LEVEL=loud) = nil error")
	}
	if err := Serve(context.Background(), nil, env(map[string]string{"BUCKET": "b"}), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("Serve(no AWS_REGION) = %v; want an error naming AWS_REGION", err)
	}
}
