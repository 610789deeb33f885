package localaws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/color"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	"github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"imagelabel/internal/testutil"
)

func httpStatus(err error) int {
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestFaultThrottle(t *testing.T) {
	e := newEnv(t, Options{}, noRetries)
	ctx := context.Background()
	img := testutil.EncodePNG(t, solid(20, 20, color.White))
	detectIn := &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}}

	e.srv.SetFault(Fault{Service: "rekognition", Kind: FaultThrottle, Times: 1})
	_, err := e.rek.DetectLabels(ctx, detectIn)
	var thr *types.ThrottlingException
	if !errors.As(err, &thr) || httpStatus(err) != http.StatusBadRequest {
		t.Errorf("DetectLabels under throttle = %v (HTTP %d); want ThrottlingException 400", err, httpStatus(err))
	}
	if _, err := e.rek.DetectLabels(ctx, detectIn); err != nil {
		t.Errorf("DetectLabels after Times:1 throttle used up = %v; want success", err)
	}

	e.srv.SetFault(Fault{Service: "s3", Kind: FaultThrottle, Times: 1})
	// S3 is unaffected by a rekognition fault and vice versa.
	_, err = e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x")})
	if apiCode(err) != "SlowDown" || httpStatus(err) != http.StatusServiceUnavailable {
		t.Errorf("PutObject under throttle = %v; want SlowDown 503", err)
	}
	if _, err := e.rek.DetectLabels(ctx, detectIn); err != nil {
		t.Errorf("DetectLabels with only an S3 fault = %v; want success", err)
	}
}

func TestFaultRetriedBySDK(t *testing.T) {
	// With the SDK's default retries (3 attempts) two throttles are absorbed.
	e := newEnv(t, Options{})
	e.srv.SetFault(Fault{Service: "rekognition", Kind: FaultThrottle, Times: 2})
	e.srv.SetFault(Fault{Service: "s3", Kind: FaultServerError, Status: 503, Times: 2})
	img := testutil.EncodePNG(t, solid(20, 20, color.White))
	if _, err := e.rek.DetectLabels(context.Background(), &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}}); err != nil {
		t.Errorf("DetectLabels after 2 throttles with retries = %v; want success", err)
	}
	e.put(t, "retried", []byte("x"), "text/plain")
}

func TestFaultServerError(t *testing.T) {
	e := newEnv(t, Options{}, noRetries)
	ctx := context.Background()
	img := testutil.EncodePNG(t, solid(20, 20, color.White))

	e.srv.SetFault(Fault{Service: "rekognition", Kind: FaultServerError})
	_, err := e.rek.DetectLabels(ctx, &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}})
	var ise *types.InternalServerError
	if !errors.As(err, &ise) || httpStatus(err) != 500 {
		t.Errorf("DetectLabels under server error = %v (HTTP %d); want InternalServerError 500", err, httpStatus(err))
	}
	// Times 0 lasts until cleared.
	if _, err := e.rek.DetectLabels(ctx, &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}}); !errors.As(err, &ise) {
		t.Errorf("second DetectLabels = %v; want the fault to persist", err)
	}
	e.srv.ClearFaults()
	if _, err := e.rek.DetectLabels(ctx, &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}}); err != nil {
		t.Errorf("DetectLabels after ClearFaults = %v", err)
	}

	e.srv.SetFault(Fault{Service: "s3", Kind: FaultServerError, Status: 502, Times: 1})
	_, err = e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("x")})
	if httpStatus(err) != 502 || apiCode(err) != "InternalError" {
		t.Errorf("GetObject under 502 fault = %v; want InternalError 502", err)
	}

	// Service "" matches both.
	e.srv.SetFault(Fault{Kind: FaultServerError, Status: 503, Times: 2})
	_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("x")})
	if httpStatus(err) != 503 {
		t.Errorf("HeadObject under any-service fault = %v; want 503", err)
	}
	_, err = e.rek.DetectLabels(ctx, &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}})
	if httpStatus(err) != 503 || !errors.As(err, &ise) {
		t.Errorf("DetectLabels under any-service fault = %v; want 503", err)
	}
	// The health endpoint is never faulted.
	resp, err := e.hs.Client().Get(e.hs.URL + HealthPath)
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("health under faults = %v %v; want 200", resp, err)
	}
	if resp != nil {
		resp.Body.Close()
	}
}

func TestFaultLatency(t *testing.T) {
	var logs testutil.SyncBuffer
	e := newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))}, noRetries)
	ctx := context.Background()
	img := testutil.EncodePNG(t, solid(20, 20, color.White))
	const delay = 300 * time.Millisecond
	e.srv.SetFault(Fault{Service: "rekognition", Kind: FaultLatency, Latency: delay, Times: 1})

	start := time.Now()
	if _, err := e.rek.DetectLabels(ctx, &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}}); err != nil {
		t.Fatalf("DetectLabels under latency: %v", err)
	}
	if d := time.Since(start); d < delay {
		t.Errorf("DetectLabels under %v latency took %v", delay, d)
	}
	start = time.Now()
	if _, err := e.rek.DetectLabels(ctx, &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}}); err != nil {
		t.Fatalf("DetectLabels after latency used up: %v", err)
	}
	if d := time.Since(start); d >= delay {
		t.Errorf("DetectLabels after the Times:1 latency took %v; want fast", d)
	}

	// A caller that gives up is not held: the handler returns when the
	// request context ends.
	e.srv.SetFault(Fault{Service: "s3", Kind: FaultLatency, Latency: time.Minute})
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err := e.s3.PutObject(cctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("slow"), Body: strings.NewReader("x")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("PutObject with 100ms deadline under 1m latency = %v; want deadline exceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("PutObject cancelled after %v; want ~100ms", d)
	}
	// The handler itself must stop sleeping, not just the client.
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "fault latency abandoned") {
		if time.Now().After(deadline) {
			t.Fatalf("handler still sleeping 5s after the client gave up; logs:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.srv.ClearFaults()
}

func TestFaultLatencyThenThrottle(t *testing.T) {
	// Latency faults delay; the first answering fault then answers.
	e := newEnv(t, Options{}, noRetries)
	e.srv.SetFault(Fault{Service: "s3", Kind: FaultLatency, Latency: 100 * time.Millisecond, Times: 1})
	e.srv.SetFault(Fault{Service: "s3", Kind: FaultThrottle, Times: 1})
	e.srv.SetFault(Fault{Service: "s3", Kind: FaultServerError, Times: 1})
	start := time.Now()
	_, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x")})
	if apiCode(err) != "SlowDown" || time.Since(start) < 100*time.Millisecond {
		t.Errorf("PutObject = %v after %v; want SlowDown after 100ms", err, time.Since(start))
	}
	_, err = e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x")})
	if apiCode(err) != "InternalError" {
		t.Errorf("second PutObject = %v; want InternalError (the throttle was used up)", err)
	}
	if _, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x")}); err != nil {
		t.Errorf("third PutObject = %v; want success", err)
	}
}

// TestConcurrentPutsAndDetect runs many uploads and DetectLabels calls in
// parallel, while faults are set and cleared, under -race.
func TestConcurrentPutsAndDetect(t *testing.T) {
	for _, mode := range []string{"memory", "dir"} {
		t.Run(mode, func(t *testing.T) {
			var opts Options
			if mode == "dir" {
				opts.Dir = t.TempDir()
			}
			e := newEnv(t, opts)
			ctx := context.Background()
			colours := []color.RGBA{{220, 20, 20, 255}, {20, 40, 220, 255}, {30, 200, 40, 255}}
			want := []string{"Red", "Blue", "Green"}
			const n = 40
			var wg sync.WaitGroup
			errs := make(chan error, n)
			stop := make(chan struct{})
			go func() { // fault churn that never affects these requests
				for {
					select {
					case <-stop:
						return
					default:
						e.srv.SetFault(Fault{Service: "nothing", Kind: FaultThrottle, Times: 1})
						e.srv.ClearFaults()
					}
				}
			}()
			for i := range n {
				wg.Go(func() {
					img := testutil.EncodePNG(t, solid(64+i, 64, colours[i%3]))
					key := fmt.Sprintf("uploads/%03d.png", i)
					if _, err := e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: bytes.NewReader(img), ContentType: aws.String("image/png")}); err != nil {
						errs <- fmt.Errorf("put %s: %w", key, err)
						return
					}
					out, err := e.rek.DetectLabels(ctx, &rekognition.DetectLabelsInput{Image: &types.Image{S3Object: &types.S3Object{Bucket: aws.String(testBucket), Name: aws.String(key)}}})
					if err != nil {
						errs <- fmt.Errorf("detect %s: %w", key, err)
						return
					}
					names := labelNames(out.Labels)
					if j := slices.Index(names, want[i%3]); j < 0 || aws.ToFloat32(out.Labels[j].Confidence) < 90 {
						errs <- fmt.Errorf("detect %s = %v; want %s at 90 or more", key, names, want[i%3])
					}
					got, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
					if err != nil {
						errs <- fmt.Errorf("get %s: %w", key, err)
						return
					}
					var b bytes.Buffer
					_, _ = b.ReadFrom(got.Body)
					got.Body.Close()
					if !bytes.Equal(b.Bytes(), img) {
						errs <- fmt.Errorf("get %s: bytes differ from the put", key)
					}
				})
			}
			wg.Wait()
			close(stop)
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}

func TestFaultKindString(t *testing.T) {
	for k, want := range map[FaultKind]string{FaultThrottle: "throttle", FaultServerError: "server-error", FaultLatency: "latency", 0: "FaultKind(0)"} {
		if got := k.String(); got != want {
			t.Errorf("FaultKind(%d).String() = %q; want %q", int(k), got, want)
		}
	}
}
