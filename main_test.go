package main

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"testing"
)

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
		{[]string{"plan", "--set", "nope=1"}, exitUsage, nil, []string{"plan: --set nope=1: unknown config key nope"}},
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

// layers ranks the packages of the Pulumi program, lowest first: a package
// may import only packages of a lower rank (so cost and awsrules, which
// share a rank, never import each other), and no package outside this
// table imports one of rank 1 or more. docs/deploy.md's package table
// lists them in this order. Test packages are not checked: an external
// test package (program_test, stackconfig_test) may import the plan that
// runs the code it tests.
var layers = map[string]int{
	"imagelabel/infra":                0,
	"imagelabel/internal/stackconfig": 1,
	"imagelabel/internal/program":     2,
	"imagelabel/internal/plan":        3,
	"imagelabel/internal/cost":        4,
	"imagelabel/internal/awsrules":    4,
	"imagelabel/internal/plancmd":     5,
	"imagelabel":                      6,
}

// TestImportsRunDownward reads every package's imports (tests excluded:
// an external test package may import upward) with `go list` and refuses
// an import that points up or sideways in layers.
func TestImportsRunDownward(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "imagelabel/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		rank, ranked := layers[pkg]
		if ranked {
			seen++
		}
		for _, imp := range imports {
			r, ok := layers[imp]
			switch {
			case !ok:
			case !ranked && r >= 1:
				t.Errorf("%s imports %s: only the program's own layers may", pkg, imp)
			case ranked && r >= rank:
				t.Errorf("%s (layer %d) imports %s (layer %d): imports run downward only", pkg, rank, imp, r)
			}
		}
	}
	if seen != len(layers) {
		t.Errorf("go list found %d of the %d packages in layers: a package moved or was renamed", seen, len(layers))
	}
}
