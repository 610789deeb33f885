package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"image/jpeg"
	"io"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and ')' must not shift the fields.
	line := "1234 (up load) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 8 0 100 0 0"
	got, err := parseStatCPU([]byte(line))
	if err != nil || got != 3.25 {
		t.Errorf("parseStatCPU(%q) = %v, %v; want 3.25 s (325 ticks)", line, got, err)
	}
	if _, err := parseStatCPU([]byte("1234 (x) S 1 2")); err == nil {
		t.Errorf("parseStatCPU(short line) = nil error; want an error")
	}
	self, err := cpuSeconds(os.Getpid())
	if err != nil || self < 0 {
		t.Errorf("cpuSeconds(self) = %v, %v; want a time", self, err)
	}
}

func TestParseVmHWM(t *testing.T) {
	status := "Name:\tupload\nVmPeak:\t 1000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t 1000 kB\n"
	got, err := parseVmHWM(strings.NewReader(status))
	if err != nil || got != 20<<20 {
		t.Errorf("parseVmHWM = %d, %v; want %d", got, err, 20<<20)
	}
	if _, err := parseVmHWM(strings.NewReader("Name:\tx\n")); err == nil {
		t.Errorf("parseVmHWM(no VmHWM) = nil error; want an error")
	}
	if rss, err := peakRSS(os.Getpid()); err != nil || rss <= 0 {
		t.Errorf("peakRSS(self) = %d, %v; want > 0", rss, err)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i))
	}
	for _, tt := range []struct{ p, want int }{{50, 50}, {90, 90}, {99, 99}, {100, 100}, {1, 1}} {
		if got := percentile(d, tt.p); got != time.Duration(tt.want) {
			t.Errorf("percentile(1..100, %d) = %d; want %d", tt.p, got, tt.want)
		}
	}
	if got := percentile(d[:3], 99); got != 3 {
		t.Errorf("percentile(1..3, 99) = %d; want 3", got)
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("percentile(nil) = %d; want 0", got)
	}
}

// TestVariantsDistinctAndDecodable: every upload of a run must have its own
// key (content-addressed), and stay a JPEG the labeler can decode.
func TestVariantsDistinctAndDecodable(t *testing.T) {
	base, err := encodeJPEG(photo(64, 48, 10, 1))
	if err != nil {
		t.Fatal(err)
	}
	im := images{base: base, run: "t"}
	seen := map[[32]byte]int{}
	for i := range 50 {
		b := im.get(i).Bytes()
		sum := sha256.Sum256(b)
		if j, dup := seen[sum]; dup {
			t.Fatalf("variants %d and %d are equal", i, j)
		}
		seen[sum] = i
		img, err := jpeg.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != 64 {
			t.Fatalf("variant %d: jpeg.Decode = %v; want a 64x48 image", i, err)
		}
	}
}

func TestBaseImageNearTarget(t *testing.T) {
	sc := sizeClass{"t", 40_000, 320, 240}
	b, err := baseImage(sc)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < sc.Target/2 || len(b) > sc.Target*2 {
		t.Errorf("baseImage(~%d bytes) = %d bytes; want within 2x", sc.Target, len(b))
	}
}

func TestRunsFor(t *testing.T) {
	if got := runsFor(400, 8, 50_000); got != 400 {
		t.Errorf("runsFor(400, 8, 50KB) = %d; want 400", got)
	}
	if got := runsFor(400, 64, 9_000_000); got != 128 {
		t.Errorf("runsFor(400, 64, 9MB) = %d; want 128 (two rounds)", got)
	}
	if got := runsFor(400, 1, 9_000_000); got >= 400 || got < 2 {
		t.Errorf("runsFor(400, 1, 9MB) = %d; want bounded by bytes", got)
	}
}

func TestMeterCountsErrorsAndOps(t *testing.T) {
	var calls atomic.Int64
	seen := make([]atomic.Bool, 30)
	do := func(_ context.Context, i int) error {
		calls.Add(1)
		seen[i].Store(true)
		if i == 7 {
			return errors.New("boom")
		}
		return nil
	}
	var m meter
	m.round(context.Background(), 4, 3, 12, do)
	m.round(context.Background(), 4, 15, 8, do)
	res := m.result()
	if calls.Load() != 20 || res.N != 20 || res.Errors != 1 || res.FirstError != "boom" || res.PerSecond <= 0 {
		t.Errorf("meter = %+v after %d calls; want 20 calls, n 20, 1 error boom", res, calls.Load())
	}
	for i := range seen {
		if seen[i].Load() != (i >= 3 && i < 23) {
			t.Errorf("op %d called = %v; want ops 3..22 exactly once", i, seen[i].Load())
		}
	}
}

func TestMedianSumsErrors(t *testing.T) {
	runs := []result{
		{System: loadResult{PerSecond: 10, Errors: 1}, Upload: procStats{PeakRSS: 3}},
		{System: loadResult{PerSecond: 30}, Upload: procStats{PeakRSS: 1}},
		{System: loadResult{PerSecond: 20, Errors: 2}, Upload: procStats{PeakRSS: 2}},
	}
	m := median(runs)
	if m.System.PerSecond != 20 || m.System.Errors != 3 || m.Upload.PeakRSS != 2 {
		t.Errorf("median = %v/s, %d errors, RSS %d; want 20/s, 3 errors, RSS 2", m.System.PerSecond, m.System.Errors, m.Upload.PeakRSS)
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-quick"}, io.Discard)
	if err != nil || len(o.concs) != 1 || len(o.sizes) != 1 || o.sizes[0].Name != "50KB" {
		t.Errorf("parseFlags(-quick) = %+v, %v; want one 50KB run", o, err)
	}
	for _, args := range [][]string{{"-c", "0"}, {"-sizes", "1GB"}, {"-n", "0"}, {"extra"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("parseFlags(%q) = nil error; want an error", args)
		}
	}
}
