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
	// window is the span the rate is judged over: a body still arriving must
	// have brought at least minRate bytes a second over its last window (the
	// first window starts with the body: connection warm-up). Judging the
	// recent past, not the average since the start, cuts a body that sent
	// most of its bytes at once and then trickles, holding their chunks.
	window time.Duration
	// minRate is the lowest rate, in bytes per second, over a window.
	minRate int64
	// total bounds the whole body.
	total time.Duration
}

// defaultPace lets a 10 MiB body arrive at ~1.4 Mbit/s (total) and cuts one
// that brings under 16 KiB/s over 5 s, whatever it sent before, within
// about 5 s of slowing down (10 s if it stops outright).
var defaultPace = pace{stall: 10 * time.Second, window: 5 * time.Second, minRate: 16 << 10, total: 60 * time.Second}

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
	deadline time.Time
	n        int64
	// marks are (time, bytes so far) samples, oldest first, taken at most
	// every window/4: marks[0] is the newest taken at least a window ago
	// once the body is that old, so a handful are kept.
	marks []mark
}

type mark struct {
	at time.Time
	n  int64
}

func newPacedBody(w http.ResponseWriter, r *http.Request, p pace) *pacedBody {
	now := time.Now()
	return &pacedBody{body: r.Body, rc: http.NewResponseController(w), p: p, deadline: now.Add(p.total),
		marks: []mark{{at: now}}}
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
	if b.tooSlow(time.Now()) {
		return n, errBodyTimeout
	}
	return n, nil
}

// tooSlow records the bytes so far at now and reports whether they came in
// under minRate since the newest mark at least a window old.
func (b *pacedBody) tooSlow(now time.Time) bool {
	if last := b.marks[len(b.marks)-1]; now.Sub(last.at) >= b.p.window/4 {
		b.marks = append(b.marks, mark{now, b.n})
	}
	for len(b.marks) > 1 && now.Sub(b.marks[1].at) >= b.p.window {
		b.marks = b.marks[1:]
	}
	old := b.marks[0]
	span := now.Sub(old.at)
	return span >= b.p.window && float64(b.n-old.n) < float64(b.p.minRate)*span.Seconds()
}

func (b *pacedBody) Close() error { return b.body.Close() }
