package localaws

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"image/color"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	rektypes "github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"imagelabel/internal/testutil"
)

const testBucket = "images"

type testEnv struct {
	srv *Server
	hs  *httptest.Server
	s3  *s3.Client
	rek *rekognition.Client
}

// newEnv starts a Server on an httptest server and real SDK clients pointed
// at it the way the services configure them (BaseEndpoint, path-style,
// static credentials).
func newEnv(t *testing.T, opts Options, optFns ...func(*aws.Config)) *testEnv {
	t.Helper()
	return newEnvTLS(t, opts, false, optFns...)
}

// newEnvTLS is newEnv over HTTPS when useTLS: the SDK then streams bodies
// with aws-chunked encoding and a trailing checksum instead of a header.
func newEnvTLS(t *testing.T, opts Options, useTLS bool, optFns ...func(*aws.Config)) *testEnv {
	t.Helper()
	if opts.Buckets == nil {
		opts.Buckets = []string{testBucket}
	}
	if opts.Logger == nil && testing.Verbose() {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	var hs *httptest.Server
	if useTLS {
		hs = httptest.NewTLSServer(srv)
	} else {
		hs = httptest.NewServer(srv)
	}
	t.Cleanup(hs.Close)
	cfg := aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
		BaseEndpoint: aws.String(hs.URL),
		HTTPClient:   hs.Client(),
		// What config.LoadDefaultConfig sets: CRC32 on every PutObject (a
		// header over HTTP, an aws-chunked trailer over HTTPS) and
		// validation of returned checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}
	for _, fn := range optFns {
		fn(&cfg)
	}
	return &testEnv{
		srv: srv,
		hs:  hs,
		s3:  s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }),
		rek: rekognition.NewFromConfig(cfg),
	}
}

func noRetries(c *aws.Config) { c.RetryMaxAttempts = 1 }

func (e *testEnv) put(t *testing.T, key string, body []byte, contentType string) {
	t.Helper()
	_, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String(key),
		Body: bytes.NewReader(body), ContentType: aws.String(contentType),
	})
	if err != nil {
		t.Fatalf("PutObject(%q): %v", key, err)
	}
}

func (e *testEnv) get(t *testing.T, key string) ([]byte, *s3.GetObjectOutput) {
	t.Helper()
	out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject(%q): %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("GetObject(%q) body: %v", key, err)
	}
	return b, out
}

func TestS3RoundTripWithSDK(t *testing.T) {
	for _, mode := range []string{"memory", "dir", "memory-tls", "dir-tls", "dir-tls-unseekable"} {
		t.Run(mode, func(t *testing.T) {
			var opts Options
			if strings.HasPrefix(mode, "dir") {
				opts.Dir = t.TempDir()
			}
			e := newEnvTLS(t, opts, strings.Contains(mode, "tls"))
			ctx := context.Background()
			// Bigger than the SDK's 64 KiB aws-chunked chunk, so a chunked
			// upload has several chunks.
			body := bytes.Repeat([]byte("0123456789abcdef"), 20000)
			key := "uploads/" + strings.Repeat("ab", 32) + ".png"
			if strings.HasSuffix(mode, "unseekable") {
				// No length known up front: chunked transfer, no
				// x-amz-decoded-content-length (gofakes3 alone would refuse it).
				_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{
					Bucket: aws.String(testBucket), Key: aws.String(key),
					Body: io.MultiReader(bytes.NewReader(body)), ContentType: aws.String("image/png"),
				})
				if err != nil {
					t.Fatalf("PutObject(%q, unseekable): %v", key, err)
				}
			} else {
				e.put(t, key, body, "image/png")
			}

			got, out := e.get(t, key)
			if !bytes.Equal(got, body) {
				t.Fatalf("GetObject(%q) = %d bytes; want the %d bytes put", key, len(got), len(body))
			}
			if ct := aws.ToString(out.ContentType); ct != "image/png" {
				t.Errorf("GetObject(%q).ContentType = %q; want image/png", key, ct)
			}
			if aws.ToString(out.ChecksumCRC32) == "" {
				t.Errorf("GetObject(%q).ChecksumCRC32 is empty; want the CRC32 the SDK sent, kept and validated", key)
			}
			raw, err := e.hs.Client().Get(e.hs.URL + "/" + testBucket + "/" + key)
			if err != nil {
				t.Fatal(err)
			}
			raw.Body.Close()
			for _, h := range []string{"X-Amz-Date", "X-Amz-Content-Sha256", "X-Amz-Decoded-Content-Length", "X-Amz-Trailer", "Content-Encoding"} {
				if v := raw.Header.Get(h); v != "" {
					t.Errorf("GET %s has request-only header %s: %q", key, h, v)
				}
			}
			if ce := aws.ToString(out.ContentEncoding); ce != "" {
				t.Errorf("GetObject(%q).ContentEncoding = %q; want none (aws-chunked is request-only)", key, ce)
			}

			head, err := e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key)})
			if err != nil {
				t.Fatalf("HeadObject(%q): %v", key, err)
			}
			if aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ContentType) != "image/png" {
				t.Errorf("HeadObject(%q) = length %d type %q; want %d image/png", key,
					aws.ToInt64(head.ContentLength), aws.ToString(head.ContentType), len(body))
			}

			// Ranged reads must not carry the whole-object checksum.
			rng, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Range: aws.String("bytes=16-31")})
			if err != nil {
				t.Fatalf("GetObject(%q, range): %v", key, err)
			}
			part, _ := io.ReadAll(rng.Body)
			rng.Body.Close()
			if string(part) != "0123456789abcdef" {
				t.Errorf("GetObject(%q, bytes=16-31) = %q", key, part)
			}

			_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("uploads/missing.png")})
			var nf *s3types.NotFound
			if !errors.As(err, &nf) {
				t.Errorf("HeadObject(missing) err = %v; want *types.NotFound", err)
			}
			_, err = e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("uploads/missing.png")})
			var nsk *s3types.NoSuchKey
			if !errors.As(err, &nsk) {
				t.Errorf("GetObject(missing) err = %v; want *types.NoSuchKey", err)
			}
			_, err = e.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("no-such-bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchBucket" {
				t.Errorf("PutObject(no-such-bucket) err = %v; want NoSuchBucket", err)
			}

			// Listing and deleting, as a user of the local store would.
			e.put(t, "uploads/second.jpg", []byte("jpeg"), "image/jpeg")
			e.put(t, "other/third.txt", []byte("txt"), "text/plain")
			lo, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String("uploads/")})
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			var listed []string
			for _, o := range lo.Contents {
				listed = append(listed, aws.ToString(o.Key))
			}
			if want := []string{key, "uploads/second.jpg"}; strings.Join(listed, ",") != strings.Join(want, ",") {
				t.Errorf("ListObjectsV2(uploads/) = %v; want %v", listed, want)
			}
			if _, err := e.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(testBucket), Key: aws.String("other/third.txt")}); err != nil {
				t.Fatalf("DeleteObject: %v", err)
			}
			_, err = e.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("other/third.txt")})
			if !errors.As(err, new(*s3types.NotFound)) {
				t.Errorf("HeadObject after DeleteObject err = %v; want NotFound", err)
			}

			if opts.Dir != "" {
				onDisk, err := os.ReadFile(filepath.Join(opts.Dir, testBucket, filepath.FromSlash(key)))
				if err != nil || !bytes.Equal(onDisk, body) {
					t.Fatalf("file %s/%s: %d bytes, err %v; want the %d bytes put", testBucket, key, len(onDisk), err, len(body))
				}
				// A new server over the same directory sees the object and its
				// metadata.
				e2 := newEnv(t, Options{Dir: opts.Dir})
				got, out := e2.get(t, key)
				if !bytes.Equal(got, body) || aws.ToString(out.ContentType) != "image/png" {
					t.Errorf("after restart GetObject(%q) = %d bytes, type %q; want %d bytes, image/png",
						key, len(got), aws.ToString(out.ContentType), len(body))
				}
				// The bucket listing shows only real buckets, not the metadata dir.
				lb, err := e2.s3.ListBuckets(ctx, &s3.ListBucketsInput{})
				if err != nil {
					t.Fatalf("ListBuckets: %v", err)
				}
				if len(lb.Buckets) != 1 || aws.ToString(lb.Buckets[0].Name) != testBucket {
					t.Errorf("ListBuckets = %v; want only %q", lb.Buckets, testBucket)
				}
			}
		})
	}
}

// TestS3ChecksumAlgorithms puts with each checksum algorithm the SDK offers;
// each is sent as an aws-chunked trailer and must be verified and kept.
func TestS3ChecksumAlgorithms(t *testing.T) {
	e := newEnv(t, Options{})
	for _, alg := range []s3types.ChecksumAlgorithm{
		s3types.ChecksumAlgorithmCrc32, s3types.ChecksumAlgorithmCrc32c,
		s3types.ChecksumAlgorithmSha1, s3types.ChecksumAlgorithmSha256,
		s3types.ChecksumAlgorithmCrc64nvme,
	} {
		key := "alg/" + string(alg)
		body := []byte("checksummed with " + string(alg))
		_, err := e.s3.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String(testBucket), Key: aws.String(key),
			Body: bytes.NewReader(body), ChecksumAlgorithm: alg,
		})
		if err != nil {
			t.Errorf("PutObject(%s): %v", alg, err)
			continue
		}
		out, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{
			Bucket: aws.String(testBucket), Key: aws.String(key), ChecksumMode: s3types.ChecksumModeEnabled,
		})
		if err != nil {
			t.Errorf("GetObject(%s): %v", alg, err)
			continue
		}
		got, err := io.ReadAll(out.Body) // the SDK validates the checksum at EOF
		out.Body.Close()
		if err != nil || !bytes.Equal(got, body) {
			t.Errorf("GetObject(%s) = %q, %v; want %q", alg, got, err, body)
		}
	}
}

func TestS3RejectsBadChecksumAndFraming(t *testing.T) {
	e := newEnv(t, Options{})
	url := e.hs.URL + "/" + testBucket + "/k"
	tests := []struct {
		name     string
		headers  map[string]string
		body     string
		wantCode string
	}{
		{
			name:     "bad crc32 header",
			headers:  map[string]string{"X-Amz-Checksum-Crc32": "AAAAAA=="},
			body:     "hello",
			wantCode: "BadDigest",
		},
		{
			name: "bad crc32 trailer",
			headers: map[string]string{
				"Content-Encoding": "aws-chunked", "X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
				"X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Decoded-Content-Length": "5",
			},
			body:     "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
			wantCode: "BadDigest",
		},
		{
			name:     "truncated chunk",
			headers:  map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
			body:     "50\r\nhello",
			wantCode: "IncompleteBody",
		},
		{
			name:     "bad chunk size",
			headers:  map[string]string{"Content-Encoding": "aws-chunked"},
			body:     "zz\r\nhello\r\n0\r\n\r\n",
			wantCode: "IncompleteBody",
		},
		{
			name:     "decoded length mismatch",
			headers:  map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "9"},
			body:     "5\r\nhello\r\n0\r\n\r\n",
			wantCode: "IncompleteBody",
		},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(http.MethodPut, url, strings.NewReader(tt.body))
		for k, v := range tt.headers {
			req.Header.Set(k, v)
		}
		resp, err := e.hs.Client().Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "<Code>"+tt.wantCode+"</Code>") {
			t.Errorf("%s: PUT = %d %s; want 400 %s", tt.name, resp.StatusCode, b, tt.wantCode)
		}
	}
	// Nothing was stored by the refused puts.
	_, err := e.s3.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
	var nf *s3types.NotFound
	if !errors.As(err, &nf) {
		t.Errorf("HeadObject after refused puts err = %v; want NotFound", err)
	}
}

func TestS3SignedStreamingChunks(t *testing.T) {
	// The signed streaming format (chunk signatures, as older SDKs and the
	// CLI send over HTTP) decodes too; signatures are not checked.
	e := newEnv(t, Options{})
	sig := strings.Repeat("f", 64)
	body := fmt.Sprintf("5;chunk-signature=%s\r\nhello\r\n6;chunk-signature=%s\r\n world\r\n0;chunk-signature=%s\r\n\r\n", sig, sig, sig)
	req, _ := http.NewRequest(http.MethodPut, e.hs.URL+"/"+testBucket+"/signed", strings.NewReader(body))
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
	req.Header.Set("X-Amz-Decoded-Content-Length", "11")
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("Content-Type", "text/plain")
	resp, err := e.hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("signed streaming PUT = %d; want 200", resp.StatusCode)
	}
	got, out := e.get(t, "signed")
	if string(got) != "hello world" || aws.ToString(out.ContentType) != "text/plain" {
		t.Errorf("GetObject(signed) = %q, %q; want %q, text/plain", got, aws.ToString(out.ContentType), "hello world")
	}
}

func TestS3BoundsAndBadPaths(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, Options{Dir: dir})
	do := func(method, path string, body io.Reader, size int64) (int, string) {
		req, _ := http.NewRequest(method, e.hs.URL+path, body)
		if size >= 0 {
			req.ContentLength = size
		}
		resp, err := e.hs.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := do(http.MethodPut, "/"+testBucket+"/big", io.LimitReader(zeroReader{}, MaxObjectBytes+2<<20), MaxObjectBytes+2<<20); code != http.StatusBadRequest || !strings.Contains(body, "EntityTooLarge") {
		t.Errorf("PUT of %d bytes = %d %s; want 400 EntityTooLarge", MaxObjectBytes+2<<20, code, body)
	}
	// Through ".." a key could escape its bucket directory.
	if code, body := do(http.MethodPut, "/"+testBucket+"/a/../../x", strings.NewReader("x"), -1); code != http.StatusBadRequest || !strings.Contains(body, "InvalidArgument") {
		t.Errorf("PUT a/../../x = %d %s; want 400 InvalidArgument", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("file %s/x exists after a refused PUT", dir)
	}
	if code, _ := do(http.MethodGet, "/.localaws/metadata", nil, -1); code != http.StatusNotFound {
		t.Errorf("GET /.localaws/metadata = %d; want 404 (metadata is not a bucket)", code)
	}
	if code, _ := do(http.MethodGet, "/_localaws/other", nil, -1); code != http.StatusNotFound {
		t.Errorf("GET /_localaws/other = %d; want 404", code)
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestHealth(t *testing.T) {
	e := newEnv(t, Options{})
	resp, err := e.hs.Client().Get(e.hs.URL + HealthPath)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != `{"status":"ok"}` {
		t.Errorf("GET %s = %d %q; want 200 {\"status\":\"ok\"}", HealthPath, resp.StatusCode, b)
	}
}

func TestNewBuckets(t *testing.T) {
	dir := t.TempDir()
	for range 2 { // idempotent across restarts
		if _, err := New(Options{Dir: dir, Buckets: []string{"a-bucket", " other-bucket ", ""}}); err != nil {
			t.Fatalf("New(buckets): %v", err)
		}
	}
	for _, b := range []string{"a-bucket", "other-bucket"} {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || !st.IsDir() {
			t.Errorf("bucket dir %s: %v", b, err)
		}
	}
	if _, err := New(Options{Buckets: []string{"Bad_Bucket"}}); err == nil {
		t.Errorf("New(Buckets: Bad_Bucket) = nil error; want invalid bucket name")
	}
}

func TestS3CopyMultipartAndHandPlacedFiles(t *testing.T) {
	dir := t.TempDir()
	e := newEnvTLS(t, Options{Dir: dir}, true)
	ctx := context.Background()
	e.put(t, "src.txt", []byte("copy me"), "text/plain")
	if _, err := e.s3.CopyObject(ctx, &s3.CopyObjectInput{
		Bucket: aws.String(testBucket), Key: aws.String("dst.txt"), CopySource: aws.String(testBucket + "/src.txt"),
	}); err != nil {
		t.Fatalf("CopyObject: %v", err)
	}
	if got, out := e.get(t, "dst.txt"); string(got) != "copy me" || aws.ToString(out.ContentType) != "text/plain" {
		t.Errorf("copied object = %q %q; want %q text/plain", got, aws.ToString(out.ContentType), "copy me")
	}

	// Multipart: parts of 5 MiB (S3's minimum but for the last) streamed
	// aws-chunked over TLS with CRC32 trailers.
	key := "multi.bin"
	mp, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(testBucket), Key: aws.String(key), ContentType: aws.String("application/octet-stream")})
	if err != nil {
		t.Fatalf("CreateMultipartUpload: %v", err)
	}
	parts := [][]byte{bytes.Repeat([]byte("a"), 5<<20), []byte("tail")}
	var completed []s3types.CompletedPart
	for i, p := range parts {
		up, err := e.s3.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p),
		})
		if err != nil {
			t.Fatalf("UploadPart %d: %v", i+1, err)
		}
		completed = append(completed, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1)), ChecksumCRC32: up.ChecksumCRC32})
	}
	if _, err := e.s3.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(testBucket), Key: aws.String(key), UploadId: mp.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: completed},
	}); err != nil {
		t.Fatalf("CompleteMultipartUpload: %v", err)
	}
	if got, _ := e.get(t, key); !bytes.Equal(got, bytes.Join(parts, nil)) {
		t.Errorf("multipart object = %d bytes; want %d", len(got), 5<<20+4)
	}

	// Files placed or edited by hand in a bucket directory are served with
	// the right ETag (s3afero alone answers 500, or hashes its JSON).
	handPath := filepath.Join(dir, testBucket, "hand", "by-hand.png")
	for i, content := range [][]byte{testutil.EncodePNG(t, solid(30, 30, color.RGBA{200, 0, 0, 255})), []byte("edited later")} {
		_ = os.MkdirAll(filepath.Dir(handPath), 0o755)
		if err := os.WriteFile(handPath, content, 0o644); err != nil {
			t.Fatal(err)
		}
		got, out := e.get(t, "hand/by-hand.png")
		wantETag := fmt.Sprintf(`"%x"`, md5.Sum(content))
		if !bytes.Equal(got, content) || aws.ToString(out.ETag) != wantETag || aws.ToString(out.ContentType) != "image/png" {
			t.Errorf("hand-placed file (version %d) = %d bytes, ETag %s, type %q; want %d bytes, ETag %s, image/png",
				i, len(got), aws.ToString(out.ETag), aws.ToString(out.ContentType), len(content), wantETag)
		}
		lo, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket), Prefix: aws.String("hand/")})
		if err != nil || len(lo.Contents) != 1 || aws.ToString(lo.Contents[0].ETag) != wantETag {
			t.Errorf("ListObjectsV2(hand/) = %v, %v; want one object with ETag %s", lo, err, wantETag)
		}
		if i == 0 {
			out, err := e.rek.DetectLabels(ctx, &rekognition.DetectLabelsInput{Image: &rektypes.Image{S3Object: &rektypes.S3Object{Bucket: aws.String(testBucket), Name: aws.String("hand/by-hand.png")}}})
			if err != nil || !slices.Contains(labelNames(out.Labels), "Red") {
				t.Errorf("DetectLabels(hand-placed red png) = %v, %v; want Red", out, err)
			}
		}
		// Make sure the edit changes the modification time the check sees.
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPanicIsA500(t *testing.T) {
	e := newEnv(t, Options{}, noRetries)
	e.srv.s3 = http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") })
	_, err := e.s3.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InternalError" {
		t.Errorf("GetObject with a panicking S3 handler = %v; want InternalError 500", err)
	}
}
