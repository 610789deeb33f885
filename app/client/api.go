package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// label is one label as the API returns it.
type label struct {
	Name       string   `json:"name"`
	Confidence float64  `json:"confidence"`
	Parents    []string `json:"parents"`
	Categories []string `json:"categories"`
}

// labelsResult is the body of POST /upload and GET /labels/{key}; the
// upload-only fields are zero for the latter.
type labelsResult struct {
	Key         string  `json:"key"`
	Size        int64   `json:"size"`
	ContentType string  `json:"contentType"`
	Labels      []label `json:"labels"`
}

// apiError is a non-2xx answer of the API, reduced to what a person reads.
type apiError struct {
	Status  int
	Code    string // the API's error.code; "" when the body was not the API's JSON
	Message string // the API's error.message, API Gateway's message, or the status text
	Key     string // set when the image was stored but labeling failed
}

func (e *apiError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
	}
	return fmt.Sprintf("%d %s", e.Status, e.Message)
}

// newAPIError reads an error body: the services' {"error":{"code","message"},"key"},
// API Gateway's own {"message"} (throttling, 5xx before reaching upload), a
// short text body (Go's http.Error), or nothing usable (the status text).
func newAPIError(status int, body []byte) *apiError {
	e := &apiError{Status: status}
	var b struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
		Key     string `json:"key"`
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.Key = b.Key
		if b.Error != nil && b.Error.Message != "" {
			e.Code, e.Message = b.Error.Code, b.Error.Message
			return e
		}
		if b.Message != "" {
			e.Message = b.Message
			return e
		}
	}
	text := strings.TrimSpace(string(body))
	if line, _, _ := strings.Cut(text, "\n"); text != "" && !strings.HasPrefix(text, "<") && !strings.HasPrefix(text, "{") && len(line) <= 200 {
		e.Message = line
		return e
	}
	e.Message = http.StatusText(status)
	if e.Message == "" {
		e.Message = "unexpected status"
	}
	return e
}

// apiClient calls the API at base. Every request is bounded by timeout.
type apiClient struct {
	base    *url.URL
	timeout time.Duration
	http    *http.Client // nil = http.DefaultClient
	// signer, when set, signs every request (its transport is http's);
	// it names the credentials in a 403's explanation.
	signer *signingTransport

	identify     sync.Once
	identity     string // what answers at base when it is not upload; "" when it is (or unknown)
	identifyInfo map[string]any
}

func (c *apiClient) client() *http.Client {
	if c.http != nil {
		return c.http
	}
	return http.DefaultClient
}

// endpoint returns base joined with the path segments (each escaped) and query.
func (c *apiClient) endpoint(q url.Values, segs ...string) string {
	esc := make([]string, len(segs))
	for i, s := range segs {
		esc[i] = url.PathEscape(s)
	}
	u := c.base.JoinPath(esc...)
	u.RawQuery = q.Encode()
	return u.String()
}

// do sends req and returns the body of a 2xx answer, or an *apiError, or a
// transport error explained for a person.
func (c *apiClient) do(req *http.Request) ([]byte, error) {
	req.Header.Set("Accept", "application/json")
	res, err := c.client().Do(req)
	if err != nil {
		return nil, c.explain(req, err)
	}
	defer res.Body.Close()
	// Answers are small JSON documents; 4 MiB bounds a misbehaving server.
	body, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("read response of %s %s: %w", req.Method, req.URL.Redacted(), c.explain(req, err))
	}
	if res.StatusCode/100 != 2 {
		ae := newAPIError(res.StatusCode, body)
		// A 404 or 405 from the wrong service reads like a bad key or route;
		// say instead that the URL is not upload's, naming what answered.
		if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed {
			if who := c.whoAnswers(req.Context()); who != "" {
				return body, &notUploadError{base: c.base.Redacted(), who: who, answer: ae}
			}
		}
		return body, c.explainForbidden(ae)
	}
	return body, nil
}

// notUploadError is an error answer from a server that is not upload.
type notUploadError struct {
	base   string    // the base URL, redacted
	who    string    // what answers there, from whoAnswers
	answer *apiError // the answer it gave
}

func (e *notUploadError) Error() string {
	msg := fmt.Sprintf("%s does not look like the upload API: %s", e.base, e.who)
	// The answer adds something only when it is not the status who already
	// names ("answers 404 Not Found (got 404 Not Found)" says it twice).
	if e.answer.Code != "" || !strings.Contains(e.who, fmt.Sprintf("answers %d ", e.answer.Status)) {
		msg += fmt.Sprintf(" (got %v)", e.answer)
	}
	return msg
}

func (e *notUploadError) Unwrap() error { return e.answer }

// whoAnswers asks GET /getInfo once and returns "" when upload answers
// there, or a description of what does: the service its /getInfo names, or
// the status (and Server header) of a server that has no /getInfo.
func (c *apiClient) whoAnswers(ctx context.Context) string {
	c.identify.Do(func() {
		info, status, server, s3Code, err := c.getInfo(ctx)
		c.identifyInfo = info
		switch {
		case err != nil:
			// Unknown: keep the original error rather than guess.
		case status/100 == 2 && info != nil:
			if name, _ := info["name"].(string); name != "upload" {
				c.identity = fmt.Sprintf("its GET /getInfo names %q, not \"upload\"", name)
			}
		case s3Code != "":
			// localaws (or S3 itself): the address printed for localaws is
			// easily taken for the API's.
			c.identity = fmt.Sprintf("its GET /getInfo answers %d %s, an S3 error: this is S3 or localaws, not upload", status, s3Code)
		default:
			c.identity = fmt.Sprintf("its GET /getInfo answers %d %s", status, http.StatusText(status))
			if status/100 == 2 {
				c.identity += " but not upload's JSON"
			}
			if server != "" {
				c.identity += fmt.Sprintf(" (server %q)", server)
			}
		}
	})
	return c.identity
}

// s3ErrorCode returns the Code of an S3-style XML error body
// (<Error><Code>NoSuchBucket</Code>...), "" for any other body.
func s3ErrorCode(body []byte) string {
	var e struct {
		XMLName xml.Name `xml:"Error"`
		Code    string   `xml:"Code"`
	}
	if xml.Unmarshal(body, &e) != nil {
		return ""
	}
	return e.Code
}

// getInfo fetches GET /getInfo directly (not through do, which may call
// whoAnswers) and returns its JSON object, nil when the answer is not one,
// and the code of an S3-style XML error, "" when the answer is not one.
func (c *apiClient) getInfo(ctx context.Context) (info map[string]any, status int, server, s3Code string, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(nil, "getInfo"), nil)
	if err != nil {
		return nil, 0, "", "", err
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.client().Do(req)
	if err != nil {
		return nil, 0, "", "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, 0, "", "", err
	}
	if json.Unmarshal(body, &info) != nil {
		info = nil
	}
	return info, res.StatusCode, res.Header.Get("Server"), s3ErrorCode(body), nil
}

// explain rewords common transport failures so the fix is obvious.
func (c *apiClient) explain(req *http.Request, err error) error {
	host := req.URL.Host
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("cannot connect to %s: connection refused (is the service running? check --url or API_URL)", host)
	case errors.As(err, &dnsErr):
		return fmt.Errorf("cannot resolve %s (check --url or API_URL): %w", host, err)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("no answer from %s within --timeout %s", host, c.timeout)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%s %s: interrupted", req.Method, req.URL.Redacted())
	case errors.Is(err, http.ErrSchemeMismatch):
		plain := *c.base
		plain.Scheme = "http"
		return fmt.Errorf("%s answers plain HTTP, not HTTPS: use %s (check --url or API_URL)", host, plain.Redacted())
	}
	// A *url.Error names the method and URL again: "POST u: Post "u": ...".
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)
}

// get fetches the path made of segs and returns the 2xx body.
func (c *apiClient) get(ctx context.Context, q url.Values, segs ...string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint(q, segs...), nil)
	if err != nil {
		return nil, fmt.Errorf("build request for %s: %w", strings.Join(segs, "/"), err)
	}
	return c.do(req)
}

// labels fetches GET /labels/{key}; the key's "/" stay path separators.
func (c *apiClient) labels(ctx context.Context, key string, q url.Values) ([]byte, error) {
	return c.get(ctx, q, append([]string{"labels"}, strings.Split(key, "/")...)...)
}

// upload sends the file at path as multipart field "file" to POST /upload,
// calling progress(sent, total) as the file's bytes go out. The body is
// streamed from disk with an exact Content-Length (API Gateway and many
// proxies refuse or buffer chunked uploads).
func (c *apiClient) upload(ctx context.Context, path string, q url.Values, progress func(sent, total int64)) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file")
	}
	size := st.Size()
	sniff := make([]byte, 512)
	n, err := io.ReadFull(f, sniff)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}

	return c.postImage(ctx, filepath.Base(path), http.DetectContentType(sniff[:n]), io.LimitReader(f, size), size, q, progress)
}

// postImage sends size bytes of r as multipart field "file" (file name
// name) to POST /upload.
func (c *apiClient) postImage(ctx context.Context, name, contentType string, r io.Reader, size int64, q url.Values, progress func(sent, total int64)) ([]byte, error) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(textproto.MIMEHeader)
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	// The service decides by content; the part's type is only a courtesy.
	h.Set("Content-Type", contentType)
	if _, err := mw.CreatePart(h); err != nil {
		return nil, err
	}
	head := bytes.Clone(buf.Bytes())
	buf.Reset()
	if err := mw.Close(); err != nil {
		return nil, err
	}
	tail := buf.Bytes()

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body := io.MultiReader(bytes.NewReader(head), &countingReader{r: r, total: size, progress: progress}, bytes.NewReader(tail))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint(q, "upload"), body)
	if err != nil {
		return nil, fmt.Errorf("build upload request: %w", err)
	}
	req.ContentLength = int64(len(head)) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if progress != nil {
		progress(0, size)
	}
	return c.do(req)
}

// countingReader reports how many bytes of the file have been read (sent).
type countingReader struct {
	r        io.Reader
	sent     int64
	total    int64
	progress func(sent, total int64)
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.sent += int64(n)
	if n > 0 && cr.progress != nil {
		cr.progress(cr.sent, cr.total)
	}
	return n, err
}

// labelQuery returns the label options the flags set; unset ones are left
// to the service's defaults.
func labelQuery(c config) url.Values {
	q := url.Values{}
	if c.maxLabelsSet {
		q.Set("maxLabels", strconv.Itoa(c.maxLabels))
	}
	if c.minConfSet {
		q.Set("minConfidence", strconv.FormatFloat(c.minConf, 'f', -1, 64))
	}
	return q
}
