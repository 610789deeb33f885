package localaws

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rekognition"
	"github.com/aws/aws-sdk-go-v2/service/rekognition/types"
	"github.com/aws/smithy-go"

	"imagelabel/internal/testutil"
)

// scene draws a w×h image: the top third sky blue, the rest grass green.
func scene(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		c := color.RGBA{60, 170, 60, 255}
		if y < h/3 {
			c = color.RGBA{90, 150, 235, 255}
		}
		for x := range w {
			img.SetRGBA(x, y, c)
		}
	}
	return img
}

func solid(w, h int, c color.Color) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

func checker(w, h, sq int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			if (x/sq+y/sq)%2 == 0 {
				img.SetGray(x, y, color.Gray{255})
			}
		}
	}
	return img
}

func labelNames(ls []types.Label) []string {
	var out []string
	for _, l := range ls {
		out = append(out, aws.ToString(l.Name))
	}
	return out
}

func detect(t *testing.T, e *testEnv, in *rekognition.DetectLabelsInput) *rekognition.DetectLabelsOutput {
	t.Helper()
	out, err := e.rek.DetectLabels(context.Background(), in)
	if err != nil {
		t.Fatalf("DetectLabels: %v", err)
	}
	return out
}

func TestDetectLabelsS3Object(t *testing.T) {
	e := newEnv(t, Options{Dir: t.TempDir()})
	e.put(t, "uploads/scene.png", testutil.EncodePNG(t, scene(300, 200)), "image/png")
	in := &rekognition.DetectLabelsInput{
		Image: &types.Image{S3Object: &types.S3Object{Bucket: aws.String(testBucket), Name: aws.String("uploads/scene.png")}},
	}
	out := detect(t, e, in)
	names := labelNames(out.Labels)
	for _, want := range []string{"Sky", "Vegetation", "Plant", "Green", "Blue", "Color", "Landscape", "Nature", "Outdoors"} {
		if !slices.Contains(names, want) {
			t.Errorf("DetectLabels(scene) labels = %v; missing %q", names, want)
		}
	}
	for _, unwanted := range []string{"Red", "Dark", "Portrait", "Square", "Texture"} {
		if slices.Contains(names, unwanted) {
			t.Errorf("DetectLabels(scene) labels = %v; should not contain %q", names, unwanted)
		}
	}
	if v := aws.ToString(out.LabelModelVersion); v != "3.0" {
		t.Errorf("LabelModelVersion = %q; want 3.0", v)
	}
	for i, l := range out.Labels {
		c := aws.ToFloat32(l.Confidence)
		if c < defaultMinConfidence || c > 100 {
			t.Errorf("label %s confidence %v outside [55,100] (default MinConfidence is 55)", aws.ToString(l.Name), c)
		}
		if i > 0 && c > aws.ToFloat32(out.Labels[i-1].Confidence) {
			t.Errorf("labels not sorted by confidence: %v after %v", c, aws.ToFloat32(out.Labels[i-1].Confidence))
		}
		if len(l.Categories) != 1 || aws.ToString(l.Categories[0].Name) == "" {
			t.Errorf("label %s categories = %v; want one named category", aws.ToString(l.Name), l.Categories)
		}
	}
	sky := out.Labels[slices.Index(names, "Sky")]
	if len(sky.Parents) == 0 || aws.ToString(sky.Parents[0].Name) != "Nature" {
		t.Errorf("Sky parents = %v; want Nature first", sky.Parents)
	}
	// Deterministic: the same pixels, as bytes this time, give the same answer.
	again := detect(t, e, &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: testutil.EncodePNG(t, scene(300, 200))}})
	if got := labelNames(again.Labels); !slices.Equal(got, names) {
		t.Errorf("DetectLabels(bytes) = %v; want the S3 result %v", got, names)
	}
	for i := range again.Labels {
		if aws.ToFloat32(again.Labels[i].Confidence) != aws.ToFloat32(out.Labels[i].Confidence) {
			t.Errorf("confidence of %s differs between calls", names[i])
		}
	}
}

func TestDetectLabelsContent(t *testing.T) {
	e := newEnv(t, Options{})
	tests := []struct {
		name    string
		img     []byte
		want    []string
		notWant []string
	}{
		{"red square png", testutil.EncodePNG(t, solid(100, 100, color.RGBA{220, 20, 20, 255})), []string{"Red", "Color", "Square"}, []string{"Blue", "Sky", "Dark", "Landscape"}},
		{"black portrait jpeg", testutil.EncodeJPEG(t, solid(100, 200, color.Black), 90), []string{"Black", "Dark", "Monochrome", "Portrait"}, []string{"Bright", "Square"}},
		{"white png", testutil.EncodePNG(t, solid(120, 100, color.White)), []string{"White", "Bright", "Monochrome", "Landscape"}, []string{"Dark"}},
		{"checkerboard", testutil.EncodePNG(t, checker(256, 256, 2)), []string{"Texture", "Pattern", "Monochrome"}, []string{"Sky"}},
		{"transparent png is white", testutil.EncodePNG(t, image.NewNRGBA(image.Rect(0, 0, 50, 50))), []string{"White"}, []string{"Black"}},
		{"sunset", testutil.EncodeJPEG(t, func() image.Image {
			img := solid(300, 200, color.RGBA{30, 30, 60, 255})
			for y := range 70 {
				for x := range 300 {
					img.Set(x, y, color.RGBA{240, 120, 30, 255})
				}
			}
			return img
		}(), 90), []string{"Sunset", "Orange"}, []string{"Vegetation"}},
	}
	for _, tt := range tests {
		out, err := e.rek.DetectLabels(context.Background(), &rekognition.DetectLabelsInput{
			Image: &types.Image{Bytes: tt.img}, MinConfidence: aws.Float32(50),
		})
		if err != nil {
			t.Errorf("%s: DetectLabels: %v", tt.name, err)
			continue
		}
		names := labelNames(out.Labels)
		for _, w := range tt.want {
			if !slices.Contains(names, w) {
				t.Errorf("%s: labels %v; missing %q", tt.name, names, w)
			}
		}
		for _, w := range tt.notWant {
			if slices.Contains(names, w) {
				t.Errorf("%s: labels %v; should not contain %q", tt.name, names, w)
			}
		}
	}
}

func TestDetectLabelsOptions(t *testing.T) {
	e := newEnv(t, Options{})
	img := testutil.EncodePNG(t, scene(300, 200))
	base := func() *rekognition.DetectLabelsInput {
		return &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: img}, MinConfidence: aws.Float32(0)}
	}
	all := labelNames(detect(t, e, base()).Labels)
	if len(all) < 6 {
		t.Fatalf("scene gives %v; want at least 6 labels for the option tests", all)
	}

	in := base()
	in.MaxLabels = aws.Int32(2)
	if got := labelNames(detect(t, e, in).Labels); !slices.Equal(got, all[:2]) {
		t.Errorf("MaxLabels 2 = %v; want the top two %v", got, all[:2])
	}
	in.MaxLabels = aws.Int32(0)
	if got := detect(t, e, in).Labels; len(got) != 0 {
		t.Errorf("MaxLabels 0 = %v; want none", labelNames(got))
	}

	in = base()
	in.MinConfidence = aws.Float32(90)
	for _, l := range detect(t, e, in).Labels {
		if aws.ToFloat32(l.Confidence) < 90 {
			t.Errorf("MinConfidence 90 returned %s at %v", aws.ToString(l.Name), aws.ToFloat32(l.Confidence))
		}
	}

	withSettings := func(g types.GeneralLabelsSettings) []string {
		in := base()
		in.Features = []types.DetectLabelsFeatureName{types.DetectLabelsFeatureNameGeneralLabels}
		in.Settings = &types.DetectLabelsSettings{GeneralLabels: &g}
		return labelNames(detect(t, e, in).Labels)
	}
	if got := withSettings(types.GeneralLabelsSettings{LabelInclusionFilters: []string{"Sky", "Blue", "Nonexistent"}}); !sameSet(got, []string{"Sky", "Blue"}) {
		t.Errorf("LabelInclusionFilters Sky,Blue = %v", got)
	}
	if got := withSettings(types.GeneralLabelsSettings{LabelExclusionFilters: []string{"Sky"}}); slices.Contains(got, "Sky") || len(got) != len(all)-1 {
		t.Errorf("LabelExclusionFilters Sky = %v; want %v without Sky", got, all)
	}
	got := withSettings(types.GeneralLabelsSettings{LabelCategoryInclusionFilters: []string{"Plants and Flowers"}})
	if !sameSet(got, []string{"Vegetation", "Plant"}) {
		t.Errorf("LabelCategoryInclusionFilters Plants and Flowers = %v; want Vegetation, Plant", got)
	}
	got = withSettings(types.GeneralLabelsSettings{LabelCategoryExclusionFilters: []string{"Colors and Visual Composition"}})
	for _, n := range []string{"Blue", "Green", "Color", "Landscape"} {
		if slices.Contains(got, n) {
			t.Errorf("LabelCategoryExclusionFilters colours = %v; contains %s", got, n)
		}
	}
	if !slices.Contains(got, "Sky") {
		t.Errorf("LabelCategoryExclusionFilters colours = %v; lost Sky", got)
	}

	// IMAGE_PROPERTIES alone asks for no labels.
	in = base()
	in.Features = []types.DetectLabelsFeatureName{types.DetectLabelsFeatureNameImageProperties}
	if got := detect(t, e, in).Labels; len(got) != 0 {
		t.Errorf("Features IMAGE_PROPERTIES = %v; want no labels", labelNames(got))
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestDetectLabelsErrors(t *testing.T) {
	e := newEnv(t, Options{}, noRetries)
	png := testutil.EncodePNG(t, solid(10, 10, color.White))
	var gifBuf bytes.Buffer
	_ = gif.Encode(&gifBuf, solid(10, 10, color.White), nil)
	e.put(t, "notimage.txt", []byte("hello, not an image"), "text/plain")
	e.put(t, "huge-dims.png", testutil.PNGHeader(20000, 20000, 6), "image/png")
	big := make([]byte, MaxS3ImageBytes+1)
	copy(big, png)
	e.put(t, "big.png", big, "image/png")
	e.put(t, "truncated.png", png[:len(png)/2], "image/png")

	s3img := func(bucket, key string) *types.Image {
		return &types.Image{S3Object: &types.S3Object{Bucket: aws.String(bucket), Name: aws.String(key)}}
	}
	tests := []struct {
		name  string
		in    *rekognition.DetectLabelsInput
		check func(error) bool
		want  string
	}{
		{"missing object", &rekognition.DetectLabelsInput{Image: s3img(testBucket, "nope.png")},
			func(err error) bool { var x *types.InvalidS3ObjectException; return errors.As(err, &x) }, "InvalidS3ObjectException"},
		{"missing bucket", &rekognition.DetectLabelsInput{Image: s3img("no-such-bucket", "a.png")},
			func(err error) bool { var x *types.InvalidS3ObjectException; return errors.As(err, &x) }, "InvalidS3ObjectException"},
		{"text object", &rekognition.DetectLabelsInput{Image: s3img(testBucket, "notimage.txt")},
			func(err error) bool { var x *types.InvalidImageFormatException; return errors.As(err, &x) }, "InvalidImageFormatException"},
		{"truncated png", &rekognition.DetectLabelsInput{Image: s3img(testBucket, "truncated.png")},
			func(err error) bool { var x *types.InvalidImageFormatException; return errors.As(err, &x) }, "InvalidImageFormatException"},
		{"gif bytes", &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: gifBuf.Bytes()}},
			func(err error) bool { var x *types.InvalidImageFormatException; return errors.As(err, &x) }, "InvalidImageFormatException"},
		{"random bytes", &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: []byte{0, 1, 2, 3, 4, 5}}},
			func(err error) bool { var x *types.InvalidImageFormatException; return errors.As(err, &x) }, "InvalidImageFormatException"},
		{"20000x20000 header", &rekognition.DetectLabelsInput{Image: s3img(testBucket, "huge-dims.png")},
			func(err error) bool { var x *types.ImageTooLargeException; return errors.As(err, &x) }, "ImageTooLargeException"},
		{"S3 object over 15 MiB", &rekognition.DetectLabelsInput{Image: s3img(testBucket, "big.png")},
			func(err error) bool { var x *types.ImageTooLargeException; return errors.As(err, &x) }, "ImageTooLargeException"},
		{"bytes over 5 MiB", &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: append(slices.Clone(png), make([]byte, MaxBytesImageBytes)...)}},
			func(err error) bool { var x *types.ImageTooLargeException; return errors.As(err, &x) }, "ImageTooLargeException"},
		{"negative MaxLabels", &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: png}, MaxLabels: aws.Int32(-1)},
			func(err error) bool { var x *types.InvalidParameterException; return errors.As(err, &x) }, "InvalidParameterException"},
		{"MinConfidence 101", &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: png}, MinConfidence: aws.Float32(101)},
			func(err error) bool { var x *types.InvalidParameterException; return errors.As(err, &x) }, "InvalidParameterException"},
		{"MinConfidence -1", &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: png}, MinConfidence: aws.Float32(-1)},
			func(err error) bool { var x *types.InvalidParameterException; return errors.As(err, &x) }, "InvalidParameterException"},
		{"no image", &rekognition.DetectLabelsInput{Image: &types.Image{}},
			func(err error) bool { var x *types.InvalidParameterException; return errors.As(err, &x) }, "InvalidParameterException"},
		{"bytes and S3Object", &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: png, S3Object: &types.S3Object{Bucket: aws.String(testBucket), Name: aws.String("x")}}},
			func(err error) bool { var x *types.InvalidParameterException; return errors.As(err, &x) }, "InvalidParameterException"},
		{"bad feature", &rekognition.DetectLabelsInput{Image: &types.Image{Bytes: png}, Features: []types.DetectLabelsFeatureName{"FACES"}},
			func(err error) bool { var x *types.InvalidParameterException; return errors.As(err, &x) }, "InvalidParameterException"},
	}
	for _, tt := range tests {
		_, err := e.rek.DetectLabels(context.Background(), tt.in)
		if err == nil || !tt.check(err) {
			t.Errorf("%s: DetectLabels err = %v; want %s", tt.name, err, tt.want)
		}
	}
}

func TestRekognitionWire(t *testing.T) {
	e := newEnv(t, Options{}, noRetries)
	post := func(target, body string) (int, http.Header, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, e.hs.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		resp, err := e.hs.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: body %q is not JSON: %v", target, b, err)
		}
		return resp.StatusCode, resp.Header, m
	}
	code, h, m := post("RekognitionService.DetectFaces", "{}")
	if code != 400 || m["__type"] != "UnknownOperationException" || h.Get("X-Amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("DetectFaces = %d %v %v; want 400 UnknownOperationException", code, h, m)
	}
	code, _, m = post("RekognitionService.DetectLabels", "{not json")
	if code != 400 || m["__type"] != "SerializationException" {
		t.Errorf("malformed JSON = %d %v; want 400 SerializationException", code, m)
	}
	img, _ := json.Marshal(testutil.EncodePNG(t, solid(20, 20, color.White)))
	code, h, m = post("RekognitionService.DetectLabels", `{"Image":{"Bytes":`+string(img)+`}}`)
	if code != 200 || h.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("DetectLabels raw = %d %v", code, m)
	}
	labels, _ := m["Labels"].([]any)
	if len(labels) == 0 {
		t.Fatalf("DetectLabels raw = %v; want labels", m)
	}
	first, _ := labels[0].(map[string]any)
	for _, k := range []string{"Name", "Confidence", "Instances", "Parents", "Aliases", "Categories"} {
		if _, ok := first[k]; !ok {
			t.Errorf("label %v lacks %s", first, k)
		}
	}
	if inst, ok := first["Instances"].([]any); !ok || len(inst) != 0 {
		t.Errorf("Instances = %v; want []", first["Instances"])
	}

	// The real SDK sees the unknown operation as an API error too.
	_, err := e.rek.DetectFaces(context.Background(), &rekognition.DetectFacesInput{Image: &types.Image{Bytes: []byte("x")}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "UnknownOperationException" {
		t.Errorf("SDK DetectFaces err = %v; want UnknownOperationException", err)
	}
}

func TestComputeLabelsLargeImage(t *testing.T) {
	// A 4000×3000 photo-sized image still reduces to the 128-cell grid.
	img := scene(4000, 3000)
	ls := computeLabels(img)
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	if !slices.Contains(names, "Sky") || !slices.Contains(names, "Landscape") {
		t.Errorf("computeLabels(4000x3000 scene) = %v; want Sky and Landscape", names)
	}
}
