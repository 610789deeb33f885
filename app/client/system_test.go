package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"image/color"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"imagelabel/app/e2e"
	"imagelabel/app/localaws"
)

// TestAgainstRealSystem runs the client against the real services
// (upload, rekog, localaws) in this process: uploads in parallel, a file
// the service refuses, a labeling failure with its retry, labels and info.
func TestAgainstRealSystem(t *testing.T) {
	sys := e2e.Start(t, map[string]string{"MAX_UPLOAD_BYTES": "65536"})
	dir := t.TempDir()
	red := writePNG(t, dir, "red.png", color.RGBA{220, 30, 30, 255}, "")
	blue := writePNG(t, dir, "blue.png", color.RGBA{30, 60, 220, 255}, "")
	notes := writeFile(t, dir, "notes.png", []byte("plain text, not a picture\n"))
	big := writePNG(t, dir, "big.png", color.White, strings.Repeat("x", 70<<10)) // valid PNG + trailing bytes, over the limit

	out, errOut, err := runClient(t, nil, "--url", sys.URL, "--concurrency", "2", "upload", red, blue, notes, big)
	if err == nil || err.Error() != "2 of 4 uploads failed" {
		t.Errorf("upload red, blue, notes, big: err = %v; want 2 of 4 uploads failed", err)
	}
	for _, p := range []string{red, blue} {
		b, _ := os.ReadFile(p)
		sum := sha256.Sum256(b)
		if !strings.Contains(out, p+"  uploads/"+hex.EncodeToString(sum[:])+".png  image/png") {
			t.Errorf("stdout lacks the content-addressed key of %s:\n%s", filepath.Base(p), out)
		}
	}
	// localaws names colours; the table must show them with bars.
	for _, want := range []string{"Red", "Blue", "Color", "█"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(notes) + `: 415 unsupported_media_type: \w`).MatchString(errOut) {
		t.Errorf("stderr lacks a 415 line for notes.png:\n%s", errOut)
	}
	if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(big) + `: 413 \w+: \w`).MatchString(errOut) {
		t.Errorf("stderr lacks a 413 line for big.png:\n%s", errOut)
	}
	if !strings.Contains(errOut, "2 uploaded, 2 failed (4 files in") {
		t.Errorf("stderr lacks the summary:\n%s", errOut)
	}
	noRawJSON(t, "stderr", errOut)

	// Labeling fails (Rekognition down) after the image is stored: the key
	// and the retry command are printed, and the retry works once it is back.
	sys.AWS.SetFault(localaws.Fault{Service: "rekognition", Kind: localaws.FaultServerError, Status: 500})
	green := writePNG(t, dir, "green.png", color.RGBA{30, 200, 40, 255}, "")
	_, errOut, err = runClient(t, nil, "--url", sys.URL, "upload", green)
	sys.AWS.ClearFaults()
	if err == nil {
		t.Fatal("upload while Rekognition fails succeeded")
	}
	m := regexp.MustCompile(`retry labeling with: go run \./app/client --url \S+ labels (uploads/[0-9a-f]{64}\.png)`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("stderr lacks the retry command:\n%s", errOut)
	}
	if !strings.Contains(errOut, green+": 502 ") {
		t.Errorf("stderr lacks the 502 line:\n%s", errOut)
	}
	noRawJSON(t, "stderr", errOut)
	out, _, err = runClient(t, nil, "--url", sys.URL, "labels", m[1])
	if err != nil || !strings.HasPrefix(out, m[1]+"\n") || !strings.Contains(out, "Green") {
		t.Errorf("labels %s = %v:\n%s\nwant the key and a Green label", m[1], err, out)
	}

	out, _, err = runClient(t, nil, "--url", sys.URL, "--json", "--max-labels", "1", "labels", m[1])
	var r labelsResult
	if err != nil || json.Unmarshal([]byte(out), &r) != nil || r.Key != m[1] || len(r.Labels) != 1 {
		t.Errorf("--json --max-labels 1 labels = %v %q; want the API's JSON with one label", err, out)
	}

	_, _, err = runClient(t, nil, "--url", sys.URL, "labels", "uploads/"+strings.Repeat("0", 64)+".png")
	if err == nil || !strings.Contains(err.Error(), ": 404 ") {
		t.Errorf("labels of an unknown key: err = %v; want a 404 message", err)
	}

	out, _, err = runClient(t, nil, "--url", sys.URL, "info")
	if err != nil || !regexp.MustCompile(`(?m)^name +upload$`).MatchString(out) {
		t.Errorf("info = %v:\n%s", err, out)
	}
}
