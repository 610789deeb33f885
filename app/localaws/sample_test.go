package localaws

import (
	"bytes"
	"image"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestSampleImageLabels: the quickstart's docs/sample.jpg (made by
// internal/sampleimage) gets labels that describe it: sky, sun-lit green
// hills, outdoors, a landscape.
func TestSampleImageLabels(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "sample.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range computeLabels(img) {
		names = append(names, l.Name)
		t.Logf("%s %.2f", l.Name, l.Confidence)
	}
	for _, want := range []string{"Sky", "Vegetation", "Nature", "Outdoors", "Blue", "Green", "Landscape"} {
		if !slices.Contains(names, want) {
			t.Errorf("labels of docs/sample.jpg = %v; want %s among them", names, want)
		}
	}
	for _, not := range []string{"Sunset", "Dark", "Monochrome", "Portrait"} {
		if slices.Contains(names, not) {
			t.Errorf("labels of docs/sample.jpg = %v; %s does not describe it", names, not)
		}
	}
}
