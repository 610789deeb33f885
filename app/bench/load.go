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

	"imagelabel/app/internal/api"
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

// meter accumulates the latencies, errors and busy time of one kind of
// operation over several rounds, so the system and its ceiling can be
// measured in alternating rounds that see the same background load.
type meter struct {
	mu      sync.Mutex
	lat     []time.Duration
	errors  int
	first   string
	elapsed time.Duration
}

// round runs ops from .. from+n-1 with conc workers and records each.
func (m *meter) round(ctx context.Context, conc, from, n int, do op) {
	t0 := time.Now()
	runPhase(ctx, conc, from, n, do, func(_ int, d time.Duration, err error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.lat = append(m.lat, d)
		if err != nil {
			m.errors++
			if m.first == "" {
				m.first = err.Error()
			}
		}
	})
	m.elapsed += time.Since(t0)
}

func (m *meter) result() loadResult {
	lat := slices.Sorted(slices.Values(m.lat))
	r := loadResult{N: len(lat), Errors: m.errors, Elapsed: m.elapsed, FirstError: m.first,
		P50: percentile(lat, 50), P90: percentile(lat, 90), P99: percentile(lat, 99)}
	if m.elapsed > 0 {
		r.PerSecond = float64(len(lat)) / m.elapsed.Seconds()
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
		key := fmt.Sprintf("%s%x.jpg", api.KeyPrefix, sum)
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
			MaxLabels:     aws.Int32(api.DefaultMaxLabels),
			MinConfidence: aws.Float32(api.DefaultMinConf),
			Features:      []types.DetectLabelsFeatureName{types.DetectLabelsFeatureNameGeneralLabels},
		})
		if err != nil {
			return fmt.Errorf("detect labels %s: %w", key, err)
		}
		return nil
	}
}
