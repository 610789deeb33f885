package main

import (
	"errors"
	"flag"
	"io"
	"net"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	noenv := func(string) string { return "" }
	c, err := parseFlags(nil, noenv, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags(nil) error: %v", err)
	}
	want := config{port: 8080, rekogPort: 0, awsPort: 0, dataDir: ".localdata", bucket: "imagelabel-local",
		logLevel: "info", maxUpload: 10 << 20}
	if c != want {
		t.Errorf("defaults = %+v; want %+v", c, want)
	}

	c, err = parseFlags([]string{"-port", "0", "-log-level", "DEBUG", "-containers", "-keep"},
		func(k string) string { return map[string]string{"LOG_LEVEL": "warn"}[k] }, io.Discard)
	if err != nil {
		t.Fatalf("parseFlags error: %v", err)
	}
	if c.port != 0 || c.logLevel != "debug" || !c.containers || !c.keep {
		t.Errorf("parsed %+v", c)
	}
	c, _ = parseFlags(nil, func(k string) string { return map[string]string{"LOG_LEVEL": "warn"}[k] }, io.Discard)
	if c.logLevel != "warn" {
		t.Errorf("LOG_LEVEL=warn gave log level %q", c.logLevel)
	}

	if _, err := parseFlags([]string{"-h"}, noenv, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: err = %v; want flag.ErrHelp", err)
	}
	bad := []struct {
		args []string
		want string
	}{
		{[]string{"-port", "70000"}, "-port 70000: want 0..65535"},
		{[]string{"-rekog-port", "-1"}, "-rekog-port -1"},
		{[]string{"-port", "http"}, "invalid value"},
		{[]string{"-nope"}, "not defined"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"-containers", "-build-images"}, "pick one"},
		{[]string{"-log-level", "loud"}, `-log-level "loud"`},
		{[]string{"-max-upload-bytes", "0"}, "positive"},
		{[]string{"-bucket", " "}, "bucket"},
		{[]string{"-containers", "-data", "x"}, "-data does not apply to -containers"},
		{[]string{"-build-images", "-rekog-port", "1"}, "-rekog-port does not apply to -build-images"},
		{[]string{"-containers", "-aws-port=0"}, "-aws-port does not apply"},
		{[]string{"-keep"}, "-keep applies only to -containers"},
	}
	for _, tt := range bad {
		var stderr strings.Builder
		_, err := parseFlags(tt.args, noenv, &stderr)
		var ue usageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) || !strings.HasSuffix(err.Error(), " (see -h)") {
			t.Errorf("parseFlags(%q) = %v; want a usage error containing %q, ending (see -h)", tt.args, err, tt.want)
		}
		// main prints the error; parseFlags printing it (or the usage)
		// too would show it twice.
		if stderr.Len() > 0 {
			t.Errorf("parseFlags(%q) printed %q; want nothing (main prints the error once)", tt.args, stderr.String())
		}
	}
	var help strings.Builder
	if _, err := parseFlags([]string{"-h"}, noenv, &help); !errors.Is(err, flag.ErrHelp) || !strings.Contains(help.String(), "Usage: go run ./app/local") {
		t.Errorf("-h: err %v, printed %q; want flag.ErrHelp and the usage", err, help.String())
	}
}

func TestListenAllPortTaken(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := portOf(taken)

	lns, err := listenAll([]portSpec{{"upload", 0, "port"}, {"rekog", port, "rekog-port"}})
	if err == nil {
		for _, l := range lns {
			l.Close()
		}
		t.Fatalf("listenAll on taken port %d succeeded", port)
	}
	want := "port " + itoa(port) + " is already in use (rekog); choose another with -rekog-port"
	if err.Error() != want {
		t.Errorf("listenAll error = %q; want %q", err, want)
	}
	if err := checkFree(portSpec{"upload", port, "port"}); err == nil || !strings.Contains(err.Error(), "-port") {
		t.Errorf("checkFree(taken) = %v; want the port-taken message", err)
	}
	if err := checkFree(portSpec{"upload", 0, "port"}); err != nil {
		t.Errorf("checkFree(0) = %v", err)
	}
}
