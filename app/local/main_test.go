package main

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"imagelabel/internal/testutil"
)

// buildBinary compiles this command once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "local")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// The real program: SIGINT (Ctrl-C) and SIGTERM stop it gracefully with exit
// status 0; a bad flag exits 2; a taken port exits 1 with the message.
func TestMainExitStatus(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sends POSIX signals")
	}
	bin := buildBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			var stdout, stderr testutil.SyncBuffer
			cmd := exec.Command(bin, "-port=0", "-rekog-port=0", "-aws-port=0", "-data", t.TempDir())
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			errc := make(chan error, 1)
			go func() { errc <- cmd.Wait() }()
			deadline := time.After(30 * time.Second)
			for !bannerURL.MatchString(stdout.String()) {
				select {
				case err := <-errc:
					t.Fatalf("exited before it was ready: %v\n%s\n%s", err, stdout.String(), stderr.String())
				case <-deadline:
					cmd.Process.Kill()
					t.Fatalf("no banner within 30s:\n%s\n%s", stdout.String(), stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
			}
			t0 := time.Now()
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-errc:
				if err != nil {
					t.Errorf("exit after %v: %v; want status 0\n%s", sig, err, stderr.String())
				}
			case <-time.After(40 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("still running 40s after %v", sig)
			}
			t.Logf("stopped %v after %v", sig, time.Since(t0))
			if !strings.Contains(stdout.String(), "stopped") {
				t.Errorf("no 'stopped' line:\n%s", stdout.String())
			}
		})
	}

	taken := listenLoopback(t)
	port := itoa(portOf(taken))
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-port", port, "-rekog-port=0", "-aws-port=0", "-data="}, 1,
			"local: port " + port + " is already in use (upload); choose another with -port\n"},
		{[]string{"-port", "x"}, 2, `invalid value "x" for flag -port`},
		{[]string{"-bogus"}, 2, "local: flag provided but not defined: -bogus (see -h)\n"},
		{[]string{"-log-level", "loud"}, 2, `local: -log-level "loud": want debug, info, warn or error (see -h)`},
		{[]string{"-h"}, 0, "Usage: go run ./app/local"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, tt.args...)
		var stderr testutil.SyncBuffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		cancel()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%q: %v", tt.args, err)
		}
		if code != tt.code || !strings.Contains(stderr.String(), tt.want) {
			t.Errorf("local %q: exit %d, stderr %q; want exit %d and %q", tt.args, code, stderr.String(), tt.code, tt.want)
		}
		// An error is said once, not before and after the usage.
		if line, _, _ := strings.Cut(tt.want, "\n"); tt.code == 2 && strings.Count(stderr.String(), strings.TrimPrefix(line, "local: ")) != 1 {
			t.Errorf("local %q: stderr %q; want the error once", tt.args, stderr.String())
		}
	}
}
