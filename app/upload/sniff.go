package upload

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
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
	verify           func([]byte) error
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
// refuses truncated files that still have a valid header.
// https://www.w3.org/TR/png-3/#5Chunk-layout
func verifyPNG(b []byte) error {
	if !bytes.HasPrefix(b, pngSignature) {
		return errMalformed
	}
	i := len(pngSignature)
	for first := true; ; first = false {
		if len(b)-i < 12 {
			return errTruncated
		}
		n := binary.BigEndian.Uint32(b[i:])
		typ := b[i+4 : i+8]
		if n > 1<<31-1 {
			return fmt.Errorf("%w: chunk length %d", errMalformed, n)
		}
		end := i + 8 + int(n)
		if end+4 > len(b) || end < i {
			return errTruncated
		}
		if crc32.ChecksumIEEE(b[i+4:end]) != binary.BigEndian.Uint32(b[end:]) {
			return fmt.Errorf("%w: bad CRC in chunk %q", errMalformed, typ)
		}
		if first && string(typ) != "IHDR" {
			return fmt.Errorf("%w: first chunk is %q, not IHDR", errMalformed, typ)
		}
		if string(typ) == "IEND" {
			return nil
		}
		i = end + 4
	}
}

// verifyJPEG walks the marker segments of a whole JPEG, skipping each
// segment by its length and each scan's entropy-coded data (where 0xFF is
// always stuffed as FF00 or a restart marker), until the EOI marker. Bytes
// after EOI are allowed (some cameras append data there). A file cut short
// never reaches EOI and is refused.
// https://www.w3.org/Graphics/JPEG/itu-t81.pdf (B.1.1, B.2)
func verifyJPEG(b []byte) error {
	if !bytes.HasPrefix(b, jpegPrefix[:2]) {
		return errMalformed
	}
	i := 2
	for {
		if i+1 >= len(b) {
			return errTruncated
		}
		if b[i] != 0xFF {
			return fmt.Errorf("%w: expected a marker at offset %d", errMalformed, i)
		}
		for b[i+1] == 0xFF { // fill bytes before a marker
			i++
			if i+1 >= len(b) {
				return errTruncated
			}
		}
		m := b[i+1]
		i += 2
		switch {
		case m == 0xD9: // EOI
			return nil
		case m == 0x01 || (m >= 0xD0 && m <= 0xD7): // TEM, RSTn: no length
			continue
		}
		if i+2 > len(b) {
			return errTruncated
		}
		n := int(binary.BigEndian.Uint16(b[i:]))
		if n < 2 {
			return fmt.Errorf("%w: segment length %d", errMalformed, n)
		}
		i += n
		if i > len(b) {
			return errTruncated
		}
		if m != 0xDA { // not SOS
			continue
		}
		// Entropy-coded data runs until a marker other than FF00 or RSTn.
		for {
			if i+1 >= len(b) {
				return errTruncated
			}
			if b[i] == 0xFF {
				next := b[i+1]
				if next == 0x00 || (next >= 0xD0 && next <= 0xD7) {
					i += 2
					continue
				}
				if next != 0xFF {
					break
				}
			}
			i++
		}
	}
}
