package localaws

import (
	"bytes"
	"encoding/binary"
)

// decodeCost returns the bytes Go's image/png or image/jpeg decoder
// allocates to decode data (a w×h image of the given format, as
// image.DecodeConfig read it), from the header fields that decide it: a
// 16-bit PNG decodes to 8 bytes per pixel, a grey one to 1; a progressive
// JPEG keeps 4 bytes of coefficients per sample besides its planes. When
// the header cannot be read here the worst case of the format is returned.
func decodeCost(data []byte, format string, w, h int) int64 {
	switch format {
	case "png":
		if c, ok := pngCost(data); ok {
			return c
		}
		return 16 * int64(w) * int64(h) // 8 bytes per pixel, interlaced
	case "jpeg":
		if c, ok := jpegCost(data); ok {
			return c
		}
		return 24 * int64(w) * int64(h) // 4 progressive CMYK planes, converted
	}
	return 24 * int64(w) * int64(h)
}

// PNG colour types. https://www.w3.org/TR/png/#6Colour-values
const (
	pngGrey      = 0
	pngTruecolor = 2
	pngIndexed   = 3
	pngGreyAlpha = 4
	pngRGBA      = 6
)

// pngCost reads IHDR, and looks for a tRNS chunk before the first IDAT
// (transparency turns grey and truecolour into NRGBA in image/png).
// https://www.w3.org/TR/png/#11IHDR
func pngCost(data []byte) (int64, bool) {
	// 8-byte signature, then IHDR: length, "IHDR", width, height, bit depth,
	// colour type, compression, filter, interlace.
	if len(data) < 33 || string(data[12:16]) != "IHDR" {
		return 0, false
	}
	w := int64(binary.BigEndian.Uint32(data[16:20]))
	h := int64(binary.BigEndian.Uint32(data[20:24]))
	depth, colour, interlaced := int64(data[24]), data[25], data[28] == 1
	transparent := pngHasTRNS(data[8:])
	var perPixel int64 // bytes per pixel of the decoded image
	switch colour {
	case pngIndexed:
		perPixel = 1
	case pngGrey:
		perPixel = map[bool]int64{false: 1, true: 4}[transparent]
		if depth == 16 {
			perPixel = map[bool]int64{false: 2, true: 8}[transparent]
		}
	case pngTruecolor, pngGreyAlpha, pngRGBA:
		perPixel = 4
		if depth == 16 {
			perPixel = 8
		}
	default:
		return 0, false
	}
	channels := map[byte]int64{pngGrey: 1, pngTruecolor: 3, pngIndexed: 1, pngGreyAlpha: 2, pngRGBA: 4}[colour]
	rowBytes := 1 + (channels*depth*w+7)/8 // the current and previous raw rows
	cost := perPixel*w*h + 2*rowBytes
	if interlaced {
		// The Adam7 passes are decoded into their own images, then merged
		// into the full one: together they are as large again.
		cost *= 2
	}
	return cost, true
}

// pngHasTRNS walks the chunks before the first IDAT looking for tRNS.
func pngHasTRNS(chunks []byte) bool {
	for len(chunks) >= 12 {
		n := int64(binary.BigEndian.Uint32(chunks[:4]))
		typ := string(chunks[4:8])
		switch typ {
		case "tRNS":
			return true
		case "IDAT", "IEND":
			return false
		}
		if n > int64(len(chunks))-12 {
			return false
		}
		chunks = chunks[12+n:]
	}
	return false
}

// jpegCost reads the frame header (SOF) and the JFIF and Adobe markers before
// it, and counts what image/jpeg allocates: the planes rounded up to whole
// MCUs, a block of 64 int32 coefficients per 8×8 block of every component
// when progressive, the black plane and CMYK image of 4-component files, and
// the RGBA image of 3-component files it converts from RGB.
// https://www.w3.org/Graphics/JPEG/itu-t81.pdf (B.2.2, frame header)
func jpegCost(data []byte) (int64, bool) {
	if len(data) < 4 || data[0] != 0xff || data[1] != 0xd8 {
		return 0, false
	}
	jfif, adobeRGB := false, false
	for p := 2; p+4 <= len(data); {
		if data[p] != 0xff {
			return 0, false
		}
		marker := data[p+1]
		if marker == 0xff { // fill byte
			p++
			continue
		}
		if marker >= 0xd0 && marker <= 0xd7 || marker == 0x01 { // no length
			p += 2
			continue
		}
		n := int(binary.BigEndian.Uint16(data[p+2 : p+4]))
		if n < 2 || p+2+n > len(data) {
			return 0, false
		}
		seg := data[p+4 : p+2+n]
		switch {
		case marker == 0xe0 && bytes.HasPrefix(seg, []byte("JFIF\x00")):
			jfif = true
		case marker == 0xee && len(seg) >= 12 && bytes.HasPrefix(seg, []byte("Adobe")):
			adobeRGB = seg[11] == 0 // transform 0: RGB (or CMYK)
		case marker == 0xc0 || marker == 0xc1 || marker == 0xc2:
			return sofCost(seg, marker == 0xc2, !jfif && adobeRGB)
		case marker == 0xda: // scan data before any frame header
			return 0, false
		}
		p += 2 + n
	}
	return 0, false
}

// sofCost counts a frame header's allocations; see jpegCost.
func sofCost(seg []byte, progressive, adobeRGB bool) (int64, bool) {
	if len(seg) < 6 {
		return 0, false
	}
	h, w, n := int64(binary.BigEndian.Uint16(seg[1:3])), int64(binary.BigEndian.Uint16(seg[3:5])), int(seg[5])
	if n != 1 && n != 3 && n != 4 || len(seg) < 6+3*n {
		return 0, false
	}
	type comp struct{ id, h, v int64 }
	comps := make([]comp, n)
	for i := range comps {
		c := seg[6+3*i:]
		comps[i] = comp{int64(c[0]), int64(c[1] >> 4), int64(c[1] & 0x0f)}
		if comps[i].h < 1 || comps[i].v < 1 {
			return 0, false
		}
	}
	if n == 1 {
		comps[0].h, comps[0].v = 1, 1 // sampling factors do not apply to one component
	}
	// image/jpeg sizes everything in MCUs of the first component.
	h0, v0 := comps[0].h, comps[0].v
	mxx, myy := (w+8*h0-1)/(8*h0), (h+8*v0-1)/(8*v0)
	var cost int64
	for _, c := range comps {
		blocks := mxx * myy * c.h * c.v
		cost += blocks * 64 // the plane, 1 byte per sample
		if progressive {
			cost += blocks * 64 * 4
		}
	}
	rgb := n == 3 && (adobeRGB || comps[0].id == 'R' && comps[1].id == 'G' && comps[2].id == 'B')
	if n == 4 || rgb {
		cost += 4 * w * h // converted to CMYK or RGBA
	}
	return cost, true
}

// maxJPEGScans bounds the scans of one JPEG. Decoding costs a pass over
// every block of the scan's components per scan, and a progressive scan of
// nothing but end-of-band runs is ~46 bytes whatever the image's size: 5,000
// such scans of a 7000×7000 image (476 KB) took 85 s of CPU before this
// bound. Encoders write far fewer: libjpeg's progressive script has 10 scans
// for colour and 6 for grey, baseline files one per component (at most 4).
// libjpeg-turbo offers the same guard against this attack (TJPARAM_SCANLIMIT
// in turbojpeg.h, djpeg -maxscans).
const maxJPEGScans = 100

// jpegScans counts the scans (SOS markers) image/jpeg would decode in data,
// walking the marker segments as its decoder does (image/jpeg reader.go,
// decode): every segment but the restart markers carries a 16-bit length
// that is skipped whole, so a 0xFFDA inside an APPn or COM payload is not a
// scan; between segments, and in the entropy-coded data after an SOS header,
// any byte other than 0xFF is data, 0xFF00 is a stuffed 0xFF, RST0–RST7 are
// restart markers, and 0xFF fill bytes may precede a marker. The walk stops
// at EOI, where the decoder stops (data after it, such as a motion photo's
// video, is never decoded). A truncated file ends the count; the decoder
// then fails on it anyway.
// https://www.w3.org/Graphics/JPEG/itu-t81.pdf (B.1.1.2 markers, B.1.1.5 entropy-coded segments)
func jpegScans(data []byte) int {
	scans := 0
	p := 2 // after SOI
	for p+1 < len(data) {
		if data[p] != 0xff {
			p++ // entropy-coded or extraneous data
			continue
		}
		marker := data[p+1]
		switch {
		case marker == 0x00: // stuffed 0xFF in entropy-coded data
			p += 2
			continue
		case marker == 0xff: // fill byte before a marker
			p++
			continue
		case marker == 0xd9: // EOI
			return scans
		case marker >= 0xd0 && marker <= 0xd7: // RSTn: no length
			p += 2
			continue
		}
		if p+4 > len(data) {
			return scans
		}
		if marker == 0xda {
			scans++
		}
		// The length counts its own two bytes; the SOS header is followed by
		// entropy-coded data, which the loop above skips.
		p += 2 + int(binary.BigEndian.Uint16(data[p+2:p+4]))
	}
	return scans
}
