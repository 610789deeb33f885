package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"imagelabel/internal/testutil"
)

// The whole system in one process: upload a generated JPEG through upload's
// real listener, get labels from rekog through localaws, find the object as a
// file under the data directory, fetch its labels again, and stop cleanly.
func TestRunInProcess(t *testing.T) {
	dir := t.TempDir()
	t0 := time.Now()
	r := startRun(t, 30*time.Second,
		"-port=0", "-rekog-port=0", "-aws-port=0", "-data", dir)
	base, stop, stdout, stderr := r.base, r.stop, r.stdout, r.stderr
	t.Logf("ready in %v", time.Since(t0))

	out := stdout.String()
	for _, want := range []string{
		"go run ./app/client --url " + base + " upload FILE",
		"data:      " + dir,
		"Press Ctrl-C to stop.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
	if code, body := getStatus(base+"/healthz", 5*time.Second); code != 200 || !strings.Contains(body, `"ok"`) {
		t.Errorf("GET /healthz = %d %s; want 200 {\"status\":\"ok\"}", code, body)
	}
	if code, body := getStatus(base+"/", 5*time.Second); code != 200 || !strings.Contains(strings.ToLower(body), "<html") {
		t.Errorf("GET / = %d; want the page", code)
	}

	img := testJPEG(t, 1)
	ur := postImage(t, base, img)
	sum := sha256.Sum256(img)
	wantKey := "uploads/" + hex.EncodeToString(sum[:]) + ".jpg"
	if ur.Key != wantKey || ur.Size != int64(len(img)) || ur.ContentType != "image/jpeg" {
		t.Errorf("upload = key %q size %d type %q; want %q %d image/jpeg", ur.Key, ur.Size, ur.ContentType, wantKey, len(img))
	}
	// localaws keeps the object as a plain file <data>/<bucket>/<key>.
	stored, err := os.ReadFile(filepath.Join(dir, defaultBucket, filepath.FromSlash(wantKey)))
	if err != nil {
		t.Errorf("object file under the data dir: %v", err)
	} else if string(stored) != string(img) {
		t.Errorf("object file holds %d bytes; want the %d uploaded", len(stored), len(img))
	}
	if code, body := getStatus(base+"/labels/"+wantKey, 10*time.Second); code != 200 || !strings.Contains(body, `"labels"`) {
		t.Errorf("GET /labels/%s = %d %s", wantKey, code, body)
	}
	if code, _ := getStatus(base+"/labels/uploads/"+strings.Repeat("0", 64)+".jpg", 10*time.Second); code != 404 {
		t.Errorf("GET /labels of a missing object = %d; want 404", code)
	}

	if err := stop(); err != nil {
		t.Errorf("run after cancel = %v; want nil\nstderr:\n%s", err, stderr)
	}
	if !strings.Contains(stdout.String(), "stopped") {
		t.Errorf("no 'stopped' line after shutdown:\n%s", stdout)
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		c.Close()
		t.Errorf("upload still accepts connections after run returned")
	}

	// The services' JSON logs come out re-rendered, one line per record,
	// prefixed with the service's name.
	logs := stderr.String()
	for _, svc := range []string{"upload", "rekog", "localaws"} {
		re := regexp.MustCompile(`(?m)^` + svc + ` +\| \d\d:\d\d:\d\d\.\d{3} (INFO|DEBUG|WARN|ERROR) `)
		if !re.MatchString(logs) {
			t.Errorf("no readable %s log line in:\n%s", svc, logs)
		}
	}
	if strings.Contains(logs, `{"time"`) {
		t.Errorf("raw JSON log lines in the output:\n%s", logs)
	}
}

// A taken port is reported with the service and the flag to change it, before
// anything starts, and run fails.
func TestRunPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := itoa(portOf(taken))
	for _, tt := range []struct {
		flag, service string
	}{{"port", "upload"}, {"rekog-port", "rekog"}, {"aws-port", "localaws"}} {
		args := []string{"-port=0", "-rekog-port=0", "-aws-port=0", "-data", t.TempDir(), "-" + tt.flag + "=" + port}
		var stdout, stderr testutil.SyncBuffer
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := run(ctx, args, func(string) string { return "" }, &stdout, &stderr)
		cancel()
		want := "port " + port + " is already in use (" + tt.service + "); choose another with -" + tt.flag
		if err == nil || err.Error() != want {
			t.Errorf("run(%q) = %v; want %q", args, err, want)
		}
		if strings.Contains(stdout.String(), "browser:") {
			t.Errorf("run(%q) printed a banner despite the taken port", args)
		}
	}
}

// A data directory that cannot be created fails start-up with its path.
func TestRunBadDataDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := run(ctx, []string{"-port=0", "-rekog-port=0", "-aws-port=0", "-data", filepath.Join(file, "sub")},
		func(string) string { return "" }, &testutil.SyncBuffer{}, &testutil.SyncBuffer{})
	if err == nil || !strings.Contains(err.Error(), "sub") {
		t.Errorf("run with data dir under a file = %v; want an error naming it", err)
	}
}

// A second run beside the first (as `go run ./app/local -port 0` in another
// terminal, on the same data directory) starts: rekog and localaws take free
// ports by default, shown in the banner. Each run labels the quickstart's
// docs/sample.jpg.
func TestTwoRunsSideBySide(t *testing.T) {
	dir := t.TempDir()
	sample, err := os.ReadFile(filepath.Join("..", "..", "docs", "sample.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	internal := regexp.MustCompile(`(?m)^  (rekog|localaws): +http://127\.0\.0\.1:(\d+) `)
	seen := map[string]bool{}
	for i := range 2 {
		r := startRun(t, 30*time.Second, "-port=0", "-data", dir)
		ms := internal.FindAllStringSubmatch(r.stdout.String(), -1)
		if len(ms) != 2 {
			t.Fatalf("run %d banner does not show rekog's and localaws's URLs:\n%s", i, r.stdout)
		}
		for _, m := range ms {
			if m[2] == "0" || seen[m[2]] {
				t.Errorf("run %d: %s on port %s, already used or zero", i, m[1], m[2])
			}
			seen[m[2]] = true
		}
		ur := postImage(t, r.base, sample)
		var names []string
		for _, l := range ur.Labels {
			names = append(names, l.Name)
		}
		if !slices.Contains(names, "Sky") {
			t.Errorf("run %d: labels of docs/sample.jpg = %v; want Sky among them", i, names)
		}
	}
}

// TestRunIgnoresShellAWSConfig: AWS settings in the user's shell, meant for
// the AWS CLI, do not reach the local run. Before, AWS_PROFILE=nonexistent
// made it exit at once ("upload: upload: load aws config: failed to get
// shared config profile").
func TestRunIgnoresShellAWSConfig(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(bad, []byte("[default]\nsso_session = missing\n[garbage\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_PROFILE", "nonexistent")
	t.Setenv("AWS_CONFIG_FILE", bad)
	t.Setenv("AWS_RETRY_MODE", "bogus")
	r := startRun(t, 30*time.Second, "-port=0", "-data", "")
	if !strings.Contains(r.stdout.String(), "not using AWS_CONFIG_FILE, AWS_PROFILE, AWS_RETRY_MODE from the environment") {
		t.Errorf("stdout does not say the shell's AWS settings are not used:\n%s", r.stdout)
	}
	if code, body := getStatus(r.base+"/labels/uploads/"+strings.Repeat("0", 64)+".jpg", 10*time.Second); code != 404 {
		t.Errorf("GET /labels of a missing object = %d %s; want 404 (upload, rekog and localaws talking)", code, body)
	}
}

func TestServiceErrorNamesOnce(t *testing.T) {
	cause := errors.New("upload: load aws config: boom")
	for prefix, want := range map[string]string{
		"upload: ":         "upload: load aws config: boom",
		"upload stopped: ": "upload stopped: load aws config: boom",
	} {
		err := serviceError(prefix, "upload", cause)
		if err.Error() != want || !errors.Is(err, cause) {
			t.Errorf("serviceError(%q) = %q; want %q wrapping the cause", prefix, err, want)
		}
	}
}
