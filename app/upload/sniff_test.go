package upload

import (
	"bytes"
	"errors"
	"image"
	"mime"
	"runtime"
	"testing"

	"imagelabel/app/internal/api"
	"imagelabel/internal/testutil"
)

// seg builds a JPEG marker segment with a length field.
func seg(marker byte, payload []byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xFF, marker, byte(n >> 8), byte(n)}, payload...)
}

func TestVerifyJPEGStructure(t *testing.T) {
	soi := []byte{0xFF, 0xD8}
	eoi := []byte{0xFF, 0xD9}
	// An EXIF-like APP1 holding a whole thumbnail JPEG, EOI included: it must
	// be skipped by its length, not mistaken for the end of the file.
	thumb := append(append(append([]byte{}, soi...), seg(0xDA, []byte{1, 2, 3})...), 0x11, 0xFF, 0x00, 0x22, 0xFF, 0xD9)
	app1 := seg(0xE1, append([]byte("Exif\x00\x00"), thumb...))
	scan := []byte{0x12, 0xFF, 0x00, 0x34, 0xFF, 0xD0, 0x56, 0xFF, 0xD1, 0x78} // stuffed FF00 and restart markers
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

	good := map[string][]byte{
		"baseline":          join(soi, seg(0xDB, make([]byte, 65)), seg(0xC0, make([]byte, 15)), seg(0xDA, make([]byte, 10)), scan, eoi),
		"thumbnail in APP1": join(soi, app1, seg(0xC0, make([]byte, 15)), seg(0xDA, make([]byte, 10)), scan, eoi),
		"progressive scans": join(soi, seg(0xC2, make([]byte, 15)), seg(0xDA, make([]byte, 10)), scan, seg(0xC4, make([]byte, 20)), seg(0xDA, make([]byte, 10)), scan, eoi),
		"fill bytes":        join(soi, []byte{0xFF, 0xFF}, seg(0xC0, make([]byte, 15)), seg(0xDA, make([]byte, 10)), scan, []byte{0xFF, 0xFF}, eoi),
		"data after EOI":    join(soi, seg(0xC0, make([]byte, 15)), seg(0xDA, make([]byte, 10)), scan, eoi, []byte("trailing motion-photo data")),
	}
	for name, b := range good {
		if err := verifyJPEG(bufOf(b)); err != nil {
			t.Errorf("verifyJPEG(%s) = %v; want nil", name, err)
		}
	}
	bad := map[string][]byte{
		"no EOI":                join(soi, seg(0xC0, make([]byte, 15)), seg(0xDA, make([]byte, 10)), scan),
		"EOI only in thumbnail": join(soi, app1, seg(0xC0, make([]byte, 15)), seg(0xDA, make([]byte, 10)), scan),
		"segment past the end":  join(soi, []byte{0xFF, 0xE0, 0x10, 0x00, 1, 2, 3}),
		"segment length 0":      join(soi, []byte{0xFF, 0xE0, 0x00, 0x00}, eoi),
		"junk between segments": join(soi, seg(0xE0, []byte{1}), []byte{0x42}, eoi),
		"not a JPEG":            []byte("GIF89a"),
	}
	for name, b := range bad {
		if err := verifyJPEG(bufOf(b)); err == nil {
			t.Errorf("verifyJPEG(%s) = nil; want an error", name)
		}
	}
}

// TestVerifyEveryTruncation cuts real encoder output at every offset: each
// cut must be refused (and never panic); only the whole file passes.
func TestVerifyEveryTruncation(t *testing.T) {
	for _, f := range []struct {
		name   string
		data   []byte
		verify func(*chunkBuf) error
	}{
		{"png", pngBytes(t, 20, 20, 1), verifyPNG},
		{"jpeg", jpegBytes(t, 20, 20, 1), verifyJPEG},
	} {
		if err := f.verify(bufOf(f.data)); err != nil {
			t.Fatalf("verify(whole %s) = %v", f.name, err)
		}
		for n := range len(f.data) {
			if err := f.verify(bufOf(f.data[:n])); err == nil {
				t.Errorf("verify(%s cut at %d of %d) = nil; want an error", f.name, n, len(f.data))
			}
		}
	}
}

func TestCheckDimensions(t *testing.T) {
	for _, tt := range []struct {
		w, h int
		want error
	}{
		{1, 1, nil},
		{20000, 2500, nil},
		{7071, 7071, nil},
		{0, 10, errMalformed},
		{10, 0, errMalformed},
		{20001, 1, errTooManyPixels},
		{1, 20001, errTooManyPixels},
		{7072, 7072, errTooManyPixels},
		{100000, 100000, errTooManyPixels},
	} {
		if got := checkDimensions(image.Config{Width: tt.w, Height: tt.h}); !errors.Is(got, tt.want) {
			t.Errorf("checkDimensions(%dx%d) = %v; want %v", tt.w, tt.h, got, tt.want)
		}
	}
}

// TestBombHeaderAllocatesLittle: a PNG header claiming 100000x100000 pixels
// (30 GB of RGB) is refused after reading the header, allocating almost
// nothing.
func TestBombHeaderAllocatesLittle(t *testing.T) {
	body, ct := form(t, "file", "bomb.png", testutil.PNGHeader(100000, 100000, 2))
	raw := body.Bytes()
	_, params, _ := mime.ParseMediaType(ct)
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	_, err := readImage(bytes.NewReader(raw), params["boundary"], 10<<20, newBudget(16<<20))
	runtime.ReadMemStats(&ms1)
	var e *api.Error
	if !errors.As(err, &e) || e.Code != api.CodeDimensionsTooBig {
		t.Fatalf("readImage(bomb) = %v; want dimensions_too_large", err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 1<<20 {
		t.Errorf("readImage(bomb) allocated %d bytes; want < 1 MiB", alloc)
	}
}

// bufOf returns a chunkBuf over b (no budget, no copy).
func bufOf(b []byte) *chunkBuf {
	c := &chunkBuf{n: len(b)}
	for i := 0; i < len(b); i += chunkSize {
		c.chunks = append(c.chunks, b[i:min(i+chunkSize, len(b))])
	}
	return c
}
