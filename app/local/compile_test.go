package main

import (
	"strings"
	"testing"
	"time"
)

// A cold build shows that it is the slow first build and counts packages:
// off a terminal a line every progressEvery (and the last count at the
// end), on a terminal one line rewritten in place. A warm build shows
// nothing more than its time.
func TestCompileProgress(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := t0
	var b strings.Builder
	p := &compileProgress{w: &b, arch: "arm64", now: func() time.Time { return now }}
	p.compiled("internal/goarch", 1, 353)
	now = t0.Add(time.Second)
	p.compiled("runtime", 2, 353)
	now = t0.Add(progressEvery + time.Second)
	p.compiled("net/http", 3, 353)
	now = now.Add(time.Second)
	p.compiled("imagelabel/app/upload/cmd/upload", 4, 0)
	p.end()
	want := "\n    first build for linux/arm64: Go compiles the standard library and every dependency\n" +
		"    for the static binaries, once (about 3.5 min on a busy 2-core machine; later runs take seconds)\n" +
		"    compiled 1/353 packages: internal/goarch\n" +
		"    compiled 3/353 packages: net/http\n" +
		"    compiled 4 packages: imagelabel/app/upload/cmd/upload\n"
	if b.String() != want {
		t.Errorf("progress off a terminal =\n%q\nwant\n%q", b.String(), want)
	}

	b.Reset()
	p = &compileProgress{w: &b, tty: true, arch: "amd64", now: time.Now}
	p.compiled("internal/goarch", 1, 2)
	p.compiled("runtime", 2, 2)
	p.end()
	if got := b.String(); !strings.Contains(got, "first build for linux/amd64") ||
		!strings.HasSuffix(got, "\r\033[K    compiled 1/2 packages: internal/goarch\r\033[K    compiled 2/2 packages: runtime\n") {
		t.Errorf("progress on a terminal = %q; want the notice, then one line rewritten in place", got)
	}

	b.Reset()
	p = &compileProgress{w: &b, arch: "amd64", now: time.Now}
	p.end()
	if b.Len() != 0 {
		t.Errorf("a warm build printed %q; want nothing (its time follows on the same line)", b.String())
	}
}
