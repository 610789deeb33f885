package upload

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
)

// Dimension limits checked on the header alone, before any pixel is read:
// a small file can claim a huge canvas, and nothing downstream needs more.
// (Rekognition itself rejects images over 15 MB from S3; 50 megapixels is
// far beyond any photo a phone takes today.)
const (
	maxSide   = 20000
	maxPixels = 50_000_000
)

var (
	pngSignature = []byte("\x89PNG\r\n\x1a\n")
	jpegPrefix   = []byte{0xFF, 0xD8, 0xFF}
)

// format is what the content says the file is.
type format struct {
	ext, contentType string
	decodeConfig     func(io.Reader) (image.Config, error)
	verify           func(*chunkBuf) error
}

var (
	formatPNG  = format{"png", "image/png", png.DecodeConfig, verifyPNG}
	formatJPEG = format{"jpg", "image/jpeg", jpeg.DecodeConfig, verifyJPEG}
)

// sniff returns the format named by head's signature, or nil for anything
// that is neither JPEG nor PNG (text, GIF, WebP, random bytes, ...).
func sniff(head []byte) *format {
	switch {
	case bytes.HasPrefix(head, pngSignature):
		return &formatPNG
	case bytes.HasPrefix(head, jpegPrefix):
		return &formatJPEG
	}
	return nil
}

// checkDimensions refuses empty or absurd canvases.
func checkDimensions(c image.Config) error {
	if c.Width <= 0 || c.Height <= 0 {
		return errMalformed
	}
	if c.Width > maxSide || c.Height > maxSide || int64(c.Width)*int64(c.Height) > maxPixels {
		return errTooManyPixels
	}
	return nil
}

var (
	errMalformed     = errors.New("malformed image")
	errTooManyPixels = errors.New("image dimensions too large")
	errTruncated     = errors.New("image is truncated")
)

// verifyPNG walks the chunks of a whole PNG without inflating anything: every
// chunk must fit and carry a correct CRC, and the file must reach IEND. This
// refuses truncated files that still have a valid header. Bytes after IEND
// are accepted and stored as sent (decoders ignore them; see docs/services.md).
// https://www.w3.org/TR/png-3/#5Chunk-layout
func verifyPNG(b *chunkBuf) error {
	if !b.equal(0, string(pngSignature)) {
		return errMalformed
	}
	i := len(pngSignature)
	for first := true; ; first = false {
		if b.Len()-i < 12 {
			return errTruncated
		}
		n := b.u32(i)
		if n > 1<<31-1 {
			return fmt.Errorf("%w: chunk length %d", errMalformed, n)
		}
		end := i + 8 + int(n)
		if end+4 > b.Len() || end < i {
			return errTruncated
		}
		if b.crc(i+4, end) != b.u32(end) {
			return fmt.Errorf("%w: bad CRC in chunk %q", errMalformed, chunkType(b, i+4))
		}
		if first && !b.equal(i+4, "IHDR") {
			return fmt.Errorf("%w: first chunk is %q, not IHDR", errMalformed, chunkType(b, i+4))
		}
		if b.equal(i+4, "IEND") {
			return nil
		}
		i = end + 4
	}
}

func chunkType(b *chunkBuf, i int) string {
	return string([]byte{b.at(i), b.at(i + 1), b.at(i + 2), b.at(i + 3)})
}

// verifyJPEG walks the marker segments of a whole JPEG, skipping each
// segment by its length and each scan's entropy-coded data (where 0xFF is
// always stuffed as FF00 or a restart marker), until the EOI marker. Bytes
// after EOI are accepted and stored as sent: phones append data there (a
// motion photo's video, for one). A file cut short never reaches EOI and is
// refused.
// https://www.w3.org/Graphics/JPEG/itu-t81.pdf (B.1.1, B.2)
func verifyJPEG(b *chunkBuf) error {
	if !b.equal(0, string(jpegPrefix[:2])) {
		return errMalformed
	}
	i := 2
	for {
		if i+1 >= b.Len() {
			return errTruncated
		}
		if b.at(i) != 0xFF {
			return fmt.Errorf("%w: expected a marker at offset %d", errMalformed, i)
		}
		for b.at(i+1) == 0xFF { // fill bytes before a marker
			i++
			if i+1 >= b.Len() {
				return errTruncated
			}
		}
		m := b.at(i + 1)
		i += 2
		switch {
		case m == 0xD9: // EOI
			return nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			continue
		}
		if i+2 > b.Len() {
			return errTruncated
		}
		n := int(b.u16(i))
		if n < 2 {
			return fmt.Errorf("%w: segment length %d", errMalformed, n)
		}
		i += n
		if i > b.Len() {
			return errTruncated
		}
		if m != 0xDA { // not SOS
			continue
		}
		var err error
		if i, err = skipEntropyCoded(b, i); err != nil {
			return err
		}
	}
}

// skipEntropyCoded returns the offset of the marker that ends the
// entropy-coded data starting at i: the first 0xFF not followed by 0x00
// (stuffing), a restart marker or another 0xFF (fill).
func skipEntropyCoded(b *chunkBuf, i int) (int, error) {
	for {
		i = b.indexFF(i)
		if i < 0 || i+1 >= b.Len() {
			return 0, errTruncated
		}
		next := b.at(i + 1)
		switch {
		case next == 0x00 || (next >= 0xD0 && next <= 0xD7):
			i += 2
		case next == 0xFF:
			i++
		default:
			return i, nil
		}
	}
}
