package upload

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"sort"
	"testing"

	"imagelabel/internal/testutil"
)

// fuzzSeedImage is a small picture with some structure for the seeds.
func fuzzSeedImage() image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, 9, 7))
	for y := range 7 {
		for x := range 9 {
			img.Set(x, y, color.NRGBA{uint8(x * 28), uint8(y * 36), uint8(x * y), uint8(200 + x)})
		}
	}
	return img
}

// onBytes adapts a verifier of buffered chunks to a byte slice (bufOf lays
// the bytes out in chunks as the handler's buffer does).
func onBytes(verify func(*chunkBuf) error) func([]byte) error {
	return func(b []byte) error { return verify(bufOf(b)) }
}

// checkVerifier holds for verifyPNG and verifyJPEG on any input: no panic;
// an accepted file starts with its signature and is still accepted with
// bytes appended (data after IEND/EOI is allowed); the shortest accepted
// prefix ends with the format's end marker (endsRight), and every shorter
// prefix is refused, so a file cut before its end never passes.
func checkVerifier(t *testing.T, b []byte, verify func([]byte) error, sig []byte, endsRight func([]byte) bool) {
	if verify(b) != nil {
		return
	}
	if !bytes.HasPrefix(b, sig) {
		t.Fatalf("accepted % x..., which lacks the signature % x", b[:min(len(b), 8)], sig)
	}
	if err := verify(append(bytes.Clone(b), "trailing bytes\xff\xd9"...)); err != nil {
		t.Fatalf("accepted %d bytes but refused them with bytes appended: %v", len(b), err)
	}
	// Acceptance is monotone in the prefix length (checked below), so the
	// shortest accepted prefix can be found by bisection.
	n := sort.Search(len(b)+1, func(n int) bool { return verify(b[:n]) == nil })
	if !endsRight(b[:n]) {
		t.Fatalf("shortest accepted prefix (%d of %d bytes) does not end with the end marker: % x", n, len(b), b[max(0, n-12):n])
	}
	for _, k := range []int{0, n / 3, n / 2, n - 2, n - 1} {
		if k >= 0 && k < n && verify(b[:k]) == nil {
			t.Fatalf("prefix of %d bytes accepted, but the file's end is at %d", k, n)
		}
	}
}

// FuzzVerifyPNG: checkVerifier's properties, plus an oracle: a PNG that
// the standard library decodes completely (it also checks every CRC and
// reads to IEND) is accepted.
func FuzzVerifyPNG(f *testing.F) {
	good := testutil.EncodePNG(f, fuzzSeedImage())
	f.Add(good)
	f.Add(good[:len(good)-5])
	f.Add(testutil.PNGHeader(3, 3, 2))
	f.Add(testutil.PNGHeader(100000, 100000, 6))
	f.Add(append(bytes.Clone(good), "after IEND"...))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x00IEND\xaeB`\x82"))
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = sniff(b)
		checkVerifier(t, b, onBytes(verifyPNG), pngSignature, func(p []byte) bool {
			return len(p) >= 12 && string(p[len(p)-8:len(p)-4]) == "IEND"
		})
		if cfg, err := png.DecodeConfig(bytes.NewReader(b)); err != nil || cfg.Width*cfg.Height > 1<<16 || cfg.Width > 1<<16 || cfg.Height > 1<<16 {
			return // keep the oracle's decode small
		}
		if _, err := png.Decode(bytes.NewReader(b)); err == nil {
			if verr := verifyPNG(bufOf(b)); verr != nil {
				t.Fatalf("image/png decodes %d bytes but verifyPNG refuses them: %v", len(b), verr)
			}
		}
	})
}

// FuzzVerifyJPEG: checkVerifier's properties for JPEG. (No decoder oracle:
// image/jpeg skips junk between segments, which verifyJPEG refuses on
// purpose.)
func FuzzVerifyJPEG(f *testing.F) {
	good := testutil.EncodeJPEG(f, fuzzSeedImage(), 75)
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(bytes.Clone(good), "motion photo"...))
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xFF, 0xD9})
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0x12, 0xFF, 0x00, 0xFF, 0xD0, 0xFF, 0xD9})
	f.Add([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x00, 0xFF, 0xD9})
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = sniff(b)
		checkVerifier(t, b, onBytes(verifyJPEG), jpegPrefix[:2], func(p []byte) bool {
			return len(p) >= 4 && p[len(p)-2] == 0xFF && p[len(p)-1] == 0xD9
		})
	})
}
