package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"imagelabel/internal/build"
)

func TestRunBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-service", "nope"}, "unknown service"},
		{[]string{"-service", "upload", "-arch", "s390x"}, "unsupported GOARCH"},
		{[]string{"-service", "upload,rekog", "-out", t.TempDir()}, "-out needs exactly one -service"},
		{[]string{"-service", "upload", "extra"}, "unexpected arguments"},
		{[]string{"-bogus"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tt.args, &stdout, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tt.want) {
			t.Errorf("run(%q) = %v (stderr %q); want error containing %q", tt.args, err, stderr.String(), tt.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("run(%q) printed %q on stdout despite failing", tt.args, stdout.String())
		}
	}
}

func TestRunPrintsContext(t *testing.T) {
	root := t.TempDir()
	os.WriteFile(filepath.Join(root, "go.mod"), []byte("module fake\n\ngo 1.22\n"), 0o644)
	os.MkdirAll(filepath.Join(root, "app/rekog/cmd/rekog"), 0o755)
	os.WriteFile(filepath.Join(root, "app/rekog/Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(root, "app/rekog/cmd/rekog/main.go"), []byte("package main\n\nfunc main() {}\n"), 0o644)
	out := filepath.Join(t.TempDir(), "ctx")

	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"-root", root, "-service", "rekog", "-arch", "arm64", "-out", out}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr.String())
	}
	if got := strings.TrimSpace(stdout.String()); got != out {
		t.Errorf("stdout = %q; want the context dir %q", got, out)
	}
	if !strings.Contains(stderr.String(), "rekog linux/arm64") {
		t.Errorf("stderr = %q; want a progress line", stderr.String())
	}

	stdout.Reset()
	if err := run(context.Background(), []string{"-root", root, "-service", "rekog", "-arch", "arm64", "-out", out, "-json", "-q"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	var res build.Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil || res.Context != out || len(res.Digest) != 64 {
		t.Errorf("-json printed %q (%v); want a build.Result for %s", stdout.String(), err, out)
	}
}
