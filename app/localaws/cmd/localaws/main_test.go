package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"imagelabel/app/localaws"
	"imagelabel/internal/testutil"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// start runs run() in the background and returns the address it listens on
// (read from its "listening" log line) and a channel with run's result.
func start(t *testing.T, ctx context.Context, args []string, getenv func(string) string) (string, <-chan error, *testutil.SyncBuffer) {
	t.Helper()
	var stderr testutil.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, getenv, io.Discard, &stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for line := range strings.SplitSeq(stderr.String(), "\n") {
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "listening" {
				return rec.Addr, done, &stderr
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run(%q) returned early: %v; stderr:\n%s", args, err, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("run(%q) never logged listening; stderr:\n%s", args, stderr.String())
	return "", nil, nil
}

func TestRunServesAndShutsDown(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data") // created on demand
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, done, stderr := start(t, ctx, []string{"-addr", "127.0.0.1:0", "-dir", dir, "-bucket", "one,two", "-bucket", "three"},
		env(map[string]string{"BUCKET": "ignored-when-flag-given"}))

	resp, err := http.Get("http://" + addr + "/_localaws/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"ok"`) {
		t.Errorf("healthz = %d %s", resp.StatusCode, body)
	}
	for _, b := range []string{"one", "two", "three"} {
		if st, err := os.Stat(filepath.Join(dir, b)); err != nil || !st.IsDir() {
			t.Errorf("bucket %s not created under %s: %v", b, dir, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "ignored-when-flag-given")); !os.IsNotExist(err) {
		t.Errorf("$BUCKET used although -bucket was given")
	}
	// An object PUT over plain HTTP lands as a file.
	req, _ := http.NewRequest(http.MethodPut, "http://"+addr+"/one/a/b.txt", strings.NewReader("hello"))
	req.Header.Set("Content-Type", "text/plain")
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("PUT = %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if b, err := os.ReadFile(filepath.Join(dir, "one", "a", "b.txt")); err != nil || string(b) != "hello" {
		t.Errorf("file one/a/b.txt = %q, %v; want hello", b, err)
	}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"-healthcheck", "-addr", addr}, env(nil), &out, io.Discard); err != nil {
		t.Errorf("run -healthcheck against a live server = %v", err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after cancel = %v; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if !strings.Contains(stderr.String(), `"msg":"stopped"`) {
		t.Errorf("no stopped log line; stderr:\n%s", stderr.String())
	}
	// Request lines time themselves as the services do.
	if !strings.Contains(stderr.String(), `"duration_ms":`) || strings.Contains(stderr.String(), `"duration":`) {
		t.Errorf("request log lines want duration_ms (and no duration); stderr:\n%s", stderr.String())
	}
	if err := run(context.Background(), []string{"-healthcheck", "-addr", addr}, env(nil), io.Discard, io.Discard); err == nil {
		t.Errorf("run -healthcheck against a stopped server = nil; want an error")
	}
}

func TestRunSIGTERM(t *testing.T) {
	addr, done, _ := start(t, context.Background(), []string{"-addr", "127.0.0.1:0", "-log-format", "json"},
		env(map[string]string{"BUCKET": "from-env"}))
	_ = addr
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run after SIGTERM = %v; want nil", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("run did not return after SIGTERM")
	}
}

func TestRunEnvDefaults(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	addr, done, _ := start(t, ctx, nil, env(map[string]string{"LOCALAWS_ADDR": "127.0.0.1:0", "LOCALAWS_DIR": dir, "BUCKET": "envbucket",
		"LOCALAWS_ALLOWED_HOSTS": "localaws.test, other.test"}))
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Errorf("addr = %q; want LOCALAWS_ADDR's host", addr)
	}
	for host, want := range map[string]int{"localaws.test:4566": 200, "other.test": 200, "evil.example": 403} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/_localaws/healthz", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("healthz with Host %q and LOCALAWS_ALLOWED_HOSTS set = %d; want %d", host, resp.StatusCode, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "envbucket")); err != nil {
		t.Errorf("bucket from $BUCKET not created in $LOCALAWS_DIR: %v", err)
	}
	cancel()
	<-done
}

func TestRunErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"port taken", []string{"-addr", ln.Addr().String()}, "listen on " + ln.Addr().String()},
		{"bad bucket", []string{"-addr", "127.0.0.1:0", "-bucket", "Not_Valid"}, "create bucket"},
		{"bad log format", []string{"-log-format", "xml"}, "log format"},
		{"bad log level", []string{"-log-level", "loud"}, "log level"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
		{"extra args", []string{"serve"}, "unexpected arguments"},
		{"healthcheck nothing listening", []string{"-healthcheck", "-addr", "127.0.0.1:1"}, "healthcheck"},
	}
	for _, tt := range tests {
		err := run(context.Background(), tt.args, env(nil), io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: run(%q) = %v; want error containing %q", tt.name, tt.args, err, tt.want)
		}
	}
	if err := run(context.Background(), []string{"-h"}, env(nil), io.Discard, io.Discard); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("run(-h) = %v; want nil", err)
	}
}

// TestIdleConnsClosedNearLimit: past half of MaxConns open connections, a
// connection that turns idle is closed, so keep-alive connections cannot
// hold the listener's slots while new clients wait; below it, keep-alive
// stays.
func TestIdleConnsClosedNearLimit(t *testing.T) {
	var c connTracker
	idle := func() bool { // reports whether an idle connection was closed
		a, b := net.Pipe()
		defer b.Close()
		c.track(a, http.StateIdle)
		_ = b.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := b.Read(make([]byte, 1))
		a.Close()
		return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe)
	}
	for range localaws.MaxConns / 2 {
		c.track(nil, http.StateNew)
	}
	if idle() {
		t.Errorf("with %d connections open an idle one was closed; want keep-alive", localaws.MaxConns/2)
	}
	c.track(nil, http.StateNew)
	if !idle() {
		t.Errorf("with %d connections open an idle one stayed open; want it closed", localaws.MaxConns/2+1)
	}
	c.track(nil, http.StateClosed)
	if idle() {
		t.Errorf("back to %d connections an idle one was closed", localaws.MaxConns/2)
	}
}
