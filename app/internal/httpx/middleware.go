package httpx

import (
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"imagelabel/app/internal/api"
)

// Wrap returns mux behind the shared middleware, outermost first:
//   - request id: X-Request-Id from the client when well-formed, else a new
//     one; echoed in the response; stored with a tagged logger in the context;
//   - access log: one JSON line per request with status, bytes and duration;
//   - panic recovery: a panic becomes a 500 JSON error (and a logged stack),
//     never a dropped connection;
//   - the mux's own 404 and 405 answers become JSON errors.
func Wrap(base *slog.Logger, mux *http.ServeMux) http.Handler {
	return requestID(base, accessLog(recoverPanics(jsonMuxErrors(mux))))
}

func requestID(base *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(HeaderRequestID)
		if !validRequestID.MatchString(id) {
			id = newRequestID()
		}
		w.Header().Set(HeaderRequestID, id)
		next.ServeHTTP(w, r.WithContext(WithRequest(r.Context(), base, id)))
	})
}

// recorder remembers the status and byte count for the access log and lets
// the recovery know whether the headers are already gone.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		level := slog.LevelInfo
		if rec.status >= 500 {
			level = slog.LevelWarn
		}
		if r.URL.Path == "/healthz" && rec.status == http.StatusOK {
			level = slog.LevelDebug // the ECS health check polls every few seconds
		}
		Logger(r.Context()).Log(r.Context(), level, "request",
			"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration_ms", time.Since(start).Milliseconds(),
			"remote", r.RemoteAddr)
	})
}

func recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler { //nolint:errorlint // sentinel compared by identity, as net/http does
				panic(v) // net/http's own way to abort a response silently
			}
			Logger(r.Context()).Error("panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if rec, ok := w.(*recorder); ok && rec.status != 0 {
				// Headers already sent: all we can do is cut the response short.
				panic(http.ErrAbortHandler)
			}
			WriteError(w, r, &api.Error{Code: api.CodeInternal, Message: "internal error"})
		}()
		next.ServeHTTP(w, r)
	})
}

// jsonMuxErrors answers unmatched paths (404) and wrong methods (405, with
// the mux's Allow header) as JSON; everything else goes to mux unchanged.
func jsonMuxErrors(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mux.Handler(r); pattern == "" {
			mux.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r}, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// muxErrorWriter replaces the plain-text body of the mux's 404/405 with JSON
// and passes other answers (the mux's redirects) through.
type muxErrorWriter struct {
	http.ResponseWriter
	r       *http.Request
	swallow bool
}

func (m *muxErrorWriter) WriteHeader(code int) {
	if code == http.StatusNotFound || code == http.StatusMethodNotAllowed {
		m.swallow = true
		msg := "no such route"
		if code == http.StatusMethodNotAllowed {
			msg = "method " + m.r.Method + " not allowed here"
		}
		writeErrorStatus(m.ResponseWriter, code, &api.Error{Code: api.CodeForStatus(code), Message: msg})
		return
	}
	m.ResponseWriter.WriteHeader(code)
}

func (m *muxErrorWriter) Write(b []byte) (int, error) {
	if m.swallow {
		return len(b), nil
	}
	return m.ResponseWriter.Write(b)
}
