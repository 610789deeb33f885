package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"image"
	"image/jpeg"
	"math/rand/v2"
)

// sizeClass is one image size of the sweep: a target byte size and the
// canvas a camera would give a JPEG of about that size.
type sizeClass struct {
	Name          string
	Target        int
	Width, Height int
}

// sizeClasses are the sweep's image sizes (~50 KB, ~300 KB, ~3 MB, ~9 MB).
// The canvases are photo-like (the labeler decodes every pixel, so the
// pixel count matters as much as the byte count); the noise level is tuned
// until the JPEG reaches the target size. 9 MB stays under upload's 10 MiB
// request limit with the multipart framing.
var sizeClasses = []sizeClass{
	{"50KB", 50_000, 640, 480},
	{"300KB", 300_000, 1280, 960},
	{"3MB", 3_000_000, 3000, 2000},
	{"9MB", 9_000_000, 4000, 3000},
}

func findSize(name string) (sizeClass, error) {
	for _, s := range sizeClasses {
		if s.Name == name {
			return s, nil
		}
	}
	return sizeClass{}, fmt.Errorf("image size %q: want one of 50KB, 300KB, 3MB, 9MB", name)
}

// photo draws a w×h picture: a smooth two-colour gradient (so the labeler
// sees a scene, not grey noise) plus uniform noise of ±amp per channel,
// which is what sets the JPEG's size. The seed makes it reproducible.
func photo(w, h, amp int, seed uint64) *image.RGBA {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			base := [3]int{40 + 150*x/w, 90 + 100*y/h, 200 - 120*x/w}
			o := img.PixOffset(x, y)
			for c := range 3 {
				v := base[c]
				if amp > 0 {
					v += rng.IntN(2*amp+1) - amp
				}
				img.Pix[o+c] = uint8(min(max(v, 0), 255))
			}
			img.Pix[o+3] = 255
		}
	}
	return img
}

func encodeJPEG(img image.Image) ([]byte, error) {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 92}); err != nil {
		return nil, fmt.Errorf("encode jpeg: %w", err)
	}
	return b.Bytes(), nil
}

// baseImage returns a JPEG of about s.Target bytes on s's canvas. The noise
// level is searched on a 1/16 crop (JPEG size grows with the area at equal
// noise), so only one full-size encode is paid.
func baseImage(s sizeClass) ([]byte, error) {
	cw, ch := max(s.Width/4, 16), max(s.Height/4, 16)
	scale := float64(s.Width*s.Height) / float64(cw*ch)
	// The headers and tables do not grow with the area: scale only the rest.
	hdr, err := encodeJPEG(photo(8, 8, 0, 1))
	if err != nil {
		return nil, err
	}
	fixed := float64(len(hdr))
	lo, hi := 0, 128
	for lo < hi {
		mid := (lo + hi) / 2
		b, err := encodeJPEG(photo(cw, ch, mid, 1))
		if err != nil {
			return nil, err
		}
		if (float64(len(b))-fixed)*scale+fixed < float64(s.Target) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return encodeJPEG(photo(s.Width, s.Height, lo, 1))
}

// variant is one distinct upload made from a base JPEG: a COM (comment)
// segment carrying a unique tag right after SOI. Every variant has other
// bytes, hence another SHA-256 and another object key, at the cost of
// 4+len(tag) bytes and no re-encode; decoders skip COM segments.
// https://www.w3.org/Graphics/JPEG/itu-t81.pdf (B.2.4.5, COM)
type variant struct {
	head []byte // SOI + COM segment
	rest []byte // the base image after SOI (shared, never written)
}

func newVariant(base []byte, tag string) variant {
	head := make([]byte, 0, 6+len(tag))
	head = append(head, 0xFF, 0xD8, 0xFF, 0xFE)
	head = binary.BigEndian.AppendUint16(head, uint16(2+len(tag)))
	head = append(head, tag...)
	return variant{head: head, rest: base[2:]}
}

func (v variant) Len() int { return len(v.head) + len(v.rest) }

// Bytes returns the variant as one slice (a copy).
func (v variant) Bytes() []byte {
	return append(append(make([]byte, 0, v.Len()), v.head...), v.rest...)
}
