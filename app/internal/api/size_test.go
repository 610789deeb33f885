package api

import (
	"math"
	"testing"
)

func TestFormatBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"},
		{512, "512 B"},
		{1023, "1023 B"},
		{1024, "1 KiB"},
		{1536, "1.5 KiB"},
		{10 << 20, "10 MiB"},
		{10485000, "10.0 MiB"}, // not exact: one decimal even when it rounds to a whole number
		{10066330, "9.6 MiB"},
		{96 << 20, "96 MiB"},
		{1<<20 - 1, "1.0 MiB"}, // never "1024.0 KiB"
		{3 << 30, "3 GiB"},
		{math.MaxInt64, "8.0 EiB"},
		{-2048, "-2 KiB"},
	} {
		if got := FormatBytes(c.n); got != c.want {
			t.Errorf("FormatBytes(%d) = %q; want %q", c.n, got, c.want)
		}
	}
}
