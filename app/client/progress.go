package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// progress reports per-file upload progress on w. On a terminal it keeps a
// block of live lines (one per file in flight: bytes sent / total), redrawn in
// place, above which finished files scroll as permanent lines; otherwise it
// writes plain lines: one when a file starts and one when it finishes.
// Safe for concurrent use.
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	tty      bool
	every    time.Duration // least time between redraws for byte counts
	files    []fileProgress
	pending  []string // finished lines not yet written (tty)
	drawn    int      // live lines currently on screen (tty)
	lastDraw time.Time
}

type fileProgress struct {
	name        string
	active      bool
	sent, total int64
}

func newProgress(w io.Writer, tty bool, names []string) *progress {
	p := &progress{w: w, tty: tty, every: 100 * time.Millisecond, files: make([]fileProgress, len(names))}
	for i, n := range names {
		p.files[i].name = n
	}
	return p
}

// start marks file i in flight.
func (p *progress) start(i int, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := &p.files[i]
	f.active, f.total = true, total
	if !p.tty {
		fmt.Fprintf(p.w, "%s: uploading %s\n", f.name, formatBytes(total))
		return
	}
	p.redraw()
}

// update records that sent of total bytes of file i have gone out.
func (p *progress) update(i int, sent, total int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := &p.files[i]
	f.sent, f.total = sent, total
	if p.tty && (sent == total || time.Since(p.lastDraw) >= p.every) {
		p.redraw()
	}
}

// finish ends file i's live line with the given permanent lines.
func (p *progress) finish(i int, lines ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.files[i].active = false
	if !p.tty {
		for _, l := range lines {
			fmt.Fprintln(p.w, l)
		}
		return
	}
	p.pending = append(p.pending, lines...)
	p.redraw()
}

// redraw erases the live block, writes pending finished lines, and draws the
// live block again. Callers hold p.mu.
func (p *progress) redraw() {
	var b strings.Builder
	if p.drawn > 0 {
		// Cursor up to the block's first line, then clear to the end of the screen.
		fmt.Fprintf(&b, "\x1b[%dF\x1b[J", p.drawn)
	}
	for _, l := range p.pending {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	p.pending = p.pending[:0]
	p.drawn = 0
	for _, f := range p.files {
		if !f.active {
			continue
		}
		b.WriteString(liveLine(f))
		b.WriteByte('\n')
		p.drawn++
	}
	p.lastDraw = time.Now()
	// Progress is best effort: a closed stderr must not fail the uploads.
	_, _ = io.WriteString(p.w, b.String())
}

// liveLine is "  name  [#####.....]  45.1 KiB / 100 KiB", or "waiting for the answer…"
// once every byte is sent and the service is working on the answer.
func liveLine(f fileProgress) string {
	name := truncate(f.name, 32)
	if f.total > 0 && f.sent >= f.total {
		return fmt.Sprintf("  %-32s  sent %s, waiting for the answer…", name, formatBytes(f.total))
	}
	frac := 0.0
	if f.total > 0 {
		frac = float64(f.sent) / float64(f.total)
	}
	const width = 20
	n := int(frac*width + 0.5)
	return fmt.Sprintf("  %-32s  [%s%s]  %s / %s", name, strings.Repeat("#", n), strings.Repeat(".", width-n),
		formatBytes(f.sent), formatBytes(f.total))
}

// truncate shortens s to at most n runes, marking the cut with "…".
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// formatBytes is n in IEC units, as the services word sizes: bytes below
// 1 KiB as "512 B", exact multiples without decimals ("10 MiB"), others
// with one decimal ("9.6 MiB"). A value that rounds up to 1024 of a unit is
// shown in the next one ("1 MiB", not "1024.0 KiB").
func formatBytes(n int64) string {
	if n < 1024 && n > -1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	v := float64(n)
	for i, u := range units {
		v /= 1024
		last := i == len(units)-1
		if !last && math.Abs(math.Round(v*10)/10) >= 1024 {
			continue
		}
		if n%(int64(1)<<(10*(i+1))) == 0 {
			return fmt.Sprintf("%d %s", n>>(10*(i+1)), u)
		}
		return fmt.Sprintf("%.1f %s", v, u)
	}
	panic("unreachable")
}
