// Command sampleimage draws docs/sample.jpg, the picture the quickstart
// uploads: a landscape of sky, sun and green hills over a lake, drawn in
// code and encoded with the standard library's JPEG encoder, so a fresh
// clone has an image to try and anyone can see how it was made. The output
// is the same on every run (a test checks the committed file against it;
// platforms that fuse multiply-adds may differ in the last bit of a few
// pixels). Regenerate with:
//
//	go generate ./internal/sampleimage
//
//go:generate go run . -o ../../docs/sample.jpg
package main

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"os"
)

// Size and quality: small enough to upload in a blink (about 30 KB), large
// enough to look like a photo in the page.
const (
	width   = 640
	height  = 427
	quality = 85
)

func main() {
	out := flag.String("o", "sample.jpg", "where to write the JPEG")
	flag.Parse()
	data, err := render()
	if err == nil {
		err = os.WriteFile(*out, data, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "sampleimage:", err)
		os.Exit(1)
	}
}

// render draws the scene and returns it as a JPEG.
func render() ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := range height {
		for x := range width {
			img.SetRGBA(x, y, pixel(float64(x), float64(y)))
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: quality}); err != nil {
		return nil, fmt.Errorf("encode sample: %w", err)
	}
	return b.Bytes(), nil
}

// pixel is the scene at (x, y): sky above a hilly horizon, a sun with a
// soft halo, grass on the hills, and a lake along the bottom that mirrors
// the sky.
func pixel(x, y float64) color.RGBA {
	horizon := 0.48*height + 22*math.Sin(x/95) + 10*math.Sin(x/37+1.3)
	lake := 0.80*height + 4*math.Sin(x/23)
	switch {
	case y < horizon:
		return sky(x, y)
	case y < lake:
		// Grass: greener and darker away from the light, with stripes of
		// mown texture.
		t := (y - horizon) / (lake - horizon)
		stripe := 10 * math.Sin(x/9+y/5)
		return rgb(60-25*t+stripe/2, 150-40*t+stripe, 55-20*t)
	default:
		// Water: the sky's blue, darker, with ripples.
		c := sky(x, 2*lake-y)
		ripple := 12 * math.Sin(y*1.7+x/31)
		return rgb(float64(c.R)*0.7+ripple, float64(c.G)*0.75+ripple, float64(c.B)*0.9+ripple)
	}
}

// sky is a blue gradient, paler towards the horizon, with the sun.
func sky(x, y float64) color.RGBA {
	t := y / (0.55 * height)
	r, g, b := 70+90*t, 130+80*t, 225+25*t
	sunX, sunY := 0.76*width, 0.16*height
	d := math.Hypot(x-sunX, y-sunY)
	switch {
	case d < 28:
		return rgb(255, 240, 170)
	case d < 70:
		k := (70 - d) / 42 * 0.6 // halo fading into the blue
		return rgb(r+(255-r)*k, g+(235-g)*k, b+(190-b)*k)
	}
	return rgb(r, g, b)
}

// rgb clamps each channel into 0..255.
func rgb(r, g, b float64) color.RGBA {
	c := func(v float64) uint8 { return uint8(math.Round(math.Max(0, math.Min(255, v)))) }
	return color.RGBA{R: c(r), G: c(g), B: c(b), A: 255}
}
