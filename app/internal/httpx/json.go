package httpx

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"imagelabel/app/internal/api"
)

// WriteJSON answers status with v as JSON.
func WriteJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	setJSONHeaders(w)
	w.WriteHeader(status)
	if err := json.NewEncoder(w).Encode(v); err != nil {
		Logger(r.Context()).Debug("write response", "err", err)
	}
}

// WriteError answers err as the JSON error body with the status of its code.
// Errors that are not *api.Error become a 500 with a generic message. The
// internal cause is logged, never sent.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	e := api.AsError(err)
	status := e.Status()
	attrs := []any{"code", e.Code, "status", status}
	if e.Key != "" {
		attrs = append(attrs, "key", e.Key)
	}
	if e.Err != nil {
		attrs = append(attrs, "err", e.Err.Error())
	}
	log := Logger(r.Context())
	if status >= 500 {
		log.Warn(e.Message, attrs...)
	} else {
		log.Info(e.Message, attrs...)
	}
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		// Every 503 of ours is transient (load, a throttled or unreachable
		// dependency): tell clients when to come back instead of at once.
		w.Header().Set("Retry-After", RetryAfterSeconds)
	}
	writeErrorStatus(w, status, e)
}

// RetryAfterSeconds is the Retry-After of every 503 the services answer:
// long enough for in-flight uploads to free memory, short enough to retry
// well within the API's 29 s integration timeout.
const RetryAfterSeconds = "1"

func writeErrorStatus(w http.ResponseWriter, status int, e *api.Error) {
	setJSONHeaders(w)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(api.ErrorBody{
		Error: api.ErrorDetail{Code: e.Code, Message: e.Message},
		Key:   e.Key,
	})
}

// DecodeJSON reads exactly one JSON value into v from r's body, reading at
// most limit bytes. Unknown fields and trailing data are refused. Errors are
// *api.Error: CodeTooLarge (413) over the limit, CodeBadRequest otherwise.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	if err == nil {
		return nil
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &api.Error{Code: api.CodeTooLarge, Message: "body is larger than " + api.FormatBytes(limit), Err: err}
	}
	if errors.Is(err, io.EOF) {
		return &api.Error{Code: api.CodeBadRequest, Message: "body must be a JSON object", Err: err}
	}
	// json's messages name the field or offset, never anything internal.
	return &api.Error{Code: api.CodeBadRequest, Message: "malformed JSON: " + err.Error(), Err: err}
}

// setJSONHeaders marks an answer as JSON that browsers must not sniff as
// something else, and that caches must not keep (answers depend on S3).
func setJSONHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}
