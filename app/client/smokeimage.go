package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"sync"
)

// smokeImage returns the JPEG the smoke command uploads: a small outdoor
// scene (a sky that lightens towards the horizon, a sun, a grass field),
// the kind of picture both Rekognition and the local stand-in label. It is
// drawn and encoded here, not shipped as a file, so the client binary needs
// nothing beside it; the bytes (and so the key) are the same on every run
// with the same Go version.
var smokeImage = sync.OnceValue(func() []byte {
	const w, h = 96, 64
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			var c color.RGBA
			switch dx, dy := x-72, y-14; {
			case dx*dx+dy*dy <= 49: // the sun, radius 7
				c = color.RGBA{255, 236, 140, 255}
			case y < 40: // sky, lighter near the horizon
				c = color.RGBA{uint8(70 + 2*y), uint8(140 + y), 235, 255}
			default: // grass, with a little texture so it is not flat
				c = color.RGBA{uint8(40 + (x*7+y*3)%20), uint8(140 + (x*5+y*11)%30), 45, 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		panic("encode the smoke image: " + err.Error()) // writes to memory cannot fail
	}
	return b.Bytes()
})
