package localaws

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/johannesboyne/gofakes3"
)

// serveS3 prepares an S3 request for gofakes3 and hands it over. gofakes3
// v1.2.0 understands only the signed streaming encoding
// (STREAMING-AWS4-HMAC-SHA256-PAYLOAD); recent SDKs send checksums as
// aws-chunked trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER) by default, so
// bodies of object writes are decoded here, their checksums verified, and
// request-only headers dropped so they are not stored as object metadata.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request) {
	bucket, key := splitS3Path(r.URL.Path)
	if bucket != "" {
		if err := gofakes3.ValidateBucketName(bucket); err != nil {
			// Also keeps Dir/.localaws (the metadata store) out of reach.
			writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "/"+bucket)
			return
		}
	}
	if s.dirMode && key != "" && !fileSafeKey(key) {
		// A key with "." / ".." / empty segments cannot be a plain file under
		// Dir/<bucket>/ without escaping or aliasing another key.
		writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument",
			"this key cannot be stored as a file (empty, '.' or '..' path segment); use the in-memory store", r.URL.Path)
		return
	}

	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		release, err := s.admit(r.Context(), bodyCharge(r, key))
		if err != nil {
			s.log.Info("s3 write: caller gone while waiting for memory", "path", r.URL.Path, "err", err)
			w.WriteHeader(statusClientClosed)
			return
		}
		defer release()
		if key != "" {
			if code, msg, err := prepareObjectBody(r); err != nil {
				status := http.StatusBadRequest
				if errors.Is(err, errBodyTooLarge) {
					code, msg = "EntityTooLarge", fmt.Sprintf("Your proposed upload exceeds the maximum allowed size of %d bytes", MaxObjectBytes)
				}
				writeS3Error(w, r, status, code, msg, r.URL.Path)
				return
			}
		} else {
			r.Body = http.MaxBytesReader(w, r.Body, maxBucketBody)
		}
	}
	if r.Header.Get("Range") != "" {
		// A whole-object checksum stored with the object does not describe a
		// range; real S3 omits it there, and the SDK would fail validation.
		w = &dropChecksumWriter{ResponseWriter: w}
	}
	s.s3.ServeHTTP(w, r)
}

// maxBucketBody bounds the body of a bucket-level write (DeleteObjects'
// key list, bucket configuration).
const maxBucketBody = 1 << 20

// rawObjectLimit bounds an object write's body as sent: aws-chunked framing
// adds ~90 bytes per chunk (64 KiB chunks by default); 1 MiB of slack
// covers it.
const rawObjectLimit = MaxObjectBytes + 1<<20

// bodyCharge is what a write's body is admitted at before it is read: its
// Content-Length (net/http reads no further), or the most it may be. An
// object body is buffered once (aws-chunked framing is decoded in place);
// a bucket-level body is read whole by gofakes3 and parsed into as much
// again.
func bodyCharge(r *http.Request, key string) int64 {
	limit := int64(rawObjectLimit)
	if key == "" {
		limit = maxBucketBody
	}
	n := limit
	if r.ContentLength >= 0 && r.ContentLength < limit {
		n = r.ContentLength
	}
	if key == "" {
		n *= 2
	}
	return n
}

func splitS3Path(p string) (bucket, key string) {
	p = strings.TrimPrefix(p, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

func fileSafeKey(key string) bool {
	for seg := range strings.SplitSeq(key, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return !strings.ContainsRune(key, 0)
}

// requestOnlyHeaders describe the request, not the object; gofakes3 would
// otherwise store every X-Amz-* header and echo it on GET.
var requestOnlyHeaders = []string{
	"X-Amz-Content-Sha256", "X-Amz-Date", "X-Amz-Decoded-Content-Length",
	"X-Amz-Trailer", "X-Amz-Sdk-Checksum-Algorithm", "X-Amz-Security-Token",
	"X-Amz-User-Agent", "X-Amz-Checksum-Type",
}

// prepareObjectBody buffers an object-write body (bounded by MaxObjectBytes),
// decodes aws-chunked encoding, verifies x-amz-checksum-* values from headers
// or trailers, and rewrites the request so gofakes3 sees a plain body with an
// exact Content-Length. It returns an S3 error code and message on failure.
func prepareObjectBody(r *http.Request) (code, msg string, err error) {
	const rawLimit = rawObjectLimit
	if r.ContentLength > rawLimit {
		_ = r.Body.Close()
		return "", "", errBodyTooLarge
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, rawLimit+1))
	_ = r.Body.Close()
	if err != nil {
		return "IncompleteBody", "reading body: " + err.Error(), err
	}
	if len(raw) > rawLimit {
		return "", "", errBodyTooLarge
	}
	sha := r.Header.Get("X-Amz-Content-Sha256")
	encodings := splitList(r.Header.Get("Content-Encoding"))
	chunked := strings.HasPrefix(sha, "STREAMING-")
	var rest []string
	for _, e := range encodings {
		if strings.EqualFold(e, "aws-chunked") {
			chunked = true
			continue
		}
		rest = append(rest, e)
	}
	body := raw
	var trailers http.Header
	if chunked {
		body, trailers, err = decodeAWSChunked(raw)
		if err != nil {
			return "IncompleteBody", "decoding aws-chunked body: " + err.Error(), err
		}
		if dl := r.Header.Get("X-Amz-Decoded-Content-Length"); dl != "" {
			n, perr := strconv.ParseInt(dl, 10, 64)
			if perr != nil || n != int64(len(body)) {
				err := fmt.Errorf("decoded %d bytes, x-amz-decoded-content-length says %q", len(body), dl)
				return "IncompleteBody", err.Error(), err
			}
		}
	}
	if len(body) > MaxObjectBytes {
		return "", "", errBodyTooLarge
	}
	for name, vals := range trailers {
		if strings.HasPrefix(name, "X-Amz-Checksum-") && len(vals) > 0 {
			r.Header.Set(name, vals[0])
		}
	}
	// On a PUT (object or part) x-amz-checksum-* describe this body; on a
	// POST (CompleteMultipartUpload) they describe the assembled object.
	if r.Method == http.MethodPut {
		if code, msg, err := verifyChecksums(r.Header, body); err != nil {
			return code, msg, err
		}
	}
	if len(rest) > 0 {
		r.Header.Set("Content-Encoding", strings.Join(rest, ","))
	} else {
		r.Header.Del("Content-Encoding")
	}
	for _, h := range requestOnlyHeaders {
		r.Header.Del(h)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
	r.TransferEncoding = nil
	return "", "", nil
}

func splitList(v string) []string {
	var out []string
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// decodeAWSChunked decodes the aws-chunked content encoding: chunks of
// "<hex size>[;chunk-signature=...]\r\n<data>\r\n", a zero-size chunk, then
// optional trailer lines "name:value\r\n" and a final "\r\n". Signatures are
// not checked (localaws does not check signatures at all).
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html
// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html
//
// The data is decoded in place, into raw itself: every chunk moves toward
// the start, never past data not yet read, so the body is held once.
func decodeAWSChunked(raw []byte) ([]byte, http.Header, error) {
	out := raw[:0]
	rest := raw
	readLine := func() ([]byte, bool) {
		i := bytes.Index(rest, []byte("\r\n"))
		if i < 0 {
			return nil, false
		}
		line := rest[:i]
		rest = rest[i+2:]
		return line, true
	}
	for {
		line, ok := readLine()
		if !ok {
			return nil, nil, errors.New("truncated chunk header")
		}
		sizeHex, _, _ := bytes.Cut(line, []byte(";"))
		size, err := strconv.ParseInt(strings.TrimSpace(string(sizeHex)), 16, 64)
		if err != nil || size < 0 {
			return nil, nil, fmt.Errorf("bad chunk size %q", sizeHex)
		}
		if size == 0 {
			break
		}
		if int64(len(rest)) < size+2 {
			return nil, nil, errors.New("truncated chunk")
		}
		if !bytes.Equal(rest[size:size+2], []byte("\r\n")) {
			return nil, nil, errors.New("chunk not terminated by CRLF")
		}
		out = append(out, rest[:size]...) // copy handles the overlap
		rest = rest[size+2:]
	}
	trailers := http.Header{}
	for len(rest) > 0 {
		line, ok := readLine()
		if !ok {
			// Tolerate a last trailer without CRLF.
			line, rest = rest, nil
		}
		if len(line) == 0 {
			break
		}
		name, val, found := bytes.Cut(line, []byte(":"))
		if !found {
			return nil, nil, fmt.Errorf("bad trailer line %q", line)
		}
		trailers.Add(strings.TrimSpace(string(name)), strings.TrimSpace(string(val)))
	}
	return out, trailers, nil
}

// crc64NVME is the CRC-64/NVME table (reversed polynomial), the algorithm
// S3 calls CRC64NVME.
var crc64NVME = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// verifyChecksums checks every x-amz-checksum-<alg> header it knows against
// body, as S3 does; a mismatch is S3's BadDigest.
// https://docs.aws.amazon.com/AmazonS3/latest/userguide/checking-object-integrity.html
func verifyChecksums(h http.Header, body []byte) (code, msg string, err error) {
	algs := map[string]func() hash.Hash{
		"X-Amz-Checksum-Crc32":     func() hash.Hash { return crc32.NewIEEE() },
		"X-Amz-Checksum-Crc32c":    func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) },
		"X-Amz-Checksum-Crc64nvme": func() hash.Hash { return crc64.New(crc64NVME) },
		"X-Amz-Checksum-Sha1":      sha1.New,
		"X-Amz-Checksum-Sha256":    sha256.New,
	}
	for name, mk := range algs {
		want := h.Get(name)
		if want == "" {
			continue
		}
		hs := mk()
		hs.Write(body)
		got := base64.StdEncoding.EncodeToString(hs.Sum(nil))
		if got != want {
			alg := strings.ToUpper(strings.TrimPrefix(name, "X-Amz-Checksum-"))
			err := fmt.Errorf("%s checksum %s does not match body (%s)", alg, want, got)
			return "BadDigest", fmt.Sprintf("The %s you specified did not match the calculated checksum.", alg), err
		}
	}
	return "", "", nil
}

// dropChecksumWriter removes whole-object checksum headers from a response.
type dropChecksumWriter struct {
	http.ResponseWriter
	done bool
}

func (d *dropChecksumWriter) strip() {
	if d.done {
		return
	}
	d.done = true
	for k := range d.Header() {
		if strings.HasPrefix(http.CanonicalHeaderKey(k), "X-Amz-Checksum-") {
			d.Header().Del(k)
		}
	}
}

func (d *dropChecksumWriter) WriteHeader(code int) { d.strip(); d.ResponseWriter.WriteHeader(code) }
func (d *dropChecksumWriter) Write(p []byte) (int, error) {
	d.strip()
	return d.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (d *dropChecksumWriter) Unwrap() http.ResponseWriter { return d.ResponseWriter }

// s3Error is S3's XML error document.
// https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
type s3Error struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId"`
}

func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code, msg, resource string) {
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("X-Amz-Request-Id", "localaws")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	_, _ = io.WriteString(w, xml.Header)
	_ = xml.NewEncoder(w).Encode(s3Error{Code: code, Message: msg, Resource: resource, RequestID: "localaws"})
}
