package localaws

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// allocated returns the bytes fn allocates (process-wide, so only a bound).
func allocated(fn func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc - before.TotalAlloc)
}

// TestDecodeCostCoversDecoder decodes one image of each kind the encoders
// can write and checks that decodeCost is at least what the decoder
// allocated (less its fixed overhead) and not wildly more.
func TestDecodeCostCoversDecoder(t *testing.T) {
	const w, h = 480, 360
	rect := image.Rect(0, 0, w, h)
	gray, gray16 := image.NewGray(rect), image.NewGray16(rect)
	rgba, nrgba := image.NewRGBA(rect), image.NewNRGBA(rect)
	rgba64, nrgba64 := image.NewRGBA64(rect), image.NewNRGBA64(rect)
	pal := image.NewPaletted(rect, color.Palette{color.Black, color.White, color.RGBA{255, 0, 0, 255}})
	// Varied enough that no decoder takes a shortcut, regular enough that
	// the encoders are quick.
	for _, pix := range [][]byte{gray.Pix, gray16.Pix, rgba.Pix, nrgba.Pix, rgba64.Pix, nrgba64.Pix} {
		for i := range pix {
			pix[i] = byte(i/7 + i/w)
		}
	}
	for i := range pal.Pix {
		pal.Pix[i] = byte(i % 3)
	}
	// Opaque, so the encoder writes truecolour without alpha.
	for i := 3; i < len(rgba.Pix); i += 4 {
		rgba.Pix[i] = 0xff
	}
	for i := 6; i < len(rgba64.Pix); i += 8 {
		rgba64.Pix[i], rgba64.Pix[i+1] = 0xff, 0xff
	}
	encPNG := func(m image.Image) []byte {
		var b bytes.Buffer
		if err := png.Encode(&b, m); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	encJPEG := func(m image.Image) []byte {
		var b bytes.Buffer
		if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"png gray 8", encPNG(gray)},
		{"png gray 16", encPNG(gray16)},
		{"png rgb 8", encPNG(rgba)},
		{"png rgba 8", encPNG(nrgba)},
		{"png rgb 16", encPNG(rgba64)},
		{"png rgba 16", encPNG(nrgba64)},
		{"png paletted", encPNG(pal)},
		{"jpeg gray", encJPEG(gray)},
		{"jpeg 4:2:0", encJPEG(rgba)},
	}
	const overhead = 256 << 10 // decoder state, zlib window, Huffman tables
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, format, err := image.DecodeConfig(bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			cost := decodeCost(tt.data, format, cfg.Width, cfg.Height)
			got := allocated(func() {
				if _, _, err := image.Decode(bytes.NewReader(tt.data)); err != nil {
					t.Fatal(err)
				}
			})
			if got > cost+overhead {
				t.Errorf("decodeCost = %d; the decoder allocated %d (more than cost + %d overhead)", cost, got, overhead)
			}
			if cost > 2*got {
				t.Errorf("decodeCost = %d; the decoder allocated only %d: the budget would be wasted", cost, got)
			}
		})
	}
}

// sixteenBitPNG returns a valid w×h 16-bit RGB PNG of black pixels: under
// 2 MB that image/png decodes to 8 bytes per pixel. Its zlib stream is
// written by hand (one zero byte, then copies of 258 bytes from distance 1,
// in a fixed-Huffman block), so the test neither holds nor compresses the
// decoded size.
func sixteenBitPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	total := h * (1 + 6*w) // per row: filter type 0, then 3 channels × 2 bytes
	var bw bitWriter
	bw.bits(1, 1) // BFINAL
	bw.bits(1, 2) // BTYPE 01: fixed Huffman codes
	literal0 := func() { bw.code(0x30, 8) }
	literal0()
	n := (total - 1) / 258
	for range n {
		bw.code(0xc5, 8) // length 258: symbol 285, no extra bits
		bw.code(0, 5)    // distance 1: code 0
	}
	for range total - 1 - 258*n {
		literal0()
	}
	bw.code(0, 7) // end of block: symbol 256
	bw.flush()
	var idat bytes.Buffer
	idat.Write([]byte{0x78, 0x01})
	idat.Write(bw.out)
	// Adler-32 of zeros: a stays 1, b adds 1 per byte.
	_ = binary.Write(&idat, binary.BigEndian, uint32(total%65521)<<16|1)

	var out bytes.Buffer
	out.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&out, binary.BigEndian, uint32(len(data)))
		out.WriteString(typ)
		out.Write(data)
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		_ = binary.Write(&out, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], uint32(w))
	binary.BigEndian.PutUint32(ihdr[4:], uint32(h))
	ihdr[8], ihdr[9] = 16, pngTruecolor // depth 16, RGB; no compression, filter or interlace options
	chunk("IHDR", ihdr)
	chunk("IDAT", idat.Bytes())
	chunk("IEND", nil)
	return out.Bytes()
}

// bitWriter packs a deflate stream: values LSB first, Huffman codes MSB
// first (RFC 1951, 3.1.1).
type bitWriter struct {
	out   []byte
	acc   uint64
	nbits uint
}

func (b *bitWriter) bits(v uint64, n uint) {
	b.acc |= v << b.nbits
	b.nbits += n
	for b.nbits >= 8 {
		b.out = append(b.out, byte(b.acc))
		b.acc >>= 8
		b.nbits -= 8
	}
}

func (b *bitWriter) code(c uint64, n uint) {
	var r uint64
	for i := range n {
		r |= (c >> i & 1) << (n - 1 - i)
	}
	b.bits(r, n)
}

func (b *bitWriter) flush() {
	if b.nbits > 0 {
		b.out = append(b.out, byte(b.acc))
		b.acc, b.nbits = 0, 0
	}
}

// TestSixteenBitPNGIsValid decodes a smaller image made the same way, so
// the big one is known to be a real PNG and not just a header.
func TestSixteenBitPNGIsValid(t *testing.T) {
	img, err := png.Decode(bytes.NewReader(sixteenBitPNG(t, 300, 200)))
	if err != nil {
		t.Fatalf("decode the hand-made 16-bit PNG: %v", err)
	}
	if _, ok := img.(*image.RGBA64); !ok || img.Bounds().Dx() != 300 || img.Bounds().Dy() != 200 {
		t.Fatalf("decoded %T %v; want a 300x200 *image.RGBA64", img, img.Bounds())
	}
}

// TestSixteenBitPNGWithinBudget: a small 16-bit 7000×7000 PNG, which decodes
// to 392 MB, is refused before anything is decoded; before decodeCost it
// counted as 49 M "pixels" and was decoded.
func TestSixteenBitPNGWithinBudget(t *testing.T) {
	data := sixteenBitPNG(t, 7000, 7000)
	t.Logf("16-bit 7000x7000 PNG: %d bytes, decodes to %d MiB", len(data), decodeCost(data, "png", 7000, 7000)>>20)
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	var derr error
	got := allocated(func() { _, derr = srv.detectLabels(context.Background(), detectBody(t, data), -1) })
	var re *rekError
	if !errors.As(derr, &re) || re.typ != "ImageTooLargeException" || re.status != http.StatusBadRequest {
		t.Fatalf("DetectLabels(16-bit 7000x7000 PNG) = %v; want 400 ImageTooLargeException", derr)
	}
	if !strings.Contains(re.msg, "localaws decodes at most") {
		t.Errorf("message %q does not say the limit is localaws's", re.msg)
	}
	// The request (JSON, base64) and the image bytes take ~20 MiB; decoding
	// would take 373.
	if limit := int64(64 << 20); got > limit {
		t.Errorf("refusing it allocated %d MiB; want under %d MiB", got>>20, limit>>20)
	}
}

func detectBody(t *testing.T, img []byte) *bytes.Reader {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Image": map[string]any{"Bytes": img}})
	if err != nil {
		t.Fatal(err)
	}
	return bytes.NewReader(b)
}
