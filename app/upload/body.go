package upload

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"
)

// pace is how fast a request body must arrive. upload buffers the body
// before storing it, and API Gateway sends bodies it has already buffered,
// but the local run, Compose and any direct exposure get bodies straight
// from clients: a client trickling bytes must not hold a connection (and a
// chunk of the budget) for minutes.
type pace struct {
	// stall is the longest wait for the next bytes of the body.
	stall time.Duration
	// grace is the time before minRate applies (connection warm-up).
	grace time.Duration
	// minRate is the lowest average rate, in bytes per second, of a body
	// still arriving after grace.
	minRate int64
	// total bounds the whole body.
	total time.Duration
}

// defaultPace lets a 10 MiB body arrive at ~1.4 Mbit/s (total) and refuses
// one byte every few seconds within about grace.
var defaultPace = pace{stall: 10 * time.Second, grace: 5 * time.Second, minRate: 16 << 10, total: 60 * time.Second}

// errBodyTimeout is in the chain of a body read that stalled, fell under the
// minimum rate or ran past the body deadline: 408 request_timeout.
var errBodyTimeout = errors.New("request body arrived too slowly")

// pacedBody enforces a pace on a request body through the connection's read
// deadline (http.ResponseController), so a stalled read ends at once instead
// of when the server's ReadTimeout fires. Once the body has been read to its
// end, net/http clears the deadline itself and starts its background read,
// which notices a client that disconnects while its image is labeled.
type pacedBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	p        pace
	start    time.Time
	deadline time.Time
	n        int64
}

func newPacedBody(w http.ResponseWriter, r *http.Request, p pace) *pacedBody {
	now := time.Now()
	return &pacedBody{body: r.Body, rc: http.NewResponseController(w), p: p, start: now, deadline: now.Add(p.total)}
}

func (b *pacedBody) Read(p []byte) (int, error) {
	now := time.Now()
	// Not every writer supports deadlines (tests' recorders); the server's
	// ReadTimeout still bounds the body then.
	dl := now.Add(b.p.stall)
	if b.deadline.Before(dl) {
		dl = b.deadline
	}
	_ = b.rc.SetReadDeadline(dl)
	n, err := b.body.Read(p)
	b.n += int64(n)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return n, errors.Join(errBodyTimeout, err)
	}
	if err != nil {
		return n, err
	}
	if elapsed := time.Since(b.start); elapsed > b.p.grace &&
		float64(b.n) < float64(b.p.minRate)*(elapsed-b.p.grace).Seconds() {
		return n, errBodyTimeout
	}
	return n, nil
}

func (b *pacedBody) Close() error { return b.body.Close() }
