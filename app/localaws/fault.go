package localaws

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"time"
)

// FaultKind says what an injected Fault does.
type FaultKind int

const (
	// FaultThrottle answers the way AWS does when a caller exceeds its rate:
	// Rekognition ThrottlingException (HTTP 400), S3 SlowDown (HTTP 503).
	// The SDKs treat both as retryable.
	FaultThrottle FaultKind = iota + 1
	// FaultServerError answers Fault.Status (default 500): Rekognition
	// InternalServerError, S3 InternalError (or ServiceUnavailable for 503).
	FaultServerError
	// FaultLatency sleeps Fault.Latency and then serves the request normally;
	// when the request's context ends first the request is abandoned.
	FaultLatency
)

// String returns the kind's name, e.g. "throttle".
func (k FaultKind) String() string {
	switch k {
	case FaultThrottle:
		return "throttle"
	case FaultServerError:
		return "server-error"
	case FaultLatency:
		return "latency"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is an injected failure for tests and demos.
type Fault struct {
	// Service is "s3" or "rekognition"; "" matches both.
	Service string
	// Kind is what happens. An unknown Kind behaves like FaultServerError.
	Kind FaultKind
	// Latency is the delay of a FaultLatency.
	Latency time.Duration
	// Status is the HTTP status of a FaultServerError (default 500).
	Status int
	// Times is how many requests the fault affects; 0 means until
	// ClearFaults.
	Times int
}

// SetFault adds a fault. Faults apply in the order they were added: every
// matching latency fault delays the request, then the first matching
// throttle or server-error fault answers it. Safe for concurrent use.
func (s *Server) SetFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &f)
}

// ClearFaults removes every fault. Safe for concurrent use.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFaults returns the faults that apply to one request of service,
// consuming one use of each counted fault.
func (s *Server) takeFaults(service string) []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Fault
	kept := s.faults[:0]
	answered := false
	for _, f := range s.faults {
		applies := f.Service == "" || f.Service == service
		if applies && f.Kind != FaultLatency {
			// Only the first answering fault is used (and counted).
			applies = !answered
			answered = answered || applies
		}
		if applies {
			out = append(out, *f)
			if f.Times > 0 {
				f.Times--
				if f.Times == 0 {
					continue
				}
			}
		}
		kept = append(kept, f)
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	return out
}

// applyFault runs the faults for this request and reports whether the
// request has been answered (or abandoned) and must not be served.
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, service string) bool {
	for _, f := range s.takeFaults(service) {
		switch f.Kind {
		case FaultLatency:
			if f.Latency <= 0 {
				continue
			}
			// net/http notices a client hanging up (and cancels the request
			// context) only once the body has been read to EOF, so read it
			// (bounded) before sleeping; the service reads the buffered copy.
			bufferBody(r, service)
			t := time.NewTimer(f.Latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				s.log.Info("fault latency abandoned", "service", service, "err", r.Context().Err())
				return true
			}
		case FaultThrottle:
			s.log.Info("fault injected", "service", service, "kind", f.Kind.String())
			if service == "rekognition" {
				writeRekError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded (injected by localaws)")
			} else {
				writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate. (injected by localaws)", r.URL.Path)
			}
			return true
		default:
			status := f.Status
			if status == 0 {
				status = http.StatusInternalServerError
			}
			s.log.Info("fault injected", "service", service, "kind", f.Kind.String(), "status", status)
			if service == "rekognition" {
				writeRekError(w, status, "InternalServerError", "Internal server error (injected by localaws)")
			} else {
				code := "InternalError"
				if status == http.StatusServiceUnavailable {
					code = "ServiceUnavailable"
				}
				writeS3Error(w, r, status, code, "We encountered an internal error. Please try again. (injected by localaws)", r.URL.Path)
			}
			return true
		}
	}
	return false
}

// bufferBody reads r's body into memory, up to the service's bound, and
// replaces it with the buffered bytes followed by any unread rest.
func bufferBody(r *http.Request, service string) {
	if r.Body == nil || r.Body == http.NoBody {
		return
	}
	limit := int64(maxJSONBytes)
	if service == "s3" {
		limit = MaxObjectBytes + 1<<20
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	rest := r.Body
	if err != nil {
		rest = io.NopCloser(errReader{err})
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(buf), rest), rest}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
