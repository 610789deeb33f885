package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"imagelabel/app/internal/api"
	"imagelabel/internal/testutil"
)

// Load suite sizes: issue 9's "2,000 distinct images at concurrency 64".
// The images are small (a few hundred bytes) so the run stays short under
// -race on two cores; the big-image figures come from the benchmark.
const (
	loadImages      = 2000
	loadConcurrency = 64
	loadBudget      = 5 * time.Minute
)

// distinctPNG returns image i of the load: 12x12 pixels whose colours are
// derived from i, so no two images (and no two keys) are equal.
func distinctPNG(tb testing.TB, i int) []byte {
	tb.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 12, 12))
	for y := range 12 {
		for x := range 12 {
			img.Set(x, y, color.NRGBA{uint8(i), uint8(i >> 8), uint8(x*20 + y), 255})
		}
	}
	return testutil.EncodePNG(tb, img)
}

func multipartBody(tb testing.TB, data []byte) (body []byte, contentType string) {
	tb.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	// One boundary for all bodies, so one Content-Type fits every body.
	err := mw.SetBoundary("imagelabel-load-boundary")
	var fw io.Writer
	if err == nil {
		fw, err = mw.CreateFormFile("file", "load.png")
	}
	if err == nil {
		_, err = fw.Write(data)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		tb.Fatalf("multipart body: %v", err)
	}
	return b.Bytes(), mw.FormDataContentType()
}

// TestLoadDistinctImages sends 2,000 distinct images at concurrency 64
// through the whole local system and requires: no error at all, every
// answer naming the content-addressed key of what was sent, exactly 2,000
// objects in the bucket, and every object byte-equal to its image.
func TestLoadDistinctImages(t *testing.T) {
	if testing.Short() {
		t.Skip("load suite: skipped with -short")
	}
	sys := Start(t, map[string]string{"LOG_LEVEL": "warn"})
	want := make(map[string][]byte, loadImages) // key -> bytes sent
	bodies := make([][]byte, loadImages)
	var ctype string
	for i := range loadImages {
		data := distinctPNG(t, i)
		sum := sha256.Sum256(data)
		key := api.KeyPrefix + hex.EncodeToString(sum[:]) + ".png"
		if _, dup := want[key]; dup {
			t.Fatalf("image %d repeats an earlier one; the load needs distinct images", i)
		}
		want[key] = data
		bodies[i], ctype = multipartBody(t, data)
	}

	ctx, cancel := context.WithTimeout(context.Background(), loadBudget)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: loadConcurrency}}
	defer client.CloseIdleConnections()
	var (
		next   atomic.Int64
		mu     sync.Mutex
		failed []string
		wg     sync.WaitGroup
	)
	start := time.Now()
	for range loadConcurrency {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < loadImages && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				if err := postImage(ctx, client, sys.URL, bodies[i], ctype, want); err != nil {
					mu.Lock()
					failed = append(failed, fmt.Sprintf("image %d: %v", i, err))
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d uploads at concurrency %d in %v", loadImages, loadConcurrency, time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		t.Fatalf("the load did not finish within %v", loadBudget)
	}
	if len(failed) > 0 {
		t.Fatalf("%d of %d uploads failed; first: %s", len(failed), loadImages, failed[0])
	}
	checkStored(t, sys, want)
}

// postImage uploads one image and checks the answer names its key and size.
func postImage(ctx context.Context, client *http.Client, base string, body []byte, ctype string, want map[string][]byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/upload", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("POST /upload: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("POST /upload: read answer: %w", err)
	}
	var out api.UploadResponse
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil {
		return fmt.Errorf("POST /upload = %d %.300s; want 200", resp.StatusCode, raw)
	}
	data, ok := want[out.Key]
	if !ok || out.Size != int64(len(data)) || out.Labels == nil {
		return fmt.Errorf("POST /upload answered key %q size %d labels %v; not an image of this load", out.Key, out.Size, out.Labels)
	}
	return nil
}

// checkStored lists the bucket and reads every object back from the
// stand-in itself (not through the services).
func checkStored(t *testing.T, sys *System, want map[string][]byte) {
	t.Helper()
	keys := listKeys(t, sys)
	if len(keys) != len(want) {
		t.Errorf("bucket holds %d objects; want %d", len(keys), len(want))
	}
	for _, k := range keys {
		data, ok := want[k]
		if !ok {
			t.Errorf("object %s was never sent", k)
			continue
		}
		rec := s3Do(sys, http.MethodGet, "/"+Bucket+"/"+k)
		if rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), data) {
			t.Errorf("GET %s = %d, %d bytes; want 200 and the %d bytes sent", k, rec.Code, rec.Body.Len(), len(data))
		}
	}
}

// s3Do serves one S3 request with the stand-in's handler, addressed to a
// loopback host as the services address it.
func s3Do(sys *System, method, target string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	req.Host = "127.0.0.1"
	rec := httptest.NewRecorder()
	sys.AWS.ServeHTTP(rec, req)
	return rec
}

// listKeys pages through ListObjectsV2 of the bucket.
func listKeys(t *testing.T, sys *System) []string {
	t.Helper()
	var keys []string
	token := ""
	for page := 0; ; page++ {
		if page > 100 {
			t.Fatalf("ListObjectsV2: more than 100 pages")
		}
		q := url.Values{"list-type": {"2"}, "prefix": {api.KeyPrefix}}
		if token != "" {
			q.Set("continuation-token", token)
		}
		rec := s3Do(sys, http.MethodGet, "/"+Bucket+"?"+q.Encode())
		var out struct {
			Contents              []struct{ Key string }
			IsTruncated           bool
			NextContinuationToken string
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("ListObjectsV2 = %d %s", rec.Code, rec.Body)
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		for _, c := range out.Contents {
			keys = append(keys, c.Key)
		}
		if !out.IsTruncated {
			return keys
		}
		token = out.NextContinuationToken
	}
}
