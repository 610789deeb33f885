package dockertest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestDecide(t *testing.T) {
	down := errors.New("no daemon")
	tests := []struct {
		ci, short bool
		err       error
		want      Decision
	}{
		{true, false, down, Fail},
		{true, true, down, Fail}, // -short never hides a missing Docker in CI
		{true, true, nil, Proceed},
		{true, false, nil, Proceed},
		{false, false, down, Skip},
		{false, true, nil, Skip},
		{false, false, nil, Proceed},
	}
	for _, tt := range tests {
		if got := Decide(tt.ci, tt.short, tt.err); got != tt.want {
			t.Errorf("Decide(ci=%v, short=%v, err=%v) = %v; want %v", tt.ci, tt.short, tt.err, got, tt.want)
		}
	}
}

// TestHelperRequire is run only as a child process by TestRequireWithoutDocker.
func TestHelperRequire(t *testing.T) {
	if os.Getenv("DOCKERTEST_HELPER") != "1" {
		t.Skip("helper for TestRequireWithoutDocker")
	}
	Require(t)
	t.Log("REQUIRE-PASSED")
}

// TestRequireWithoutDocker runs Require in a child test process whose docker
// CLI points at a socket that does not exist: under CI=true the test must
// fail, otherwise it must skip.
func TestRequireWithoutDocker(t *testing.T) {
	bin, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		ci      string
		wantErr bool
		want    string
	}{
		{"true", true, "CI=true but Docker is unavailable"},
		{"", false, "Docker unavailable"},
	} {
		cmd := exec.Command(bin, "-test.run=^TestHelperRequire$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), "DOCKERTEST_HELPER=1", "CI="+tt.ci,
			"DOCKER_HOST=unix://"+t.TempDir()+"/no-such.sock", "DOCKER_CONTEXT=")
		out, err := cmd.CombinedOutput()
		if (err != nil) != tt.wantErr || !strings.Contains(string(out), tt.want) || strings.Contains(string(out), "REQUIRE-PASSED") {
			t.Errorf("CI=%q, no Docker: err = %v, output:\n%s\nwant failed=%v and %q", tt.ci, err, out, tt.wantErr, tt.want)
		}
		if !tt.wantErr && !strings.Contains(string(out), "--- SKIP") {
			t.Errorf("CI=%q, no Docker: want a skip, got:\n%s", tt.ci, out)
		}
	}
}
