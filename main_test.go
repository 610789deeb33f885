package main

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

func TestRelPath(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	inside := filepath.Join(wd, ".build", "upload-linux-arm64")
	outside := filepath.Join(filepath.Dir(wd), "elsewhere")
	for _, tt := range []struct{ in, want string }{
		{inside, filepath.Join(".build", "upload-linux-arm64")},
		{outside, outside},
		{wd, "."},
	} {
		if got := relPath(tt.in); got != tt.want {
			t.Errorf("relPath(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

// env returns a getenv over kv.
func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// TestRunOutsidePulumi: run by hand, the program says what it is and what to
// run, with exit 0 for help and 2 for a usage mistake; under the Pulumi CLI
// it runs the Pulumi program.
func TestRunOutsidePulumi(t *testing.T) {
	notCalled := func() int { t.Error("the Pulumi program ran outside the Pulumi CLI"); return 99 }
	for _, tc := range []struct {
		args       []string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{nil, exitUsage, nil, []string{"not started by the Pulumi CLI", "pulumi preview", "pulumi up", "go run . plan"}},
		{[]string{"--help"}, exitOK, []string{"Pulumi program", "pulumi up", "go run . plan --help"}, nil},
		{[]string{"-h"}, exitOK, []string{"pulumi preview"}, nil},
		{[]string{"deploy"}, exitUsage, nil, []string{`unknown command "deploy"`, "pulumi up"}},
		{[]string{"plan", "--help"}, exitOK, []string{"--json", "--stack", "--set", "azCount (default 1; 1..6)"}, nil},
		{[]string{"plan", "--bogus"}, exitUsage, nil, []string{"plan:", "--help lists"}},
		{[]string{"plan", "--stack", "nosuch"}, exitError, nil, []string{"Pulumi.nosuch.yaml", "pulumi stack init nosuch"}},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, env(nil), &stdout, &stderr, notCalled)
		if code != tc.wantCode {
			t.Errorf("run(%q) = %d; want %d (stderr %q)", tc.args, code, tc.wantCode, stderr.String())
		}
		for _, w := range tc.wantStdout {
			if !strings.Contains(stdout.String(), w) {
				t.Errorf("run(%q) stdout lacks %q:\n%s", tc.args, w, stdout.String())
			}
		}
		for _, w := range tc.wantStderr {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("run(%q) stderr lacks %q:\n%s", tc.args, w, stderr.String())
			}
		}
		if len(tc.wantStdout) == 0 && stdout.Len() > 0 {
			t.Errorf("run(%q) wrote to stdout: %q", tc.args, stdout.String())
		}
	}
	for _, vars := range []map[string]string{
		{"PULUMI_MONITOR": "127.0.0.1:1", "PULUMI_ENGINE": "127.0.0.1:2"},
		{"PULUMI_PLUGINS": "true"},
	} {
		called := false
		code := run(nil, env(vars), io.Discard, io.Discard, func() int { called = true; return 32 })
		if !called || code != 32 {
			t.Errorf("run with %v: Pulumi program called %v, exit %d; want it called and its exit 32", vars, called, code)
		}
	}
}

// TestLogErrors: under the engine each config problem is its own error
// diagnostic (the CLI counts them), and the error says it was logged, through
// what pulumi.RunErr wraps it in.
func TestLogErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want []string
	}{
		{configErrors{"imagelabel:azCount: 9 is out of range 1..6", "imagelabel:natMode: x"}, []string{"imagelabel:azCount: 9 is out of range 1..6", "imagelabel:natMode: x"}},
		{errors.New("boom"), []string{"program failed: boom"}},
	} {
		var logged []string
		body := logErrors(func(*pulumi.Context) error { return tc.err }, func(_ *pulumi.Context, msg string) error {
			logged = append(logged, msg)
			return nil
		})
		err := pulumi.RunErr(body, pulumi.WithMocks(projectName, "test", newRecorder("")))
		if !slices.Equal(logged, tc.want) {
			t.Errorf("%v: logged %q; want %q", tc.err, logged, tc.want)
		}
		var le loggedError
		if !errors.As(err, &le) || !reflect.DeepEqual(le.error, tc.err) {
			t.Errorf("%v: RunErr = %v; want a loggedError wrapping it", tc.err, err)
		}
	}
}
