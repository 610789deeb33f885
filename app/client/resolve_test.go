package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePulumi puts a shell script named pulumi alone on PATH. It answers
// `pulumi version` and `pulumi stack select`, and prints outputs for
// `pulumi stack output --json`; selectFails makes `stack select` fail the
// way the CLI does for a stack that does not exist. It logs its arguments
// to the returned file.
func fakePulumi(t *testing.T, outputs string, selectFails bool) (logFile string) {
	t.Helper()
	dir := t.TempDir()
	logFile = filepath.Join(dir, "calls.log")
	fail := "exit 0"
	if selectFails {
		fail = `echo "error: no stack named 'dev' found" >&2; exit 255`
	}
	script := `#!/bin/sh
echo "$*" >> '` + logFile + `'
while [ "${1#-}" != "$1" ]; do shift; done # global flags such as --non-interactive
case "$1 $2" in
"version "*) echo v3.274.1 ;;
"stack select") ` + fail + ` ;;
"stack output") printf '%s\n' '` + outputs + `' ;; # a builtin: PATH has nothing else
*) echo "fake pulumi: unexpected $*" >&2; exit 1 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "pulumi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
	// The Automation API would otherwise read the developer's own Pulumi settings.
	t.Setenv("PULUMI_HOME", t.TempDir())
	return logFile
}

func TestURLResolutionOrder(t *testing.T) {
	_, flagURL := startFake(t)
	_, envURL := startFake(t)
	_, stackURL := startFake(t)
	fakePulumi(t, `{"apiUrl":"`+stackURL+`","bucketName":"b"}`, false)
	project := t.TempDir()

	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"flag beats env and stack", []string{"--url", flagURL}, map[string]string{"API_URL": envURL}, flagURL},
		{"env beats stack", nil, map[string]string{"API_URL": envURL}, envURL},
		{"stack when neither", nil, nil, stackURL},
	} {
		args := append(append([]string{"--project-dir", project}, tc.args...), "info")
		out, _, err := runClient(t, tc.env, args...)
		if err != nil {
			t.Errorf("%s: info: %v", tc.name, err)
			continue
		}
		if !strings.Contains(out, "url      "+tc.want+"\n") {
			t.Errorf("%s: info printed\n%s\nwant url %s", tc.name, out, tc.want)
		}
	}
}

func TestURLFromStackCalls(t *testing.T) {
	_, url := startFake(t)
	log := fakePulumi(t, `{"apiUrl":"`+url+`"}`, false)
	if _, _, err := runClient(t, nil, "--stack", "prod", "--project-dir", t.TempDir(), "info"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	calls := string(b)
	for _, want := range []string{"stack select --stack prod", "stack output --json --stack prod"} {
		if !strings.Contains(calls, want) {
			t.Errorf("pulumi calls:\n%s\nlack %q", calls, want)
		}
	}
}

func TestURLStackErrors(t *testing.T) {
	t.Run("no pulumi CLI", func(t *testing.T) {
		t.Setenv("PATH", t.TempDir())
		_, _, err := runClient(t, nil, "info")
		if !errors.Is(err, errNoURL) {
			t.Fatalf("info without --url, API_URL or pulumi: err = %v; want errNoURL", err)
		}
		for _, want := range []string{"pass --url", "API_URL", "install the Pulumi CLI", "(no pulumi CLI on PATH)"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("message %q lacks %q", err, want)
			}
		}
	})
	t.Run("stack missing", func(t *testing.T) {
		fakePulumi(t, `{}`, true)
		_, _, err := runClient(t, nil, "--project-dir", t.TempDir(), "info")
		if !errors.Is(err, errNoURL) || !strings.Contains(err.Error(), `no Pulumi stack "dev" in `) {
			t.Errorf("info with an unknown stack: err = %v; want the CLI's reason and how to pass a URL", err)
		}
	})
	t.Run("no apiUrl output", func(t *testing.T) {
		fakePulumi(t, `{"bucketName":"b"}`, false)
		_, _, err := runClient(t, nil, "--project-dir", t.TempDir(), "info")
		if err == nil || !strings.Contains(err.Error(), "has no output apiUrl") || !strings.Contains(err.Error(), "pulumi up") {
			t.Errorf("info on an undeployed stack: err = %v; want a no-output-apiUrl message", err)
		}
	})
	t.Run("bad env URL", func(t *testing.T) {
		_, _, err := runClient(t, map[string]string{"API_URL": "localhost:8080"}, "info")
		if err == nil || !strings.Contains(err.Error(), `API_URL "localhost:8080"`) {
			t.Errorf("API_URL without scheme: err = %v; want it named", err)
		}
	})
}
