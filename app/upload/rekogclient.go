package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"time"

	"imagelabel/app/internal/api"
	"imagelabel/app/internal/httpx"
)

// rekogClient calls rekog's POST /labels.
type rekogClient struct {
	endpoint string
	http     *http.Client
	timeout  time.Duration
	backoff  time.Duration
}

func newRekogClient(cfg config) *rekogClient {
	tr := &http.Transport{
		Proxy:                 nil, // rekog is in the VPC (Service Connect); never via a proxy
		DialContext:           (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   64, // the default 2 would churn connections under parallel uploads
		IdleConnTimeout:       60 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	return &rekogClient{
		endpoint: cfg.rekogURL.JoinPath("labels").String(),
		http:     &http.Client{Transport: tr},
		timeout:  cfg.labelTimeout,
		backoff:  cfg.retryBackoff,
	}
}

// maxAnswer bounds rekog's answer: at most 1000 labels of a few hundred bytes.
const maxAnswer = 4 << 20

// errNoImage is in the chain of the error labels returns when rekog answered
// 404 not_found: Rekognition could not read the object (it is missing, or
// rekog's role may not read it). What that means depends on the caller:
// GET /labels answers 404, POST /upload (which just stored it) 502.
var errNoImage = errors.New("rekog: no readable image with that key")

// labels asks rekog for the labels of key within c.timeout, retrying once
// (after a jittered backoff) on connection errors and 5xx answers, never on
// 4xx. Every error is an *api.Error without a key, whose message describes
// the labeling failure only (the handler knows whether the image is stored):
// 503 when rekog is unreachable or throttled, 504 on the deadline, 422 when
// the image cannot be analyzed, 502 otherwise; when rekog found no image the
// 502 wraps errNoImage, for the handler to decide.
func (c *rekogClient) labels(ctx context.Context, key string, o api.Options) ([]api.Label, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	body, err := json.Marshal(api.NewLabelsRequest(key, o))
	if err != nil {
		return nil, labelErr(api.CodeInternal, "labeling failed with an internal error", err)
	}
	log := httpx.Logger(ctx)
	var last *api.Error
	for attempt := 1; attempt <= 2; attempt++ {
		labels, retry, err := c.try(ctx, key, body)
		if err == nil {
			return labels, nil
		}
		last = err
		if !retry || attempt == 2 {
			break
		}
		wait := c.backoff + rand.N(c.backoff/2+1)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			break
		}
		log.Warn("rekog call failed, retrying", "key", key, "attempt", attempt, "err", err.Error(), "wait_ms", wait.Milliseconds())
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
	}
	return nil, last
}

func labelErr(code, msg string, err error) *api.Error {
	return &api.Error{Code: code, Message: msg, Err: err}
}

// try makes one call; retry says whether another attempt may help.
func (c *rekogClient) try(ctx context.Context, key string, body []byte) (labels []api.Label, retry bool, _ *api.Error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, false, labelErr(api.CodeInternal, "labeling failed with an internal error", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(httpx.HeaderRequestID, httpx.RequestID(ctx))
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, deadlineErr(ctx, err)
		}
		return nil, true, labelErr(api.CodeUnavailable,
			"the labeler is unreachable; retry GET /labels/{key}", fmt.Errorf("post %s: %w", c.endpoint, err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, false, deadlineErr(ctx, err)
		}
		return nil, true, labelErr(api.CodeUnavailable,
			"the labeler connection failed; retry GET /labels/{key}", fmt.Errorf("read answer: %w", err))
	}
	if resp.StatusCode == http.StatusOK {
		var out api.LabelsResponse
		if len(raw) > maxAnswer {
			err = fmt.Errorf("answer larger than %d bytes", maxAnswer)
		} else if err = json.Unmarshal(raw, &out); err == nil && out.Labels == nil {
			err = errors.New(`answer has no "labels"`)
		}
		if err != nil {
			return nil, false, labelErr(api.CodeUpstream,
				"the labeler answered nonsense; retry GET /labels/{key}", fmt.Errorf("decode answer: %w", err))
		}
		for i := range out.Labels { // clients iterate these without checks
			if out.Labels[i].Parents == nil {
				out.Labels[i].Parents = []string{}
			}
			if out.Labels[i].Categories == nil {
				out.Labels[i].Categories = []string{}
			}
		}
		return out.Labels, false, nil
	}
	cause := fmt.Errorf("rekog status %d: %.300s", resp.StatusCode, raw)
	switch s := resp.StatusCode; {
	case s == http.StatusNotFound && isNotFoundBody(resp.Header, raw):
		// 502 unless the handler decides otherwise: only it knows whether
		// the object was just stored.
		return nil, false, labelErr(api.CodeUpstream, "the labeler found no readable image with key "+key,
			fmt.Errorf("%w: %w", errNoImage, cause))
	case s == http.StatusUnprocessableEntity:
		return nil, false, labelErr(api.CodeUnprocessable,
			"the labeler cannot analyze the image (format or size)", cause)
	case s == http.StatusTooManyRequests:
		return nil, false, labelErr(api.CodeUnavailable,
			"the labeler is throttled; retry GET /labels/{key} later", cause)
	case s == http.StatusServiceUnavailable:
		return nil, true, labelErr(api.CodeUnavailable,
			"the labeler is throttled or unavailable; retry GET /labels/{key} later", cause)
	case s == http.StatusGatewayTimeout:
		return nil, true, labelErr(api.CodeTimeout,
			"the labeler timed out; retry GET /labels/{key}", cause)
	case s >= 500:
		return nil, true, labelErr(api.CodeUpstream,
			"the labeler failed; retry GET /labels/{key}", cause)
	}
	// Any other 4xx (also a 404 that is not rekog's JSON not_found, e.g.
	// REKOG_URL pointing at something else) means this service sent
	// something rekog refused: a bug, a version skew or a misconfiguration,
	// not the caller's fault, and retrying won't help.
	return nil, false, labelErr(api.CodeUpstream, "the labeler refused the request", cause)
}

// isNotFoundBody reports whether a 404 answer is rekog's own
// {"error":{"code":"not_found"}} (its answer to InvalidS3ObjectException).
func isNotFoundBody(h http.Header, raw []byte) bool {
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err != nil || mt != "application/json" {
		return false
	}
	var e api.ErrorBody
	return json.Unmarshal(raw, &e) == nil && e.Error.Code == api.CodeNotFound
}

func deadlineErr(ctx context.Context, err error) *api.Error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return labelErr(api.CodeTimeout, "labeling took too long; retry GET /labels/{key}", err)
	}
	return labelErr(api.CodeTimeout, "the request was cancelled", err)
}
