package localaws

import (
	"cmp"
	"image"
	"math"
	"slices"
)

// This file is localaws's stand-in for Rekognition's label model. It is NOT
// a vision model: it looks at colours, brightness, a few scene cues and the
// shape of the image, deterministically, so the same pixels always give the
// same labels. docs/localaws.md describes the method for users.

// gridMax is the side of the coarse grid every image is reduced to before
// analysis: work (and memory beyond the decoded image) stays constant
// whatever the image's size.
const gridMax = 128

// Label categories, named as Rekognition names its own categories.
// https://docs.aws.amazon.com/rekognition/latest/dg/labels.html
const (
	catColors  = "Colors and Visual Composition"
	catNature  = "Nature and Outdoors"
	catPlants  = "Plants and Flowers"
	catTexture = "Patterns and Shapes"
)

// label is one computed label before it is shaped for the wire.
type label struct {
	Name       string
	Confidence float64
	Parents    []string
	Category   string
}

// cell is one grid cell: mean colour in HSV, luminance and brightness, all
// in [0,1] (hue in degrees [0,360)).
type cell struct {
	h, s, v, lum float64
	// bright averages luminance and value, so saturated colours (pure red
	// has luminance 0.21) do not read as dark.
	bright float64
}

// sampleGrid reduces img to at most gridMax×gridMax cells, each the mean of
// up to 3×3 evenly spaced pixels inside it.
func sampleGrid(img image.Image) (cells []cell, gw, gh int) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 {
		return nil, 0, 0
	}
	gw, gh = min(w, gridMax), min(h, gridMax)
	cells = make([]cell, 0, gw*gh)
	for gy := range gh {
		y0, y1 := b.Min.Y+gy*h/gh, b.Min.Y+(gy+1)*h/gh
		for gx := range gw {
			x0, x1 := b.Min.X+gx*w/gw, b.Min.X+(gx+1)*w/gw
			var r, g, bl float64
			n := 0
			for sy := range 3 {
				y := y0 + (y1-y0)*(2*sy+1)/6
				for sx := range 3 {
					x := x0 + (x1-x0)*(2*sx+1)/6
					cr, cg, cb, ca := img.At(x, y).RGBA()
					// Composite transparent pixels over white, as a viewer would.
					a := float64(ca) / 0xffff
					r += float64(cr)/0xffff + (1 - a)
					g += float64(cg)/0xffff + (1 - a)
					bl += float64(cb)/0xffff + (1 - a)
					n++
				}
			}
			r, g, bl = r/float64(n), g/float64(n), bl/float64(n)
			hh, ss, vv := rgbToHSV(r, g, bl)
			lum := 0.2126*r + 0.7152*g + 0.0722*bl
			cells = append(cells, cell{h: hh, s: ss, v: vv, lum: lum, bright: (lum + vv) / 2})
		}
	}
	return cells, gw, gh
}

func rgbToHSV(r, g, b float64) (h, s, v float64) {
	mx := max(r, g, b)
	mn := min(r, g, b)
	v = mx
	d := mx - mn
	if mx > 0 {
		s = d / mx
	}
	if d == 0 {
		return 0, s, v
	}
	switch mx {
	case r:
		h = 60 * math.Mod((g-b)/d, 6)
	case g:
		h = 60 * ((b-r)/d + 2)
	default:
		h = 60 * ((r-g)/d + 4)
	}
	if h < 0 {
		h += 360
	}
	return h, s, v
}

// colourName names a cell's colour: achromatic names first (by value and
// saturation), then hue bands.
func colourName(c cell) string {
	switch {
	case c.v < 0.18:
		return "Black"
	case c.s < 0.15 && c.v > 0.85:
		return "White"
	case c.s < 0.15:
		return "Gray"
	}
	h := c.h
	switch {
	case h < 15 || h >= 345:
		if c.s < 0.5 && c.v > 0.7 {
			return "Pink"
		}
		return "Red"
	case h < 45:
		if c.v < 0.6 {
			return "Brown"
		}
		return "Orange"
	case h < 70:
		return "Yellow"
	case h < 165:
		return "Green"
	case h < 195:
		return "Cyan"
	case h < 260:
		return "Blue"
	case h < 290:
		return "Purple"
	default:
		if c.s < 0.5 && c.v > 0.7 {
			return "Pink"
		}
		return "Purple"
	}
}

// fractionConfidence maps the fraction of the image showing a cue to a
// confidence: 10% of the image gives 60, 30% gives 80, half or more 99.5.
func fractionConfidence(f float64) float64 {
	return clampConf(50 + 100*f)
}

func clampConf(c float64) float64 {
	return min(99.5, max(0, c))
}

// round2 keeps confidences readable and stable across platforms.
func round2(c float64) float64 { return math.Round(c*100) / 100 }

// computeLabels returns every label the method finds in img (no filtering),
// sorted by confidence descending, then name.
func computeLabels(img image.Image) []label {
	cells, gw, gh := sampleGrid(img)
	if len(cells) == 0 {
		return nil
	}
	var out []label
	add := func(l label) {
		l.Confidence = round2(l.Confidence)
		out = append(out, l)
	}

	meanLum, meanSat := colourLabels(cells, add)
	toneLabels(meanLum, meanSat, add)
	sceneLabels(cells, gw, gh, add)
	textureLabels(cells, gw, gh, add)
	orientationLabel(img.Bounds(), add)

	slices.SortFunc(out, func(a, b label) int {
		if c := cmp.Compare(b.Confidence, a.Confidence); c != 0 {
			return c
		}
		return cmp.Compare(a.Name, b.Name)
	})
	return out
}

// colourLabels adds the dominant colours: every colour covering at least 10%
// of the image, and their parent Color. It returns the image's mean
// brightness and saturation, summed in the same pass.
func colourLabels(cells []cell, add func(label)) (meanLum, meanSat float64) {
	n := float64(len(cells))
	counts := map[string]int{}
	var lumSum, satSum float64
	for _, c := range cells {
		counts[colourName(c)]++
		lumSum += c.bright
		satSum += c.s
	}
	colourConf := 0.0
	for name, k := range counts {
		f := float64(k) / n
		if f < 0.10 {
			continue
		}
		conf := fractionConfidence(f)
		colourConf = max(colourConf, conf)
		add(label{Name: name, Confidence: conf, Parents: []string{"Color"}, Category: catColors})
	}
	if colourConf > 0 {
		// Rekognition also returns each parent as a label of its own.
		add(label{Name: "Color", Confidence: colourConf, Category: catColors})
	}
	return lumSum / n, satSum / n
}

// toneLabels adds the brightness and saturation labels of the whole image.
func toneLabels(meanLum, meanSat float64, add func(label)) {
	switch {
	case meanLum >= 0.7:
		add(label{Name: "Bright", Confidence: clampConf(60 + 130*(meanLum-0.7)), Category: catColors})
	case meanLum <= 0.3:
		add(label{Name: "Dark", Confidence: clampConf(60 + 130*(0.3-meanLum)), Category: catColors})
	}
	if meanSat < 0.08 {
		add(label{Name: "Monochrome", Confidence: clampConf(99.5 - 500*meanSat), Category: catColors})
	}
}

// sceneLabels adds the scene cues that come from where colours are: sky and
// sunset in the top third, water in the bottom third, vegetation anywhere,
// and Nature and Outdoors when any of them is found.
func sceneLabels(cells []cell, gw, gh int, add func(label)) {
	n := float64(len(cells))
	isSkyBlue := func(c cell) bool { return c.h >= 185 && c.h < 250 && c.s >= 0.2 && c.v >= 0.4 }
	isWarm := func(c cell) bool { return (c.h < 50 || c.h >= 340) && c.s >= 0.35 && c.v >= 0.4 }
	isGreen := func(c cell) bool { return c.h >= 70 && c.h < 165 && c.s >= 0.2 && c.v >= 0.15 }
	top := max(1, gh/3)
	var skyTop, warmTop, blueBottom, topN, bottomN, topBright, bottomBright float64
	var green float64
	for y := range gh {
		for x := range gw {
			c := cells[y*gw+x]
			if y < top {
				topN++
				topBright += c.bright
				if isSkyBlue(c) {
					skyTop++
				}
				if isWarm(c) {
					warmTop++
				}
			}
			if y >= gh-top {
				bottomN++
				bottomBright += c.bright
				if isSkyBlue(c) {
					blueBottom++
				}
			}
			if isGreen(c) {
				green++
			}
		}
	}
	outdoors := 0.0
	if f := skyTop / topN; f >= 0.4 {
		conf := clampConf(40 + 60*f)
		outdoors = max(outdoors, conf)
		add(label{Name: "Sky", Confidence: conf, Parents: []string{"Nature", "Outdoors"}, Category: catNature})
	}
	// A sunset is a warm sky over darker ground, not any orange picture.
	if f := warmTop / topN; f >= 0.4 && bottomBright/bottomN < topBright/topN-0.15 {
		conf := clampConf(30 + 60*f)
		outdoors = max(outdoors, conf)
		add(label{Name: "Sunset", Confidence: conf, Parents: []string{"Nature", "Outdoors", "Sky"}, Category: catNature})
	}
	if f := blueBottom / bottomN; f >= 0.5 {
		conf := clampConf(30 + 50*f)
		outdoors = max(outdoors, conf)
		add(label{Name: "Water", Confidence: conf, Parents: []string{"Nature", "Outdoors"}, Category: catNature})
	}
	if f := green / n; f >= 0.3 {
		conf := clampConf(40 + 70*f)
		outdoors = max(outdoors, conf*0.9)
		add(label{Name: "Vegetation", Confidence: conf, Parents: []string{"Plant"}, Category: catPlants})
		add(label{Name: "Plant", Confidence: conf, Category: catPlants})
	}
	if outdoors > 0 {
		add(label{Name: "Nature", Confidence: outdoors, Category: catNature})
		add(label{Name: "Outdoors", Confidence: outdoors * 0.95, Category: catNature})
	}
}

// textureLabels adds Texture and Pattern from how often neighbouring cells
// differ visibly in luminance.
func textureLabels(cells []cell, gw, gh int, add func(label)) {
	var edges, pairs float64
	for y := range gh {
		for x := range gw {
			c := cells[y*gw+x].lum
			if x+1 < gw {
				pairs++
				if math.Abs(c-cells[y*gw+x+1].lum) > 0.12 {
					edges++
				}
			}
			if y+1 < gh {
				pairs++
				if math.Abs(c-cells[(y+1)*gw+x].lum) > 0.12 {
					edges++
				}
			}
		}
	}
	if pairs > 0 {
		if d := edges / pairs; d >= 0.25 {
			add(label{Name: "Texture", Confidence: clampConf(50 + 80*d), Category: catTexture})
			if d >= 0.5 {
				add(label{Name: "Pattern", Confidence: clampConf(30 + 80*d), Category: catTexture})
			}
		}
	}
}

// orientationLabel adds Square, Landscape or Portrait from the aspect ratio,
// capped at 99 so that a content label at full confidence ranks above it.
func orientationLabel(b image.Rectangle, add func(label)) {
	ratio := float64(b.Dx()) / float64(b.Dy())
	switch {
	case ratio >= 0.95 && ratio <= 1/0.95:
		add(label{Name: "Square", Confidence: min(99, clampConf(99-400*math.Abs(ratio-1))), Category: catColors})
	case ratio > 1:
		add(label{Name: "Landscape", Confidence: min(99, clampConf(60+80*(ratio-1))), Category: catColors})
	default:
		add(label{Name: "Portrait", Confidence: min(99, clampConf(60+80*(1/ratio-1))), Category: catColors})
	}
}
