package main

import (
	"bytes"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"testing"
)

// TestCommittedSampleIsGenerated: docs/sample.jpg is what this program
// draws (go generate ./internal/sampleimage after changing it). Pixels are
// compared with a small tolerance, not bytes: platforms that fuse
// multiply-adds may round a few pixels differently.
func TestCommittedSampleIsGenerated(t *testing.T) {
	committed, err := os.ReadFile(filepath.Join("..", "..", "docs", "sample.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := render()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(committed, fresh) {
		return
	}
	a, b := decode(t, committed), decode(t, fresh)
	if a.Bounds() != b.Bounds() {
		t.Fatalf("docs/sample.jpg is %v; the program draws %v: run go generate ./internal/sampleimage", a.Bounds(), b.Bounds())
	}
	worst := 0
	for y := range a.Bounds().Dy() {
		for x := range a.Bounds().Dx() {
			r1, g1, b1, _ := a.At(x, y).RGBA()
			r2, g2, b2, _ := b.At(x, y).RGBA()
			for _, d := range []int{int(r1>>8) - int(r2>>8), int(g1>>8) - int(g2>>8), int(b1>>8) - int(b2>>8)} {
				worst = max(worst, d, -d)
			}
		}
	}
	if worst > 4 {
		t.Errorf("docs/sample.jpg differs from what the program draws by up to %d levels: run go generate ./internal/sampleimage", worst)
	}
}

func TestRenderIsASmallJPEG(t *testing.T) {
	data, err := render()
	if err != nil {
		t.Fatal(err)
	}
	img := decode(t, data)
	if img.Bounds() != image.Rect(0, 0, width, height) || len(data) > 64<<10 {
		t.Errorf("sample is %v, %d bytes; want %dx%d under 64 KiB", img.Bounds(), len(data), width, height)
	}
}

func decode(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode sample: %v", err)
	}
	return img
}
