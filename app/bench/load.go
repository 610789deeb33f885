package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	"github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// loadResult is what one load phase measured.
type loadResult struct {
	N         int           `json:"n"`
	Errors    int           `json:"errors"`
	Elapsed   time.Duration `json:"elapsedNs"`
	PerSecond float64       `json:"perSecond"`
	P50       time.Duration `json:"p50Ns"`
	P90       time.Duration `json:"p90Ns"`
	P99       time.Duration `json:"p99Ns"`
	// FirstError is one error seen (status and body, or the transport
	// error), so a run with errors says why.
	FirstError string `json:"firstError,omitempty"`
}

// op performs upload number i and returns an error if it failed.
type op func(ctx context.Context, i int) error

// drive runs ops warm .. warm+n-1 with conc workers (ops 0 .. warm-1 first,
// unmeasured, so connection set-up and lazy initialisation are not counted)
// and measures each op's latency.
func drive(ctx context.Context, conc, warm, n int, do op) loadResult {
	runPhase(ctx, conc, 0, warm, do, nil)
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	var first atomic.Value
	t0 := time.Now()
	runPhase(ctx, conc, warm, n, do, func(i int, d time.Duration, err error) {
		lat[i-warm] = d
		if err != nil {
			errs.Add(1)
			first.CompareAndSwap(nil, err.Error())
		}
	})
	elapsed := time.Since(t0)
	slices.Sort(lat)
	r := loadResult{N: n, Errors: int(errs.Load()), Elapsed: elapsed,
		PerSecond: float64(n) / elapsed.Seconds(),
		P50:       percentile(lat, 50), P90: percentile(lat, 90), P99: percentile(lat, 99)}
	if s, ok := first.Load().(string); ok {
		r.FirstError = s
	}
	return r
}

func runPhase(ctx context.Context, conc, from, n int, do op, done func(int, time.Duration, error)) {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= from+n || ctx.Err() != nil {
					return
				}
				t := time.Now()
				err := do(ctx, i)
				if done != nil {
					done(i, time.Since(t), err)
				}
			}
		})
	}
	wg.Wait()
}

// percentile returns the nearest-rank p-th percentile of sorted.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	return sorted[max(rank, 1)-1]
}

// images hands out distinct variants of one base image: op i gets tag
// "bench <run> <i>".
type images struct {
	base []byte
	run  string
}

func (im images) get(i int) variant {
	return newVariant(im.base, fmt.Sprintf("bench %s %d", im.run, i))
}

const boundary = "imagelabel-bench-boundary-7d3f0a"

// uploadOp posts image i to upload's POST /upload as a browser would
// (multipart/form-data, field "file") and wants 200 with the key.
func uploadOp(client *http.Client, url string, im images) op {
	head := []byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"bench.jpg\"\r\n" +
		"Content-Type: image/jpeg\r\n\r\n")
	tail := []byte("\r\n--" + boundary + "--\r\n")
	return func(ctx context.Context, i int) error {
		v := im.get(i)
		body := io.MultiReader(bytes.NewReader(head), bytes.NewReader(v.head), bytes.NewReader(v.rest), bytes.NewReader(tail))
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/upload", body)
		if err != nil {
			return fmt.Errorf("new request: %w", err)
		}
		req.ContentLength = int64(len(head) + v.Len() + len(tail))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		resp, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("POST /upload: %w", err)
		}
		defer resp.Body.Close()
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return fmt.Errorf("POST /upload: read answer: %w", err)
		}
		var out struct {
			Key string `json:"key"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.Key == "" {
			return fmt.Errorf("POST /upload = %d %.200s", resp.StatusCode, raw)
		}
		return nil
	}
}

// ceilingOp makes the two backend calls of one upload directly, as upload
// and rekog make them: PutObject with the SHA-256 checksum (which upload
// computes for the key anyway) and DetectLabels of that object with the
// services' default options. No HTTP hop, no multipart, no services.
func ceilingOp(s3c *s3.Client, rk *rekognition.Client, bucket string, im images) op {
	return func(ctx context.Context, i int) error {
		data := im.get(i).Bytes()
		sum := sha256.Sum256(data)
		key := fmt.Sprintf("uploads/%x.jpg", sum)
		_, err := s3c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
			ContentLength: aws.Int64(int64(len(data))), ContentType: aws.String("image/jpeg"),
			ChecksumSHA256: aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		})
		if err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
		_, err = rk.DetectLabels(ctx, &rekognition.DetectLabelsInput{
			Image:         &types.Image{S3Object: &types.S3Object{Bucket: aws.String(bucket), Name: aws.String(key)}},
			MaxLabels:     aws.Int32(10),
			MinConfidence: aws.Float32(70),
			Features:      []types.DetectLabelsFeatureName{types.DetectLabelsFeatureNameGeneralLabels},
		})
		if err != nil {
			return fmt.Errorf("detect labels %s: %w", key, err)
		}
		return nil
	}
}
