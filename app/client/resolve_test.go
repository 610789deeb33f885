package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePulumi puts a shell script named pulumi alone on PATH. It prints
// outputs for `pulumi ... stack output --json ...`; noStack makes it fail
// the way the CLI does for a stack that does not exist. It logs its
// arguments, one call a line, to the returned file.
func fakePulumi(t *testing.T, outputs string, noStack bool) (logFile string) {
	t.Helper()
	dir := t.TempDir()
	logFile = filepath.Join(dir, "calls.log")
	answer := `printf '%s\n' '` + outputs + `'` // printf is a builtin: PATH has nothing else
	if noStack {
		answer = `echo "error: no stack named 'dev' found" >&2; exit 255`
	}
	script := `#!/bin/sh
echo "$*" >> '` + logFile + `'
case " $* " in
*" stack output "*) ` + answer + ` ;;
*) echo "fake pulumi: unexpected $*" >&2; exit 1 ;;
esac
`
	if err := os.WriteFile(filepath.Join(dir, "pulumi"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir)
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
	project := t.TempDir()
	if _, _, err := runClient(t, nil, "--stack", "prod", "--project-dir", project, "info"); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	// One call, in the project directory, for the named stack, and no
	// --show-secrets (which would need the stack's passphrase).
	want := "--non-interactive --cwd " + project + " stack output --json --stack prod\n"
	if got := string(b); got != want {
		t.Errorf("pulumi calls:\n%s\nwant exactly\n%s", got, want)
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
	t.Run("CLI fails", func(t *testing.T) {
		dir := t.TempDir()
		script := "#!/bin/sh\necho 'error: failed to load checkpoint: access denied' >&2\nexit 255\n"
		if err := os.WriteFile(filepath.Join(dir, "pulumi"), []byte(script), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Setenv("PATH", dir)
		_, _, err := runClient(t, nil, "--project-dir", t.TempDir(), "info")
		if !errors.Is(err, errNoURL) || !strings.Contains(err.Error(), `read outputs of Pulumi stack "dev" in `) ||
			!strings.Contains(err.Error(), "failed to load checkpoint: access denied") {
			t.Errorf("info when pulumi fails: err = %v; want the CLI's message and how to pass a URL", err)
		}
	})
	t.Run("CLI prints no JSON", func(t *testing.T) {
		fakePulumi(t, `Current stack outputs (0):`, false)
		_, _, err := runClient(t, nil, "--project-dir", t.TempDir(), "info")
		if err == nil || !strings.Contains(err.Error(), "printed no JSON object") {
			t.Errorf("info when pulumi prints text: err = %v; want a no-JSON message", err)
		}
	})
	t.Run("bad env URL", func(t *testing.T) {
		_, _, err := runClient(t, map[string]string{"API_URL": "api.example.com:8080"}, "info")
		if err == nil || !strings.Contains(err.Error(), `API_URL "api.example.com:8080": no scheme; add https://`) {
			t.Errorf("API_URL without scheme: err = %v; want it named and the fix", err)
		}
	})
}

func TestURLWithoutScheme(t *testing.T) {
	_, url := startFake(t)
	hostport := strings.TrimPrefix(url, "http://")
	out, _, err := runClient(t, nil, "--url", hostport, "info")
	if err != nil || !strings.Contains(out, "url      "+url+"\n") {
		t.Errorf("info --url %s = %v:\n%s\nwant it taken as %s", hostport, err, out, url)
	}
	for in, want := range map[string]string{
		"127.0.0.1:8080":       "http://127.0.0.1:8080",
		"localhost:8080/base":  "http://localhost:8080/base",
		"[::1]:8080":           "http://[::1]:8080",
		"https://api.example":  "https://api.example",
		"HTTP://127.0.0.1:808": "http://127.0.0.1:808",
	} {
		u, err := parseBaseURL("--url", in)
		if err != nil || u.String() != want {
			t.Errorf("parseBaseURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	for _, in := range []string{"api.example.com", "10.0.0.1:8080", "ftp://x", "http://"} {
		if u, err := parseBaseURL("--url", in); err == nil {
			t.Errorf("parseBaseURL(%q) = %v; want an error", in, u)
		}
	}
}
