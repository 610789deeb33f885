package api

import (
	"errors"
	"net/http"
)

// Error codes carried in {"error":{"code":...}}. Each maps to one HTTP status
// in Status, the single table both services use.
const (
	CodeBadRequest       = "bad_request"            // 400 malformed request (multipart, JSON)
	CodeInvalidKey       = "invalid_key"            // 400 key of the wrong shape
	CodeInvalidOption    = "invalid_option"         // 400 bad maxLabels/minConfidence/filters
	CodeMissingFile      = "missing_file"           // 400 no multipart field "file"
	CodeEmptyFile        = "empty_file"             // 400 field "file" has no bytes
	CodeMalformedImage   = "malformed_image"        // 400 JPEG/PNG signature but broken or truncated
	CodeNotMultipart     = "not_multipart"          // 415 request is not multipart/form-data
	CodeUnsupportedImage = "unsupported_media_type" // 415 not a JPEG or PNG by content
	CodeNotFound         = "not_found"              // 404
	CodeRequestTimeout   = "request_timeout"        // 408 the request body arrived too slowly or stalled
	CodeMethodNotAllowed = "method_not_allowed"     // 405
	CodeTooLarge         = "too_large"              // 413 body over the limit
	CodeDimensionsTooBig = "dimensions_too_large"   // 413 image header claims too many pixels
	CodeUnprocessable    = "unprocessable_image"    // 422 Rekognition cannot read the image
	CodeStoreFailed      = "store_failed"           // 502 S3 failed; nothing claimed stored
	CodeUpstream         = "upstream_error"         // 502 a dependency failed or answered nonsense
	CodeUnavailable      = "unavailable"            // 503 a dependency is throttled or unreachable
	CodeTimeout          = "timeout"                // 504 a dependency missed the deadline
	CodeInternal         = "internal"               // 500 a bug (panic); details only in the logs
)

var statusOf = map[string]int{
	CodeBadRequest:       http.StatusBadRequest,
	CodeInvalidKey:       http.StatusBadRequest,
	CodeInvalidOption:    http.StatusBadRequest,
	CodeMissingFile:      http.StatusBadRequest,
	CodeEmptyFile:        http.StatusBadRequest,
	CodeMalformedImage:   http.StatusBadRequest,
	CodeNotMultipart:     http.StatusUnsupportedMediaType,
	CodeUnsupportedImage: http.StatusUnsupportedMediaType,
	CodeNotFound:         http.StatusNotFound,
	CodeRequestTimeout:   http.StatusRequestTimeout,
	CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	CodeTooLarge:         http.StatusRequestEntityTooLarge,
	CodeDimensionsTooBig: http.StatusRequestEntityTooLarge,
	CodeUnprocessable:    http.StatusUnprocessableEntity,
	CodeStoreFailed:      http.StatusBadGateway,
	CodeUpstream:         http.StatusBadGateway,
	CodeUnavailable:      http.StatusServiceUnavailable,
	CodeTimeout:          http.StatusGatewayTimeout,
	CodeInternal:         http.StatusInternalServerError,
}

// Status returns the HTTP status of code, 500 for unknown codes.
func Status(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// CodeForStatus returns a code for a bare HTTP status (used for the mux's own
// 404/405 answers and for statuses relayed from another service).
func CodeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return CodeBadRequest
	case http.StatusNotFound:
		return CodeNotFound
	case http.StatusMethodNotAllowed:
		return CodeMethodNotAllowed
	case http.StatusRequestTimeout:
		return CodeRequestTimeout
	case http.StatusRequestEntityTooLarge:
		return CodeTooLarge
	case http.StatusUnsupportedMediaType:
		return CodeUnsupportedImage
	case http.StatusUnprocessableEntity:
		return CodeUnprocessable
	case http.StatusBadGateway:
		return CodeUpstream
	case http.StatusServiceUnavailable:
		return CodeUnavailable
	case http.StatusGatewayTimeout:
		return CodeTimeout
	}
	return CodeInternal
}

// Error is the services' one error type. Code and Message go to the caller;
// Err is the internal cause, logged and never sent. Key is set only when the
// object was stored, so the client can retry GET /labels/{key}.
type Error struct {
	Code    string
	Message string
	Key     string
	Err     error
}

// Error returns code, message and the internal cause for logs.
func (e *Error) Error() string {
	s := e.Code + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Status returns the HTTP status of e's code.
func (e *Error) Status() int { return Status(e.Code) }

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
	Key   string      `json:"key,omitempty"`
}

// ErrorDetail is the inner object of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// AsError returns err as an *Error; anything else becomes CodeInternal with a
// generic message (the cause stays in Err for the logs).
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error", Err: err}
}
